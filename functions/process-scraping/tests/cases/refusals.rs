//! A creator API that refuses calls (429, `Retry-After`), as a per-key rate limit does: a refused
//! call is not paid for, a refused look-up is tried again until it is answered (its limited claims
//! untouched), a refused page waits and is tried again, and no search ends `error` for refusals
//! alone. A send that fails after a step's commit never ends the search either.

use std::time::Duration;

use crate::common::{assert_completed, assert_status, Stack, KEYWORD_PATH, PROFILE_PATH};
use db::settings::SettingsCache;
use pipeline::creator_api::CreatorApi;
use shared::config::CreatorApiConfig;
use testkit::{Chaos, Fault, Latency, LatencyModel, Replay, ReplayOptions};

/// The recipe's latency (1.8 s a page, 1.0 s a look-up) times `GEMZ_RECIPE_LATENCY_SCALE`
/// (default 0.2, so the suite stays quick; 1 reproduces the recipe's timings).
fn recipe_latency() -> LatencyModel {
    let scale: f64 = std::env::var("GEMZ_RECIPE_LATENCY_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.2);
    let fixed = |ms: f64| Latency {
        base: Duration::from_secs_f64(ms * scale / 1_000.0),
        jitter: Duration::ZERO,
    };
    LatencyModel {
        endpoints: vec![("/v1/tiktok/search".into(), fixed(1_800.0))],
        default: fixed(1_000.0),
    }
}

/// How many of the stored creators are in each enrichment state, and how many say in their JSON
/// (what `GET /jobs/{jobId}` and the exports read) that they were not looked up.
async fn enrichment_states(stack: &Stack) -> (i64, i64, i64, i64) {
    let row = stack
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FILTER (WHERE enrichment = 'pending'),
                    count(*) FILTER (WHERE enrichment = 'done'),
                    count(*) FILTER (WHERE enrichment = 'skipped'),
                    count(*) FILTER (WHERE creators ->> 'enrichment' = 'skipped')
               FROM scraping_results",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

/// The credits every search of the test counted.
async fn searches_credits(stack: &Stack) -> i64 {
    stack
        .db
        .client()
        .await
        .query_one(
            "SELECT coalesce(sum(credits_used), 0)::bigint FROM scraping_jobs",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn three_searches_against_an_api_refusing_past_two_calls_in_flight_pay_only_served_calls() {
    let replay = Replay::start_with(ReplayOptions {
        latency: Some(recipe_latency()),
        deep_pages: Some(12),
    })
    .await;
    let base_url = replay.base_url().to_owned();
    let mut stack = Stack::with(replay, "test-key").await;
    // The tests' leases are 20 s and their queue's visibility 30 s (production: 90 s and 360 s):
    // a delivery keeps retrying refused look-ups for 10 s here.
    stack.worker.refusal_patience = Duration::from_secs(10);
    // The production client's patience (the tests' 2 s would time out 1.8 s pages).
    let config = CreatorApiConfig {
        base_url,
        api_key: Some("test-key".into()),
        timeout: Duration::from_secs(20),
    };
    stack.worker.api = CreatorApi::new(&config, "test-key").unwrap();
    stack.replay.refuse_above(2);
    let jobs = [
        stack.keyword_search(&["nike"], 60).await,
        stack.keyword_search(&["airpods pro"], 60).await,
        stack.keyword_search(&["tech iPhone programming"], 60).await,
    ];
    // Three containers at once, five messages a batch (the template's event source mapping).
    stack
        .run_concurrently_until_idle(3, 5, Duration::from_secs(600))
        .await;

    let (served, refused) = (stack.replay.served(), stack.replay.refused());
    let credits = searches_credits(&stack).await;
    let ledger = stack.ledger().await;
    let (pending, enriched, not_enriched, marked) = enrichment_states(&stack).await;
    let pages = stack.replay.calls(KEYWORD_PATH);
    let lookups = stack.replay.calls(PROFILE_PATH);
    eprintln!(
        "recipe: served {served}, refused {refused} (pages asked {pages}, look-ups asked {lookups}); \
         credits: searches {credits}, ledger {ledger}; creators enriched {enriched}, not enriched \
         {not_enriched} (marked in their JSON: {marked}), pending {pending}"
    );
    for job in &jobs {
        let done = stack.status(job, 0, 1).await;
        assert_completed(&done, "target_reached");
        assert_eq!(done["processedResults"], 60);
        assert_eq!(done["enriching"], 0);
        stack.assert_consistent(job).await;
    }
    assert!(refused > 0, "the API refused calls");
    assert_eq!(
        credits, served as i64,
        "the searches count the served calls"
    );
    assert_eq!(ledger, served as i64, "the ledger counts the served calls");
    assert_eq!(pending, 0);
    assert_eq!(enriched + not_enriched, 180);
    assert_eq!(marked, not_enriched, "a creator not looked up says so");
    assert_eq!(not_enriched, 0, "refusals alone give no look-up up");
}

#[tokio::test]
async fn a_refused_page_waits_and_is_tried_again_past_the_receive_limit() {
    let stack = Stack::new().await;
    // More refusals than the queue delivers one message: each is a new message, not a delivery.
    stack.replay.inject(KEYWORD_PATH, Fault::Status(429), 4);
    let job = stack.keyword_search(&["nike"], 20).await;
    let done = stack.finish(&job).await;
    assert_completed(&done, "target_reached");
    assert_eq!(done["processedResults"], 20);
    assert_eq!(stack.tiktok_pages(), 5, "four refusals, then the page");
    let refused_at = stack.replay.log();
    assert_eq!(refused_at.iter().filter(|(_, _, s)| *s == 429).count(), 4);
    // The refused calls cost nothing: the page and the look-ups the API served.
    let served = stack.calls() as i64 - 4;
    assert_eq!(stack.credits_used(&job).await, served);
    assert_eq!(stack.ledger().await, served);
    assert!(stack.queue.dead_letters().await.is_empty());
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_lookup_refused_more_often_than_its_claims_is_tried_again_until_answered() {
    let mut stack = Stack::new().await;
    // Every refusal goes back to the queue at once (no retry within the delivery).
    stack.worker.refusal_patience = Duration::ZERO;
    let job = stack.keyword_search(&["airpods pro"], 5).await;
    stack.first_step().await;
    // Each of the five look-ups is refused four times: more than the row's three claims.
    stack.replay.inject(PROFILE_PATH, Fault::Status(429), 20);
    stack.run_until_idle().await;

    let (pending, enriched, not_enriched, _) = enrichment_states(&stack).await;
    assert_eq!((pending, enriched, not_enriched), (0, 5, 0));
    assert_eq!(
        stack.tiktok_lookups(),
        25,
        "each refused four times, then answered"
    );
    let attempts: Vec<i16> = stack
        .db
        .client()
        .await
        .query(
            "SELECT enrich_attempts FROM scraping_results WHERE job_id = $1::text::uuid",
            &[&job],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(attempts, [1, 1, 1, 1, 1], "a refusal spends no claim");
    // One page and five look-ups were served; twenty refusals cost nothing.
    assert_eq!(stack.credits_used(&job).await, 6);
    assert_eq!(stack.ledger().await, 6);
    for creator in stack.all_creators(&job).await {
        assert!(creator.get("enrichment").is_none(), "{creator}");
    }
    let csv = stack.csv(&job).await;
    assert!(
        csv.lines().skip(1).all(|l| !l.contains(",skipped,")),
        "{csv}"
    );
}

#[tokio::test]
async fn a_lookup_that_keeps_failing_is_given_up_and_the_creator_says_so() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["airpods pro"], 5).await;
    stack.first_step().await;
    // Server errors, unlike refusals, spend the row's claims: three each, then it is given up.
    stack.replay.inject(PROFILE_PATH, Fault::Status(503), 15);
    stack.run_until_idle().await;

    let (pending, enriched, not_enriched, marked) = enrichment_states(&stack).await;
    assert_eq!((pending, enriched, not_enriched, marked), (0, 0, 5, 5));
    assert_eq!(stack.tiktok_lookups(), 15);
    // The status page and the export show it; no 503 was paid for.
    let creators = stack.all_creators(&job).await;
    assert!(creators.iter().all(|c| c["enrichment"] == "skipped"));
    let csv = stack.csv(&job).await;
    let mut lines = csv.lines();
    // "Profile look-up" is followed by the creator facts.
    assert!(lines
        .next()
        .unwrap()
        .ends_with(",Profile look-up,Engagement rate,Region,Language,Links,Business email,Business phone,Other handles,Category"));
    assert!(lines.all(|l| l.contains(",skipped,")), "{csv}");
    assert_eq!(stack.credits_used(&job).await, 1);
    assert_status(&stack.status(&job, 0, 1).await, "completed");
}

#[tokio::test]
async fn a_send_failing_after_the_commit_of_a_last_delivery_leaves_the_search_to_the_sweeper() {
    let stack = Stack::new().await;
    // Step 0 fails twice (a server error), and its third and last delivery commits, but the
    // send of step 1 after the commit fails.
    stack.replay.inject(KEYWORD_PATH, Fault::Status(500), 2);
    stack.worker.queue.set(Chaos::FailSends(vec![1]));
    let job = stack.keyword_search(&["nike"], 1000).await;
    for _ in 0..3 {
        stack.first_step().await;
    }
    // The queue moves the spent message to its dead-letter queue.
    assert_eq!(stack.deliver_once().await, 0);
    let status = stack.status(&job, 0, 1).await;
    assert_status(&status, "processing");
    assert_eq!(status["processedRuns"], 1, "step 0 is applied");
    assert_eq!(
        stack.queue.dead_letters().await.len(),
        1,
        "its message is spent"
    );

    // A minute later the sweeper's outbox sends the step never sent, and the page's look-ups.
    stack
        .update_job(
            &job,
            "updated_at = updated_at - interval '1 minute', enqueued_at = enqueued_at - interval '1 minute'",
        )
        .await;
    stack
        .db
        .execute(
            "UPDATE scraping_results SET created_at = now() - interval '2 minutes'",
            &[],
        )
        .await;
    let sweeper = sweeper::State {
        pool: stack.db.pool.clone(),
        queue: stack.queue.queue(),
        settings: SettingsCache::new(Duration::ZERO),
        message_lifetime: Duration::from_secs(1800),
    };
    assert_eq!(sweeper::sweep(&sweeper).await.unwrap().resent, 1);
    let done = stack.finish(&job).await;
    assert_completed(&done, "results_exhausted");
    stack.assert_consistent(&job).await;
    assert_eq!(
        stack.credits_used(&job).await,
        stack.calls() as i64 - 2,
        "the two server errors cost nothing"
    );
}
