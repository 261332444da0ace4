//! Searches under duplicates, crashes, provider failures, cancellation, timeouts and bad messages.

use crate::common::{
    assert_completed, assert_error, assert_status, tiktok_authors, Stack, KEYWORD_PATH,
    MAX_RECEIVES,
};
use serde_json::json;
use testkit::{Chaos, Fault, Replay};

#[tokio::test]
async fn every_message_delivered_twice_still_applies_each_step_once() {
    let stack = Stack::new().await;
    stack.worker.queue.set(Chaos::Duplicate);
    stack.start.queue.set(Chaos::Duplicate);
    let job = stack.keyword_search(&["airpods pro"], 100).await;
    let done = stack.finish(&job).await;
    assert_status(&done, "completed");
    let expected = tiktok_authors("airpods-pro", 1..=4);
    assert_eq!(done["processedResults"], expected.len().min(100));
    assert_eq!(
        stack.tiktok_pages(),
        done["processedRuns"].as_u64().unwrap() as usize,
        "one paid search call per step"
    );
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_duplicate_delivered_in_the_same_batch_does_the_work_once() {
    let stack = Stack::new().await;
    stack.start.queue.set(Chaos::Duplicate);
    let job = stack.keyword_search(&["nike"], 20).await;
    let done = stack.finish(&job).await;
    assert_status(&done, "completed");
    assert_eq!(done["processedResults"], 20);
    assert_eq!(
        stack.tiktok_pages(),
        1,
        "the second copy of step 0 made no call"
    );
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_crash_between_commit_and_send_does_not_strand_the_job() {
    let stack = Stack::new().await;
    // The worker's first send (step 1, after step 0 committed) fails, as if the process died there.
    stack.worker.queue.set(Chaos::FailSends(vec![1]));
    let job = stack.keyword_search(&["nike"], 1000).await;
    let done = stack.finish(&job).await;
    assert_completed(&done, "results_exhausted");
    assert_eq!(
        done["processedResults"],
        tiktok_authors("nike", 1..=3).len()
    );
    assert_eq!(done["processedRuns"], 3);
    assert_eq!(
        stack.tiktok_pages(),
        3,
        "the committed page was not fetched again"
    );
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn bursts_of_429_and_500_are_retried_until_the_search_succeeds() {
    let stack = Stack::new().await;
    stack.replay.inject(KEYWORD_PATH, Fault::Status(429), 2);
    let job = stack.keyword_search(&["nike"], 40).await;
    // Step 0 fails twice (429, 429) then succeeds on the third and last delivery.
    let done = stack.finish(&job).await;
    assert_status(&done, "completed");
    assert_eq!(done["processedResults"], 40);
    stack.assert_consistent(&job).await;

    let stack = Stack::new().await;
    let job = stack.keyword_search(&["nike"], 40).await;
    stack.deliver_once().await;
    stack.replay.inject(KEYWORD_PATH, Fault::Status(500), 1);
    stack.replay.inject(KEYWORD_PATH, Fault::Malformed, 1);
    let done = stack.finish(&job).await;
    assert_status(&done, "completed");
    assert_eq!(done["processedResults"], 40);
}

#[tokio::test]
async fn a_provider_that_keeps_failing_ends_the_job_on_the_last_delivery_with_a_clear_message() {
    let stack = Stack::new().await;
    stack.replay.inject(KEYWORD_PATH, Fault::Status(503), 10);
    let job = stack.search("tiktok", json!({"keywords": ["nike"]})).await;
    assert_error(&stack.finish(&job).await, "did not answer correctly");
    assert_eq!(stack.tiktok_pages(), MAX_RECEIVES as usize);
    assert!(
        stack.queue.dead_letters().await.is_empty(),
        "the job ended; nothing left to redrive"
    );
}

#[tokio::test]
async fn a_provider_timeout_is_retried() {
    let stack = Stack::new().await;
    // The client gives up after 2 s.
    stack.replay.inject(
        KEYWORD_PATH,
        Fault::Delay(std::time::Duration::from_secs(3)),
        1,
    );
    let job = stack.keyword_search(&["nike"], 10).await;
    assert_status(&stack.finish(&job).await, "completed");
    assert_eq!(stack.tiktok_pages(), 2);
}

#[tokio::test]
async fn a_rejected_api_key_ends_the_job_at_once() {
    let stack = Stack::with(Replay::start_with_key("the-real-key").await, "a-wrong-key").await;
    let job = stack.search("tiktok", json!({"keywords": ["nike"]})).await;
    assert_error(&stack.finish(&job).await, "rejected our credentials");
    assert_eq!(stack.tiktok_pages(), 1, "no retries for a bad key");
}

#[tokio::test]
async fn private_deactivated_and_missing_targets_end_the_job_at_once() {
    let stack = Stack::with(Replay::start_with_documented().await, "k").await;
    let cases = [
        (
            "hidden.account",
            "The TikTok account @hidden.account is private, so similar creators cannot be found.",
        ),
        (
            "gone.account",
            "The TikTok account @gone.account is deactivated.",
        ),
        (
            "never.recorded",
            "The TikTok account @never.recorded was not found.",
        ),
    ];
    let mut jobs = Vec::new();
    for (target, _) in cases {
        jobs.push(stack.search("tiktok", json!({"username": target})).await);
    }
    stack.run_until_idle().await;
    for ((_, message), job) in cases.iter().zip(&jobs) {
        let done = stack.status(job, 0, 1).await;
        assert_status(&done, "error");
        assert_eq!(done["error"], *message);
    }
    assert_eq!(stack.tiktok_lookups(), 3, "one look-up each, no retries");
    assert_eq!(stack.replay.calls("/v1/tiktok/search/users"), 0);
}

#[tokio::test]
async fn a_search_cancelled_mid_run_makes_no_further_calls_and_keeps_its_creators() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["airpods pro"], 1000).await;
    stack.first_step().await;
    let (status, answer) = stack.cancel(&job).await;
    assert_eq!(status, 200, "{answer}");
    let done = stack.finish(&job).await;
    assert_status(&done, "cancelled");
    assert_eq!(stack.tiktok_pages(), 1);
    assert!(done["processedResults"].as_i64().unwrap() > 0);
    stack.assert_consistent(&job).await;

    let (again, answer) = stack.cancel(&job).await;
    assert_eq!(again, 409, "{answer}");
}

#[tokio::test]
async fn a_search_past_its_deadline_ends_as_timeout() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["airpods pro"], 1000).await;
    stack.first_step().await;
    stack.pass_deadline(&job).await;
    assert_status(&stack.finish(&job).await, "timeout");
    assert_eq!(stack.tiktok_pages(), 1);
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn polling_a_search_past_its_deadline_reports_and_stores_timeout() {
    let stack = Stack::new().await;
    let job = stack.search("tiktok", json!({"keywords": ["nike"]})).await;
    stack.pass_deadline(&job).await;
    assert_status(&stack.status(&job, 0, 1).await, "timeout");
    assert_eq!(stack.job_value(&job, "status").await, "timeout", "stored");
}

#[tokio::test]
async fn a_malformed_message_goes_to_the_dead_letter_queue_without_harming_its_batch() {
    let stack = Stack::new().await;
    stack.queue.send_raw("this is not a step").await;
    stack
        .queue
        .send_raw(r#"{"jobId": "not-a-uuid", "step": 0}"#)
        .await;
    let job = stack.keyword_search(&["nike"], 30).await;
    assert_status(&stack.finish(&job).await, "completed");
    let mut dead = stack.queue.dead_letters().await;
    dead.sort();
    assert_eq!(
        dead,
        [
            "this is not a step",
            r#"{"jobId": "not-a-uuid", "step": 0}"#
        ]
    );
}

#[tokio::test]
async fn the_api_call_limit_ends_a_search_as_completed_with_its_reason() {
    let stack = Stack::new().await;
    stack.setting("max_api_calls_tiktok_keyword", "2").await;
    let job = stack.keyword_search(&["airpods pro"], 1000).await;
    let done = stack.finish(&job).await;
    assert_completed(&done, "api_limit_reached");
    assert_eq!(done["progress"], 100);
    assert_eq!(stack.tiktok_pages(), 2);
}

#[tokio::test]
async fn two_keywords_are_searched_one_after_the_other() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["nike", "airpods pro"], 1000).await;
    stack.setting("max_api_calls_tiktok_keyword", "4").await;
    stack.run_until_idle().await;
    let creators = stack.all_creators(&job).await;
    let nike = tiktok_authors("nike", 1..=3).len();
    assert_eq!(creators[0]["foundBy"], json!({"keyword": "nike"}));
    assert_eq!(creators[nike]["foundBy"], json!({"keyword": "airpods pro"}));
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_searchs_deadline_counts_from_its_first_step_not_from_its_queueing() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["nike"], 1000).await;
    // Queued for a long while: a minute of the queue deadline is left.
    stack
        .update_job(&job, "timeout_at = now() + interval '1 minute'")
        .await;
    stack.first_step().await;
    let left = stack
        .job_value(&job, "extract(epoch FROM timeout_at - started_at)::float8")
        .await
        .as_f64()
        .unwrap();
    assert!(
        (left - 3600.0).abs() < 5.0,
        "the hour counts from the start: {left}"
    );
}

#[tokio::test]
async fn a_search_whose_stored_cursor_cannot_be_read_ends_as_error_without_paying_again() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["nike"], 90).await;
    stack.first_step().await;
    let calls = stack.tiktok_pages();
    assert_eq!(calls, 1);
    let found = stack.status(&job, 0, 1).await["processedResults"].clone();
    assert!(found.as_i64().unwrap() > 0);
    stack
        .update_job(&job, r#"cursor = '{"kind": "teleport"}'"#)
        .await;
    let done = stack.finish_page(&job, 100).await;
    assert_error(&done, "saved position could not be read");
    assert_eq!(stack.tiktok_pages(), calls, "no page is requested again");
    assert_eq!(
        done["processedResults"], found,
        "the first page's creators are kept"
    );
}
