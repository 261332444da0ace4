//! Enrichment apart from the page chain: a page's creators are visible as soon as the page lands,
//! the next page is asked for at once, and look-ups run as their own messages, each paid for
//! once, stopped by a cancel, repaired after a lost send or a killed worker.

use std::time::Duration;

use crate::common::{Stack, USER};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde_json::json;
use testkit::{body_json, ApiRequest, Chaos, Fault};

const KEYWORD_PATH: &str = "/v1/tiktok/search/keyword";
const PROFILE_PATH: &str = "/v1/tiktok/profile";

/// How many of the job's creators are in each enrichment state.
async fn states(stack: &Stack, job: &str) -> (i64, i64, i64) {
    let row = stack
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FILTER (WHERE enrichment = 'pending'),
                    count(*) FILTER (WHERE enrichment = 'done'),
                    count(*) FILTER (WHERE enrichment = 'skipped')
               FROM scraping_results WHERE job_id = $1::text::uuid",
            &[&job],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

/// The job's credits, and every call the replay answered.
async fn credits_and_calls(stack: &Stack, job: &str) -> (i64, usize) {
    let credits: i32 = stack
        .db
        .client()
        .await
        .query_one(
            "SELECT credits_used FROM scraping_jobs WHERE id = $1::text::uuid",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    (i64::from(credits), stack.replay.log().len())
}

/// An answer that gives every record of `event` back to the queue.
fn all_failed(event: &SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = event
        .records
        .iter()
        .map(|r| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = r.message_id.clone().unwrap_or_default();
            failure
        })
        .collect();
    response
}

#[tokio::test]
async fn a_pages_creators_are_visible_at_once_and_the_next_page_does_not_wait_for_lookups() {
    let stack = Stack::new().await;
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 60}),
        )
        .await;
    assert_eq!(stack.deliver_once().await, 1, "the first step alone");
    let first = stack.status(&job, 0, 100).await;
    let found = first["processedResults"].as_i64().unwrap();
    assert!(found > 20, "{first}");
    assert_eq!(first["status"], "processing");
    assert_eq!(first["creators"].as_array().unwrap().len() as i64, found);
    assert_eq!(stack.replay.calls(KEYWORD_PATH), 1);
    assert_eq!(
        stack.replay.calls(PROFILE_PATH),
        0,
        "no look-up in the step"
    );
    let (pending, _, _) = states(&stack, &job).await;
    assert_eq!(first["enriching"].as_i64(), Some(pending));
    assert!(pending > 0, "keyword pages carry no bios");
    let enqueued: i32 = stack
        .db
        .client()
        .await
        .query_one(
            "SELECT enqueued_step FROM scraping_jobs WHERE id = $1::text::uuid",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(enqueued, 1, "the next page was sent with the page's commit");

    stack.run_until_idle().await;
    let done = stack.status(&job, 0, 100).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["completionReason"], "target_reached");
    assert_eq!(done["processedResults"], 60);
    assert_eq!(done["enriching"], 0);
    let (pending, enriched, skipped) = states(&stack, &job).await;
    assert_eq!((pending, skipped), (0, 0));
    // The floor: one call per page, one per creator without a bio.
    let pages = stack.replay.calls(KEYWORD_PATH);
    assert_eq!(stack.replay.calls(PROFILE_PATH) as i64, enriched);
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!(credits, calls as i64);
    assert_eq!(calls as i64, pages as i64 + enriched);
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn every_lookup_is_made_once_when_every_message_is_delivered_twice() {
    let stack = Stack::new().await;
    stack.worker.queue.set(Chaos::Duplicate);
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 60}),
        )
        .await;
    stack.run_until_idle().await;
    assert!(stack.worker.queue.enrichment_sends() > 0);
    let (pending, enriched, skipped) = states(&stack, &job).await;
    assert_eq!((pending, skipped), (0, 0));
    assert_eq!(
        stack.replay.calls(PROFILE_PATH) as i64,
        enriched,
        "each creator looked up once"
    );
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!(credits, calls as i64);
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn cancelling_a_search_stops_its_pending_lookups() {
    let stack = Stack::new().await;
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 200}),
        )
        .await;
    assert_eq!(stack.deliver_once().await, 1);
    let (pending, _, _) = states(&stack, &job).await;
    assert!(pending > 0);
    let req = ApiRequest::new("POST", "/jobs/{jobId}/cancel")
        .user(USER)
        .path_param("jobId", &job);
    let res = cancel_job::handler(&stack.db.pool, req.build()).await;
    assert_eq!(res.status(), 200, "{}", body_json(&res));

    stack.run_until_idle().await;
    assert_eq!(
        stack.replay.calls(PROFILE_PATH),
        0,
        "no look-up after the cancel"
    );
    assert_eq!(stack.replay.calls(KEYWORD_PATH), 1);
    let (left, done, skipped) = states(&stack, &job).await;
    assert_eq!((left, done, skipped), (0, 0, pending));
    let status = stack.status(&job, 0, 1).await;
    assert_eq!(status["status"], "cancelled");
    assert_eq!(status["enriching"], 0);
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!((credits, calls), (1, 1));
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_lost_enrichment_send_is_sent_when_the_step_comes_back() {
    let stack = Stack::new().await;
    stack.worker.queue.set(Chaos::FailEnrichmentSends(vec![1]));
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 60}),
        )
        .await;
    stack.run_until_idle().await;
    let (pending, enriched, skipped) = states(&stack, &job).await;
    assert_eq!((pending, skipped), (0, 0));
    assert_eq!(stack.replay.calls(PROFILE_PATH) as i64, enriched);
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!(credits, calls as i64);
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_search_out_of_credits_skips_the_lookups_it_cannot_pay_for() {
    let stack = Stack::new().await;
    stack.setting("credits_per_search_trial", "8").await;
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 1000}),
        )
        .await;
    stack.run_until_idle().await;
    let done = stack.status(&job, 0, 1).await;
    assert_eq!(done["completionReason"], "credit_limit", "{done}");
    let (pending, enriched, skipped) = states(&stack, &job).await;
    assert_eq!(pending, 0);
    assert!(skipped > 0, "the rest is left as found");
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!(credits, calls as i64);
    // One page, then look-ups up to the cap exactly: each is charged before it is made, and only
    // while the search is under its cap.
    assert_eq!(stack.replay.calls(KEYWORD_PATH), 1);
    assert_eq!(credits, 8);
    assert_eq!(enriched, 7);
}

#[tokio::test]
async fn a_worker_killed_mid_enrichment_loses_nothing_and_pays_each_call_once() {
    let stack = Stack::new().await;
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 25}),
        )
        .await;
    assert_eq!(stack.deliver_once().await, 1, "the first step");
    // The first enrichment message's look-ups hang; the worker dies while they are in flight.
    stack
        .replay
        .inject(PROFILE_PATH, Fault::Delay(Duration::from_secs(20)), 5);
    let mut event = stack.queue.receive(Duration::from_secs(1)).await.unwrap();
    assert!(
        event
            .records
            .iter()
            .all(|r| r.body.as_deref().unwrap().contains("enrich")),
        "the search completed with its page: only enrichment is left"
    );
    // One record for the worker that dies; the others go back to the queue.
    let mut rest = event.clone();
    rest.records = event.records.split_off(1);
    stack.queue.settle(&rest, &all_failed(&rest)).await;
    let worker = &stack.worker;
    {
        let run = process_scraping::handler(worker, event.clone());
        tokio::pin!(run);
        tokio::select! {
            _ = &mut run => panic!("the look-ups were meant to hang"),
            _ = async {
                while stack.replay.calls(PROFILE_PATH) < 5 {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            } => {}
        }
        // Dropping the future here is the worker dying: no commit, no answer to SQS.
    }
    let held: i64 = stack
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM scraping_results WHERE job_id = $1::text::uuid AND enrich_token IS NOT NULL",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(held, 5, "the dead worker's rows stay leased");
    // Its lease runs out and SQS delivers the message again.
    stack
        .db
        .client()
        .await
        .execute(
            "UPDATE scraping_results SET enrich_lease_until = now() - interval '1 second'
              WHERE job_id = $1::text::uuid AND enrich_token IS NOT NULL",
            &[&job],
        )
        .await
        .unwrap();
    stack.queue.settle(&event, &all_failed(&event)).await;
    stack.run_until_idle().await;

    let (pending, enriched, skipped) = states(&stack, &job).await;
    assert_eq!((pending, skipped), (0, 0));
    // The five killed calls reached the API and were charged before they were made; their
    // creators were looked up again.
    assert_eq!(
        stack.replay.calls(PROFILE_PATH) as i64,
        enriched + 5,
        "the killed calls, then every creator once"
    );
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!(
        credits, calls as i64,
        "every call that reached the API is charged"
    );
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_search_that_times_out_stops_its_pending_lookups() {
    let stack = Stack::new().await;
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 200}),
        )
        .await;
    assert_eq!(stack.deliver_once().await, 1);
    let (pending, _, _) = states(&stack, &job).await;
    assert!(pending > 0);
    stack
        .db
        .client()
        .await
        .execute(
            "UPDATE scraping_jobs SET timeout_at = now() - interval '1 second' WHERE id = $1::text::uuid",
            &[&job],
        )
        .await
        .unwrap();
    // Polling notices the deadline and stores the timeout.
    assert_eq!(stack.status(&job, 0, 1).await["status"], "timeout");
    stack.run_until_idle().await;
    assert_eq!(
        stack.replay.calls(PROFILE_PATH),
        0,
        "no look-up after the timeout"
    );
    assert_eq!(states(&stack, &job).await, (0, 0, pending));
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!((credits, calls), (1, 1));
    stack.assert_consistent(&job).await;
}
