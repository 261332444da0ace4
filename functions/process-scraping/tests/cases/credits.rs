//! Credits: every creator-API call a search makes that the API bills is counted on the search and
//! in its user's ledger, exactly, under duplicates, crashes after the commit and retries (a
//! refusal or a server error is not billed); and a search stops at its own cap and at its user's
//! budget for the period.

use crate::common::{assert_completed, assert_status, Stack, KEYWORD_PATH, PROFILE_PATH};
use testkit::{Chaos, Fault};

/// Every call the replay answered, and the search's and the ledger's counts.
async fn counts(stack: &Stack, job: &str) -> (usize, i64, i64) {
    let calls = stack.calls();
    (calls, stack.credits_used(job).await, stack.ledger().await)
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
    let job = stack.keyword_search(&["airpods pro"], 60).await;
    stack.run_until_idle().await;
    let log = stack.replay.log();
    assert!(
        log.iter().any(|(p, _, _)| p == PROFILE_PATH),
        "look-ups were made"
    );
    assert_exact(&stack, &job).await;
}

#[tokio::test]
async fn credits_stay_exact_when_every_message_is_delivered_twice() {
    let stack = Stack::new().await;
    stack.worker.queue.set(Chaos::Duplicate);
    stack.start.queue.set(Chaos::Duplicate);
    let job = stack.keyword_search(&["nike"], 1000).await;
    stack.run_until_idle().await;
    assert_exact(&stack, &job).await;
}

#[tokio::test]
async fn credits_stay_exact_when_the_worker_dies_after_its_commit() {
    let stack = Stack::new().await;
    stack.worker.queue.set(Chaos::FailSends(vec![1, 2]));
    let job = stack.keyword_search(&["nike"], 1000).await;
    assert_status(&stack.finish(&job).await, "completed");
    assert_exact(&stack, &job).await;
}

#[tokio::test]
async fn a_refused_or_failed_call_costs_nothing_and_its_served_retry_counts() {
    let stack = Stack::new().await;
    stack.replay.inject(KEYWORD_PATH, Fault::Status(429), 1);
    stack.replay.inject(KEYWORD_PATH, Fault::Status(500), 1);
    let job = stack.keyword_search(&["nike"], 1000).await;
    stack.run_until_idle().await;
    let failed = stack
        .replay
        .log()
        .iter()
        .filter(|(p, _, s)| p == KEYWORD_PATH && *s >= 400)
        .count();
    assert_eq!(failed, 2);
    // The API bills what it served: neither the refusal nor the server error.
    let served = stack.calls() as i64 - 2;
    assert_eq!(stack.credits_used(&job).await, served);
    assert_eq!(stack.ledger().await, served);
    assert_eq!(stack.status(&job, 0, 1).await["creditsUsed"], served);
}

#[tokio::test]
async fn a_search_stops_at_its_credit_cap_and_keeps_its_creators() {
    let stack = Stack::new().await;
    stack.setting("credits_per_search_trial", "5").await;
    let job = stack.keyword_search(&["airpods pro"], 1000).await;
    let done = stack.finish(&job).await;
    assert_completed(&done, "credit_limit");
    assert!(done["processedResults"].as_i64().unwrap() > 0);
    let (calls, job_credits, _) = counts(&stack, &job).await;
    assert_eq!(job_credits, calls as i64);
    // One step (a page and its look-ups) may pass the cap; no step starts past it.
    assert_eq!(
        stack.tiktok_pages(),
        1,
        "the second page is never requested"
    );
}

#[tokio::test]
async fn a_running_search_ends_when_its_user_spends_the_periods_budget() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["airpods pro"], 1000).await;
    stack.first_step().await;
    // The rest of the period's budget goes elsewhere (another search of the user, say).
    stack.setting("period_credits_trial", "40").await;
    let done = stack.finish(&job).await;
    assert_completed(&done, "credit_limit");
    assert!(
        done["processedResults"].as_i64().unwrap() > 0,
        "its creators are kept"
    );
    let (calls, job_credits, ledger) = counts(&stack, &job).await;
    assert_eq!((job_credits, ledger), (calls as i64, calls as i64));
}
