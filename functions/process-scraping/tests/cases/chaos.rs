//! Chaos through the real queue and database: PostgreSQL frozen mid-search, the SQS server
//! frozen, the creator API slowed to 30 s a call. After each, every search reaches a final state,
//! no creator appears twice, the credits equal the calls the API saw, nothing is left pending or
//! processing once the sweeper has run, and every HTTP request answered within its bound.
//! (A worker killed mid-enrichment is in `enrichment.rs`.)

use std::time::{Duration, Instant};

use crate::common::{assert_status, Stack, KEYWORD_PATH, PROFILE_PATH, USER};
use api::REQUEST_DEADLINE;
use db::settings::SettingsCache;
use serde_json::json;
use testkit::{body_json, ApiRequest, Chaos, ChaosQueue, Fault, FreezeProxy, TestQueue};

/// The bound the HTTP routes promise: 503 (or their answer) within 3 s.
const HTTP_BOUND: Duration = Duration::from_secs(3);

/// Runs the sweeper (as its schedule would, after the fault), delivers until idle, sweeps again.
async fn settle_everything(stack: &Stack) {
    let sweeper = sweeper::State {
        pool: stack.db.pool.clone(),
        queue: stack.queue.queue(),
        settings: SettingsCache::new(Duration::ZERO),
        message_lifetime: Duration::ZERO,
    };
    for _ in 0..3 {
        sweeper::sweep(&sweeper).await.unwrap();
        stack.run_until_idle().await;
    }
    assert_eq!(stack.running_jobs().await, 0, "no search is left running");
    assert_eq!(stack.enriching().await, 0, "no look-up is left pending");
}

/// Every creator-API call the replay saw is charged to the searches, exactly.
async fn assert_credits_exact(stack: &Stack) {
    let credits: i64 = stack
        .db
        .client()
        .await
        .query_one(
            "SELECT coalesce(sum(credits_used), 0)::bigint FROM scraping_jobs",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(credits, stack.calls() as i64);
}

/// After the fault: search `job` completed with its `results` creators, consistent, and every
/// call was charged.
async fn assert_recovered(stack: &Stack, job: &str, results: i64) {
    let done = stack.status(job, 0, 1).await;
    assert_status(&done, "completed");
    assert_eq!(done["processedResults"], results);
    stack.assert_consistent(job).await;
    assert_credits_exact(stack).await;
}

async fn status_through(pool: &db::Pool, job: &str) -> (u16, Duration) {
    let req = ApiRequest::new("GET", "/jobs/{jobId}")
        .user(USER)
        .path_param("jobId", job);
    let t = Instant::now();
    let res = job_status::handler(pool, req.build()).await;
    (res.status().as_u16(), t.elapsed())
}

#[tokio::test]
async fn postgres_frozen_for_20_s_mid_search_loses_nothing_and_http_answers_503_within_3_s() {
    let mut stack = Stack::new().await;
    // Failed records come back after 4 s, as after a visibility timeout: longer than a lease.
    stack.retry_visibility = 4;
    stack.worker.lease = Duration::from_secs(3);
    let proxy = FreezeProxy::start(stack.db.server_addr()).await;
    let pool = stack.db.pool_via(proxy.addr());
    stack.worker.pool = pool.clone();
    let job = stack.keyword_search(&["airpods pro"], 100).await;
    stack.first_step().await;
    let (status, _) = status_through(&pool, &job).await;
    assert_eq!(status, 200);

    // The next page call is under way when the database freezes: its commit cannot land.
    stack
        .replay
        .inject(KEYWORD_PATH, Fault::Delay(Duration::from_millis(500)), 1);
    let frozen_at = Instant::now();
    let worker_run = async {
        stack.deliver_once().await;
    };
    let chaos = async {
        while stack.replay.calls(KEYWORD_PATH) < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        proxy.freeze();
        // HTTP while frozen: a status poll and a start, each answered 503 within the bound.
        let (status, took) = status_through(&pool, &job).await;
        assert_eq!(status, 503);
        assert!(took <= HTTP_BOUND, "{took:?}");
        let start = start_scraping::State {
            pool: pool.clone(),
            queue: ChaosQueue::new(stack.queue.queue(), Chaos::None),
            settings: SettingsCache::new(Duration::ZERO),
        };
        let campaign = stack.campaign("keyword").await;
        let req = ApiRequest::new("POST", "/scraping/{platform}")
            .user(USER)
            .path_param("platform", "tiktok")
            .json(json!({"campaignId": campaign, "keywords": ["nike"], "targetResults": 20}));
        let t = Instant::now();
        let res = start_scraping::handler(&start, req.build()).await;
        assert_eq!(res.status(), 503, "{}", body_json(&res));
        assert!(t.elapsed() <= HTTP_BOUND, "{:?}", t.elapsed());
        tokio::time::sleep(Duration::from_secs(20).saturating_sub(frozen_at.elapsed())).await;
        proxy.thaw();
    };
    tokio::join!(worker_run, chaos);
    assert!(REQUEST_DEADLINE < HTTP_BOUND);

    settle_everything(&stack).await;
    assert_recovered(&stack, &job, 100).await;
    assert_eq!(
        stack.db.count("scraping_jobs").await,
        1,
        "the start refused while frozen wrote nothing"
    );
}

#[tokio::test]
async fn the_queue_frozen_for_10_s_loses_no_step_and_a_start_still_answers_202() {
    let mut stack = Stack::new().await;
    stack.retry_visibility = 2;
    let proxy = FreezeProxy::start(TestQueue::emulator_addr()).await;
    let endpoint = format!("http://{}", proxy.addr());
    stack.worker.queue = ChaosQueue::new(stack.queue.queue_via(&endpoint), Chaos::None);
    stack.start.queue = ChaosQueue::new(stack.queue.queue_via(&endpoint), Chaos::None);
    let first = stack.keyword_search(&["airpods pro"], 100).await;
    stack.first_step().await;

    proxy.freeze();
    let frozen_at = Instant::now();
    // A batch received just before the freeze: its commits land, its sends cannot.
    stack.deliver_once().await;
    // A start while the queue is frozen: committed, answered 202 within the bound; its first
    // step is the sweeper's to send.
    let campaign = stack.campaign("keyword").await;
    let t = Instant::now();
    let (status, answer) = stack
        .start_search(
            "tiktok",
            json!({"campaignId": campaign, "keywords": ["nike"], "targetResults": 20}),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    assert!(t.elapsed() <= HTTP_BOUND, "{:?}", t.elapsed());
    let second = answer["jobId"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(frozen_at.elapsed())).await;
    proxy.thaw();

    // The outbox: a start whose first send failed is sent by the sweeper after 10 s.
    stack
        .db
        .execute(
            "UPDATE scraping_jobs SET updated_at = now() - interval '1 minute' WHERE status = 'pending'",
            &[],
        )
        .await;
    settle_everything(&stack).await;
    for job in [&first, &second] {
        assert_status(&stack.status(job, 0, 1).await, "completed");
        stack.assert_consistent(job).await;
    }
    assert_eq!(stack.status(&first, 0, 1).await["processedResults"], 100);
    assert_credits_exact(&stack).await;
    assert!(stack.queue.dead_letters().await.is_empty());
}

#[tokio::test]
async fn the_creator_api_slowed_to_30_s_a_call_for_a_while_costs_retries_not_correctness() {
    let mut stack = Stack::new().await;
    stack.retry_visibility = 0;
    let job = stack.keyword_search(&["airpods pro"], 60).await;
    // The first two page calls and five look-ups take 30 s: past the client's timeout (2 s
    // here), so each is given up, counted and charged, and retried or left as found.
    stack
        .replay
        .inject(KEYWORD_PATH, Fault::Delay(Duration::from_secs(30)), 2);
    stack
        .replay
        .inject(PROFILE_PATH, Fault::Delay(Duration::from_secs(30)), 5);
    let polls = async {
        for _ in 0..10 {
            let (status, took) = status_through(&stack.db.pool, &job).await;
            assert_eq!(status, 200);
            assert!(took <= HTTP_BOUND, "{took:?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    tokio::join!(stack.run_until_idle(), polls);

    settle_everything(&stack).await;
    assert_recovered(&stack, &job, 60).await;
    let given_up = stack
        .replay
        .log()
        .iter()
        .filter(|(path, _, status)| path == KEYWORD_PATH && *status == 0)
        .count();
    assert_eq!(
        given_up, 2,
        "the two slow page calls were given up (and charged)"
    );
}
