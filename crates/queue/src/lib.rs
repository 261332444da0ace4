//! The jobs queue. A message carries one step of one job, `{"jobId": "...", "step": N}`, or the
//! enrichment of some of its creators, `{"jobId": "...", "enrich": [positions]}`.
//! The step number makes a step idempotent: the worker applies step N only while the job has
//! applied exactly N steps. An enrichment fills in only rows still pending, under a lease.

use std::{future::Future, time::Duration};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The body of a queue message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepMessage {
    pub job_id: Uuid,
    pub step: i32,
}

/// Look up these creators of a job (by position) and fill them in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrichMessage {
    pub job_id: Uuid,
    pub enrich: Vec<i32>,
}

impl EnrichMessage {
    /// The enrichment of the job's creators at `positions`, `per_message` to a message.
    pub fn batches(job_id: Uuid, positions: &[i32], per_message: usize) -> Vec<Self> {
        positions
            .chunks(per_message.max(1))
            .map(|chunk| Self {
                job_id,
                enrich: chunk.to_vec(),
            })
            .collect()
    }
}

/// Any message of the jobs queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JobMessage {
    Step(StepMessage),
    Enrich(EnrichMessage),
}

impl JobMessage {
    pub fn job_id(&self) -> Uuid {
        match self {
            Self::Step(m) => m.job_id,
            Self::Enrich(m) => m.job_id,
        }
    }
}

/// A send that failed; the cause is logged, the caller decides (503, or retry the step).
#[derive(Debug, thiserror::Error)]
#[error("failed to enqueue a search step: {0}")]
pub struct QueueError(pub String);

/// Sends search steps. SQS in production and tests; the trait lets fault tests interpose.
pub trait JobQueue: Send + Sync {
    /// Sends `message`, visible after `delay`; returns the queue's message id.
    fn send(
        &self,
        message: &StepMessage,
        delay: Duration,
    ) -> impl Future<Output = Result<String, QueueError>> + Send;

    /// Sends enrichment messages, visible at once, in as few calls as the queue allows.
    fn send_enrichment(
        &self,
        messages: &[EnrichMessage],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Why [`send_and_record`] failed: the send, or the record of a send that happened.
#[derive(Debug, thiserror::Error)]
pub enum SendAndRecordError<E> {
    /// Nothing was sent.
    #[error(transparent)]
    Send(#[from] QueueError),
    /// The step was sent (it will be delivered) but its send was not recorded.
    #[error("the step was sent but not recorded: {0}")]
    Record(E),
}

/// Sends step `message`, visible after `delay`, then hands the queue's message id to `record`,
/// which notes the send on the job (the repair and the sweeper read that note to find a step
/// never sent). A send is so never recorded before it happened. The record is the caller's, so
/// this crate needs no database.
pub async fn send_and_record<Q, F, Fut, E>(
    queue: &Q,
    message: &StepMessage,
    delay: Duration,
    record: F,
) -> Result<(), SendAndRecordError<E>>
where
    Q: JobQueue,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let id = queue.send(message, delay).await?;
    record(id).await.map_err(SendAndRecordError::Record)
}

/// The SQS queue of search steps.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// A client configured from the environment, as Lambda provides it: `AWS_REGION`, the
    /// execution role's `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, and
    /// `AWS_ENDPOINT_URL_SQS` for an emulator. Reading these directly instead of through
    /// `aws-config`'s provider chain keeps that chain (and its start-up probing) out of cold starts.
    pub async fn from_env(url: impl Into<String>) -> Self {
        use aws_sdk_sqs::config::BehaviorVersion;
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut config = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(aws_http::client())
            .region(aws_http::region())
            // A send never waits on an unanswering queue for longer than this, retries included.
            .timeout_config(send_timeouts());
        if let Some(credentials) = aws_http::credentials(false) {
            config = config.credentials_provider(credentials);
        }
        if let Some(endpoint) = var("AWS_ENDPOINT_URL_SQS").or_else(|| var("AWS_ENDPOINT_URL")) {
            config = config.endpoint_url(endpoint);
        }
        Self::new(aws_sdk_sqs::Client::from_conf(config.build()), url)
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Messages waiting in the queue (SQS's `ApproximateNumberOfMessages`), for the operator
    /// overview.
    pub async fn depth(&self) -> Result<i64, QueueError> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| QueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| QueueError("the queue reported no depth".into()))
    }
}

impl JobQueue for SqsQueue {
    async fn send(&self, message: &StepMessage, delay: Duration) -> Result<String, QueueError> {
        let body = serde_json::to_string(message).expect("a step message serializes");
        let sent = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay.as_secs().min(900) as i32)
            .send()
            .await
            .map_err(|e| QueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(sent.message_id().unwrap_or_default().to_owned())
    }

    async fn send_enrichment(&self, messages: &[EnrichMessage]) -> Result<(), QueueError> {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        // SQS takes ten messages a call.
        for chunk in messages.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(serde_json::to_string(m).expect("a message serializes"))
                        .build()
                        .expect("id and body are set")
                })
                .collect();
            let sent = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
            if let Some(failed) = sent.failed().first() {
                return Err(QueueError(format!(
                    "{} of {} enrichment messages were refused: {}",
                    sent.failed().len(),
                    chunk.len(),
                    failed.message().unwrap_or(failed.code())
                )));
            }
        }
        Ok(())
    }
}

/// SQS calls' bounds: 3 s to connect, 3 s an attempt, 8 s in all (the SDK's retries included).
pub fn send_timeouts() -> aws_sdk_sqs::config::timeout::TimeoutConfig {
    aws_sdk_sqs::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
}
