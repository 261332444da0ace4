//! Credits: every creator-API call a search makes is counted on the search and in its user's
//! ledger, exactly, under duplicates, crashes after the commit and retries; and a search stops at
//! its own cap and at its user's budget for the period.

use crate::common::{Stack, USER};
use serde_json::json;
use testkit::{Chaos, Fault};

const KEYWORD_PATH: &str = "/v1/tiktok/search/keyword";

/// Every call the replay answered, and the search's and the ledger's counts.
async fn counts(stack: &Stack, job: &str) -> (usize, i64, i64) {
    let calls = stack.replay.log().len();
    let client = stack.db.client().await;
    let job_credits: i32 = client
        .query_one(
            "SELECT credits_used FROM scraping_jobs WHERE id = $1::text::uuid",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    let ledger: i64 = client
        .query_one(
            "SELECT COALESCE(sum(credits), 0)::bigint FROM credit_ledger WHERE user_id = $1",
            &[&USER],
        )
        .await
        .unwrap()
        .get(0);
    (calls, i64::from(job_credits), ledger)
}

async fn assert_exact(stack: &Stack, job: &str) {
    let (calls, job_credits, ledger) = counts(stack, job).await;
    assert!(calls > 0);
    assert_eq!(job_credits, calls as i64, "the search counts every call");
    assert_eq!(ledger, calls as i64, "the ledger counts every call");
    let shown = stack.status(job, 0, 1).await;
    assert_eq!(shown["creditsUsed"], calls as i64);
}

#[tokio::test]
async fn a_search_counts_every_page_and_look_up_it_paid_for() {
    let stack = Stack::new().await;
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 60}),
        )
        .await;
    stack.run_until_idle().await;
    let log = stack.replay.log();
    assert!(
        log.iter().any(|(p, _, _)| p == "/v1/tiktok/profile"),
        "look-ups were made"
    );
    assert_exact(&stack, &job).await;
}

#[tokio::test]
async fn credits_stay_exact_when_every_message_is_delivered_twice() {
    let stack = Stack::new().await;
    stack.worker.queue.set(Chaos::Duplicate);
    stack.start.queue.set(Chaos::Duplicate);
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["nike"], "targetResults": 1000}),
        )
        .await;
    stack.run_until_idle().await;
    assert_exact(&stack, &job).await;
}

#[tokio::test]
async fn credits_stay_exact_when_the_worker_dies_after_its_commit() {
    let stack = Stack::new().await;
    stack.worker.queue.set(Chaos::FailSends(vec![1, 2]));
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["nike"], "targetResults": 1000}),
        )
        .await;
    stack.run_until_idle().await;
    assert_eq!(stack.status(&job, 0, 1).await["status"], "completed");
    assert_exact(&stack, &job).await;
}

#[tokio::test]
async fn retried_calls_are_counted_too() {
    let stack = Stack::new().await;
    stack.replay.inject(KEYWORD_PATH, Fault::Status(429), 1);
    stack.replay.inject(KEYWORD_PATH, Fault::Status(500), 1);
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["nike"], "targetResults": 1000}),
        )
        .await;
    stack.run_until_idle().await;
    let failed = stack
        .replay
        .log()
        .iter()
        .filter(|(p, _, s)| p == KEYWORD_PATH && *s >= 400)
        .count();
    assert_eq!(failed, 2);
    assert_exact(&stack, &job).await;
}

#[tokio::test]
async fn a_search_stops_at_its_credit_cap_and_keeps_its_creators() {
    let stack = Stack::new().await;
    stack.setting("credits_per_search_trial", "5").await;
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 1000}),
        )
        .await;
    stack.run_until_idle().await;
    let done = stack.status(&job, 0, 1).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["completionReason"], "credit_limit");
    assert!(done["processedResults"].as_i64().unwrap() > 0);
    let (calls, job_credits, _) = counts(&stack, &job).await;
    assert_eq!(job_credits, calls as i64);
    // One step (a page and its look-ups) may pass the cap; no step starts past it.
    let pages = stack.replay.calls(KEYWORD_PATH);
    assert_eq!(pages, 1, "the second page is never requested");
}

#[tokio::test]
async fn a_running_search_ends_when_its_user_spends_the_periods_budget() {
    let stack = Stack::new().await;
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 1000}),
        )
        .await;
    assert_eq!(stack.deliver_once().await, 1);
    // The rest of the period's budget goes elsewhere (another search of the user, say).
    stack.setting("period_credits_trial", "40").await;
    stack.run_until_idle().await;
    let done = stack.status(&job, 0, 1).await;
    assert_eq!(done["completionReason"], "credit_limit", "{done}");
    assert!(
        done["processedResults"].as_i64().unwrap() > 0,
        "its creators are kept"
    );
    let (calls, job_credits, ledger) = counts(&stack, &job).await;
    assert_eq!((job_credits, ledger), (calls as i64, calls as i64));
}
