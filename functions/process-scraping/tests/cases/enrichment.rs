//! Enrichment apart from the page chain: a page's creators are visible as soon as the page lands,
//! the next page is asked for at once, and look-ups run as their own messages, each paid for
//! once, stopped by a cancel, repaired after a lost send or a killed worker.

use std::time::Duration;

use crate::common::{assert_completed, assert_status, Stack, PROFILE_PATH};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use testkit::{Chaos, Fault};

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
    (stack.credits_used(job).await, stack.calls())
}

/// Starts a search and runs its first step alone: the page's creators wait for their look-ups.
/// Returns the job and how many creators wait.
async fn first_page_awaiting_lookups(stack: &Stack) -> (String, i64) {
    let job = stack.keyword_search(&["airpods pro"], 200).await;
    stack.first_step().await;
    let (pending, _, _) = states(stack, &job).await;
    assert!(pending > 0);
    (job, pending)
}

/// After the search: every creator was looked up once (no look-up left pending or skipped), the
/// look-ups the API saw are those plus `killed` given up mid-call, and the job paid for every call
/// that reached the API. Returns how many creators were looked up.
async fn assert_all_looked_up_once(stack: &Stack, job: &str, killed: i64) -> i64 {
    let (pending, enriched, skipped) = states(stack, job).await;
    assert_eq!((pending, skipped), (0, 0));
    assert_eq!(
        stack.tiktok_lookups() as i64,
        enriched + killed,
        "{killed} killed calls, then each creator looked up once"
    );
    let (credits, calls) = credits_and_calls(stack, job).await;
    assert_eq!(
        credits, calls as i64,
        "every call that reached the API is charged"
    );
    stack.assert_consistent(job).await;
    enriched
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
    let job = stack.keyword_search(&["airpods pro"], 60).await;
    stack.first_step().await;
    let first = stack.status(&job, 0, 100).await;
    let found = first["processedResults"].as_i64().unwrap();
    assert!(found > 20, "{first}");
    assert_status(&first, "processing");
    assert_eq!(first["creators"].as_array().unwrap().len() as i64, found);
    assert_eq!(stack.tiktok_pages(), 1);
    assert_eq!(stack.tiktok_lookups(), 0, "no look-up in the step");
    let (pending, _, _) = states(&stack, &job).await;
    assert_eq!(first["enriching"].as_i64(), Some(pending));
    assert!(pending > 0, "keyword pages carry no bios");
    let enqueued = stack.job_value(&job, "enqueued_step").await;
    assert_eq!(enqueued, 1, "the next page was sent with the page's commit");

    let done = stack.finish_page(&job, 100).await;
    assert_completed(&done, "target_reached");
    assert_eq!(done["processedResults"], 60);
    assert_eq!(done["enriching"], 0);
    let enriched = assert_all_looked_up_once(&stack, &job, 0).await;
    // The floor: one call per page, one per creator without a bio.
    assert_eq!(stack.calls() as i64, stack.tiktok_pages() as i64 + enriched);
}

#[tokio::test]
async fn every_lookup_is_made_once_when_every_message_is_delivered_twice() {
    let stack = Stack::new().await;
    stack.worker.queue.set(Chaos::Duplicate);
    let job = stack.keyword_search(&["airpods pro"], 60).await;
    stack.run_until_idle().await;
    assert!(stack.worker.queue.enrichment_sends() > 0);
    assert_all_looked_up_once(&stack, &job, 0).await;
}

#[tokio::test]
async fn cancelling_a_search_stops_its_pending_lookups() {
    let stack = Stack::new().await;
    let (job, pending) = first_page_awaiting_lookups(&stack).await;
    let (status, answer) = stack.cancel(&job).await;
    assert_eq!(status, 200, "{answer}");

    stack.run_until_idle().await;
    assert_eq!(stack.tiktok_lookups(), 0, "no look-up after the cancel");
    assert_eq!(stack.tiktok_pages(), 1);
    let (left, done, skipped) = states(&stack, &job).await;
    assert_eq!((left, done, skipped), (0, 0, pending));
    let status = stack.status(&job, 0, 1).await;
    assert_status(&status, "cancelled");
    assert_eq!(status["enriching"], 0);
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!((credits, calls), (1, 1));
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_lost_enrichment_send_is_sent_when_the_step_comes_back() {
    let stack = Stack::new().await;
    stack.worker.queue.set(Chaos::FailEnrichmentSends(vec![1]));
    let job = stack.keyword_search(&["airpods pro"], 60).await;
    stack.run_until_idle().await;
    assert_all_looked_up_once(&stack, &job, 0).await;
}

#[tokio::test]
async fn a_search_out_of_credits_skips_the_lookups_it_cannot_pay_for() {
    let stack = Stack::new().await;
    stack.setting("credits_per_search_trial", "8").await;
    let job = stack.keyword_search(&["airpods pro"], 1000).await;
    let done = stack.finish(&job).await;
    assert_completed(&done, "credit_limit");
    let (pending, enriched, skipped) = states(&stack, &job).await;
    assert_eq!(pending, 0);
    assert!(skipped > 0, "the rest is left as found");
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!(credits, calls as i64);
    // One page, then look-ups up to the cap exactly: each is charged before it is made, and only
    // while the search is under its cap.
    assert_eq!(stack.tiktok_pages(), 1);
    assert_eq!(credits, 8);
    assert_eq!(enriched, 7);
}

#[tokio::test]
async fn a_worker_killed_mid_enrichment_loses_nothing_and_pays_each_call_once() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["airpods pro"], 25).await;
    stack.first_step().await;
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
                while stack.tiktok_lookups() < 5 {
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
        .execute(
            "UPDATE scraping_results SET enrich_lease_until = now() - interval '1 second'
              WHERE job_id = $1::text::uuid AND enrich_token IS NOT NULL",
            &[&job],
        )
        .await;
    stack.queue.settle(&event, &all_failed(&event)).await;
    stack.run_until_idle().await;

    // The five killed calls reached the API and were charged before they were made; their
    // creators were looked up again.
    assert_all_looked_up_once(&stack, &job, 5).await;
}

#[tokio::test]
async fn a_search_that_times_out_stops_its_pending_lookups() {
    let stack = Stack::new().await;
    let (job, pending) = first_page_awaiting_lookups(&stack).await;
    stack.pass_deadline(&job).await;
    // Polling notices the deadline and stores the timeout.
    assert_status(&stack.status(&job, 0, 1).await, "timeout");
    stack.run_until_idle().await;
    assert_eq!(stack.tiktok_lookups(), 0, "no look-up after the timeout");
    assert_eq!(states(&stack, &job).await, (0, 0, pending));
    let (credits, calls) = credits_and_calls(&stack, &job).await;
    assert_eq!((credits, calls), (1, 1));
    stack.assert_consistent(&job).await;
}
