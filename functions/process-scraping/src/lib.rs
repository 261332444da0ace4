//! SQS-triggered worker: each record is one step of one search (see `shared::pipeline::worker`).
//!
//! Records of a batch run concurrently, bounded by the pool size, each in its own span with the
//! message and job ids. Failures are reported per record (`ReportBatchItemFailures`), so one bad
//! record never fails its neighbours: a malformed body is reported failed until SQS moves it to
//! the dead-letter queue.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use shared::pipeline::{
    queue::{JobQueue, StepMessage},
    worker::{Outcome, Worker},
};
use tracing::{info, warn, Instrument};

pub async fn handler<Q: JobQueue>(worker: &Worker<Q>, event: SqsEvent) -> SqsBatchResponse {
    let concurrency = worker.pool.status().max_size.max(1);
    let failed: Vec<String> = futures::stream::iter(event.records)
        .map(|record| handle_record(worker, record))
        .buffer_unordered(concurrency)
        .filter_map(|failed| async move { failed })
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// Handles one record; returns its message id when it must come back.
async fn handle_record<Q: JobQueue>(worker: &Worker<Q>, record: SqsMessage) -> Option<String> {
    let message_id = record.message_id.clone().unwrap_or_default();
    let receive_count = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let span = tracing::info_span!("message", message_id = %message_id, job_id = tracing::field::Empty, step = tracing::field::Empty, receive_count);
    async {
        let body = record.body.as_deref().unwrap_or_default();
        let message: StepMessage = match serde_json::from_str(body) {
            Ok(m) => m,
            Err(e) => {
                warn!(error = %e, "malformed message body; leaving it for the dead-letter queue");
                return Some(message_id.clone());
            }
        };
        tracing::Span::current().record("job_id", tracing::field::display(message.job_id));
        tracing::Span::current().record("step", message.step);
        match worker.handle(&message, receive_count).await {
            Ok(Outcome::Skipped(why)) => {
                info!(why, "nothing to do");
                None
            }
            Ok(outcome) => {
                info!(?outcome, "message handled");
                None
            }
            Err(retry) => {
                warn!(error = %retry, "message will be retried");
                Some(message_id.clone())
            }
        }
    }
    .instrument(span)
    .await
}
