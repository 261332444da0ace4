//! SQS-triggered worker: each record is one step of one search, or the enrichment of some of its
//! creators (see `pipeline::worker`).
//!
//! Records of a batch all run at once (a batch holds at most ten, and a record holds a database
//! connection only for its short queries, never across a creator-API call, so they share the
//! small pool), each in its own span with the message and job ids. Failures are reported per record (`ReportBatchItemFailures`), so one bad
//! record never fails its neighbours: a malformed body is reported failed until SQS moves it to
//! the dead-letter queue.
//!
//! Every record is bounded by the invocation's time (its deadline less [`MARGIN`]): one that
//! cannot finish is released and reported failed before Lambda would end the invocation, so its
//! neighbours' outcomes still reach SQS, and on its last delivery the search still ends as
//! `error` with a message instead of hanging until its deadline.

use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use pipeline::worker::{Outcome, Worker};
use queue::{JobMessage, JobQueue, StepMessage};
use tracing::{info, warn, Instrument};

/// Time kept back from the invocation's deadline: reporting the batch, and ending a search on
/// its last delivery, fit in it.
pub const MARGIN: Duration = Duration::from_secs(5);

/// Handles a batch with no deadline of its own (local runs and tests).
pub async fn handler<Q: JobQueue>(worker: &Worker<Q>, event: SqsEvent) -> SqsBatchResponse {
    handle_batch(worker, event, None).await
}

/// Handles a batch; each record is given up at `deadline` less [`MARGIN`].
pub async fn handle_batch<Q: JobQueue>(
    worker: &Worker<Q>,
    event: SqsEvent,
    deadline: Option<SystemTime>,
) -> SqsBatchResponse {
    let concurrency = event.records.len().max(1);
    let budget_end = deadline.map(|d| {
        let left = d.duration_since(SystemTime::now()).unwrap_or_default();
        Instant::now() + left.saturating_sub(MARGIN)
    });
    let failed: Vec<String> = futures::stream::iter(event.records)
        .map(|record| bounded(worker, record, budget_end))
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

/// One SQS record, read once: its id, how many times SQS has delivered it, and its message (a
/// body that is missing or is no message of the jobs queue is malformed).
struct Delivery {
    message_id: String,
    receive_count: u32,
    message: Result<JobMessage, serde_json::Error>,
}

impl Delivery {
    fn read(record: SqsMessage) -> Self {
        Self {
            message_id: record.message_id.unwrap_or_default(),
            receive_count: record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1),
            message: serde_json::from_str(record.body.as_deref().unwrap_or_default()),
        }
    }

    /// The step, when this is a step's last delivery (the queue's `max_receive_count`): its
    /// search is ended should the delivery run out of time.
    fn last_step(&self, max_receive_count: u32) -> Option<&StepMessage> {
        match &self.message {
            Ok(JobMessage::Step(step)) if self.receive_count >= max_receive_count => Some(step),
            _ => None,
        }
    }
}

/// [`handle_record`] within the budget. A record that runs out of time comes back; when it is a
/// step on its last delivery, its search is ended as `error` first (an enrichment's rows come
/// back by their lease instead).
async fn bounded<Q: JobQueue>(
    worker: &Worker<Q>,
    record: SqsMessage,
    budget_end: Option<Instant>,
) -> Option<String> {
    let delivery = Delivery::read(record);
    let Some(end) = budget_end else {
        return handle_record(worker, &delivery).await;
    };
    match tokio::time::timeout_at(end.into(), handle_record(worker, &delivery)).await {
        Ok(outcome) => outcome,
        Err(_) => {
            let message_id = &delivery.message_id;
            warn!(%message_id, "the record ran out of the invocation's time; it will come back");
            if let Some(step) = delivery.last_step(worker.max_receive_count) {
                worker.fail_out_of_time(step.job_id).await;
            }
            Some(delivery.message_id)
        }
    }
}

/// Handles one delivery; returns its message id when it must come back.
async fn handle_record<Q: JobQueue>(worker: &Worker<Q>, delivery: &Delivery) -> Option<String> {
    let Delivery {
        message_id,
        receive_count,
        message,
    } = delivery;
    let span = tracing::info_span!("message", message_id = %message_id, job_id = tracing::field::Empty, step = tracing::field::Empty, receive_count);
    async {
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                warn!(error = %e, "malformed message body; leaving it for the dead-letter queue");
                return Some(message_id.clone());
            }
        };
        tracing::Span::current().record("job_id", tracing::field::display(message.job_id()));
        if let JobMessage::Step(step) = message {
            tracing::Span::current().record("step", step.step);
        }
        match worker.handle_message(message, *receive_count).await {
            Ok(Outcome::Skipped(why)) => {
                info!(why, "nothing to do");
                None
            }
            Ok(Outcome::Failed(_)) => {
                // Its message for the user may name their search's target: not logged.
                info!("message handled; the search ended as error");
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
