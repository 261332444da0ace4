//! Every record is bounded by the invocation's time: one that cannot finish comes back before
//! Lambda would end the invocation, and on its last delivery its search still ends as `error`.

use std::time::{Duration, SystemTime};

use crate::common::{assert_error, assert_status, Stack, KEYWORD_PATH, MAX_RECEIVES};
use testkit::Fault;

#[tokio::test]
async fn a_record_that_outlives_the_invocation_is_reported_failed_and_its_last_delivery_ends_the_search(
) {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["nike"], 20).await;
    // The creator API takes far longer than the invocation has left.
    stack
        .replay
        .inject(KEYWORD_PATH, Fault::Delay(Duration::from_secs(30)), 10);
    let event = stack
        .queue
        .receive(Duration::from_secs(2))
        .await
        .expect("the first step");
    let deadline = SystemTime::now() + process_scraping::MARGIN + Duration::from_millis(500);
    let response =
        process_scraping::handle_batch(&stack.worker, event.clone(), Some(deadline)).await;
    assert_eq!(response.batch_item_failures.len(), 1, "it comes back");
    assert_status(&stack.status(&job, 0, 1).await, "processing");
    // Its lease runs out before SQS shows the message again (90 s against 360 s in production).
    stack
        .update_job(&job, "lease_expires_at = now() - interval '1 second'")
        .await;

    // The same record on its last delivery: the search ends with a message for the user.
    let mut last = event.clone();
    last.records[0]
        .attributes
        .insert("ApproximateReceiveCount".into(), MAX_RECEIVES.to_string());
    let deadline = SystemTime::now() + process_scraping::MARGIN + Duration::from_millis(500);
    let response = process_scraping::handle_batch(&stack.worker, last, Some(deadline)).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    // The budget's own message: the API's 2 s timeout would have ended it with another.
    assert_error(&stack.status(&job, 0, 1).await, "running out of time");
}
