//! The SQS emulator (moto's server, started by `scripts/test`): a fresh queue with its
//! dead-letter queue per test, and the receive → `SqsEvent` → delete loop that Lambda's event
//! source mapping runs.

use std::{collections::HashMap, time::Duration};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::{
    config::{Credentials, Region},
    types::{MessageSystemAttributeName, QueueAttributeName},
    Client,
};
use queue::SqsQueue;
use serde_json::json;

/// The emulator's client, from `AWS_ENDPOINT_URL_SQS`.
pub async fn client() -> Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SQS").expect(
        "AWS_ENDPOINT_URL_SQS is not set: run the tests with scripts/test, which starts the SQS emulator",
    );
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .http_client(aws_http::client())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "testkit"))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(config)
}

/// A queue of its own for one test, with a dead-letter queue after `max_receive_count` deliveries.
pub struct TestQueue {
    pub client: Client,
    pub url: String,
    pub dlq_url: String,
}

impl TestQueue {
    pub async fn new(max_receive_count: u32) -> Self {
        let client = client().await;
        let name = format!("gemz-test-{}", uuid::Uuid::new_v4().simple());
        let dlq_url = client
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .send()
            .await
            .expect("create the dead-letter queue")
            .queue_url
            .expect("a queue url");
        let dlq_arn = client
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("dead-letter queue attributes")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("a queue arn");
        let redrive = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})
            .to_string();
        let url = client
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .attributes(QueueAttributeName::VisibilityTimeout, "30")
            .send()
            .await
            .expect("create the queue")
            .queue_url
            .expect("a queue url");
        Self {
            client,
            url,
            dlq_url,
        }
    }

    /// The queue as the functions use it, reached through `endpoint` (a proxy in front of the
    /// emulator), with the functions' own send timeouts.
    pub fn queue_via(&self, endpoint: &str) -> SqsQueue {
        let config = self
            .client
            .config()
            .to_builder()
            .endpoint_url(endpoint)
            .timeout_config(queue::send_timeouts())
            .build();
        SqsQueue::new(Client::from_conf(config), &self.url)
    }

    /// The emulator's address, for a proxy in front of it.
    pub fn emulator_addr() -> std::net::SocketAddr {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_SQS").expect("AWS_ENDPOINT_URL_SQS");
        let authority = endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .replace("localhost", "127.0.0.1");
        authority
            .parse()
            .expect("the emulator's endpoint is host:port")
    }

    /// The queue as the functions use it.
    pub fn queue(&self) -> SqsQueue {
        SqsQueue::new(self.client.clone(), &self.url)
    }

    /// Up to 10 messages, waiting up to `wait` for the first, as an event Lambda would deliver.
    pub async fn receive(&self, wait: Duration) -> Option<SqsEvent> {
        self.receive_batch(wait, 10).await
    }

    /// Up to `max` messages (at most 10), waiting up to `wait` for the first.
    pub async fn receive_batch(&self, wait: Duration, max: i32) -> Option<SqsEvent> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return None;
        }
        Some(to_event(&messages, &self.url))
    }

    /// Deletes the records that succeeded and makes the failed ones visible again at once (a
    /// shortened visibility timeout, so tests need not wait for it).
    pub async fn settle(&self, event: &SqsEvent, response: &SqsBatchResponse) {
        self.settle_after(event, response, 0).await
    }

    /// [`Self::settle`], the failed records visible again after `visibility_secs`.
    pub async fn settle_after(
        &self,
        event: &SqsEvent,
        response: &SqsBatchResponse,
        visibility_secs: i32,
    ) {
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        for record in &event.records {
            let id = record.message_id.as_deref().unwrap_or_default();
            let receipt = record.receipt_handle.clone().unwrap_or_default();
            if failed.contains(&id) {
                self.client
                    .change_message_visibility()
                    .queue_url(&self.url)
                    .receipt_handle(receipt)
                    .visibility_timeout(visibility_secs)
                    .send()
                    .await
                    .expect("release a failed message");
            } else {
                self.client
                    .delete_message()
                    .queue_url(&self.url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .expect("delete a handled message");
            }
        }
    }

    /// Sends a raw body, as another producer (or a bug) might.
    pub async fn send_raw(&self, body: &str) {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .expect("send");
    }

    /// Messages waiting in the queue (visible or not), per SQS's approximate counters.
    pub async fn depth(&self, url: &str) -> i64 {
        let attrs = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .unwrap_or_default();
        attrs.values().filter_map(|v| v.parse::<i64>().ok()).sum()
    }

    /// Bodies of the messages in the dead-letter queue.
    pub async fn dead_letters(&self) -> Vec<String> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.dlq_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive from the dead-letter queue");
        out.messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.body)
            .collect()
    }
}

/// SQS messages as the `SqsEvent` Lambda's event source mapping delivers.
pub fn to_event(messages: &[aws_sdk_sqs::types::Message], queue_url: &str) -> SqsEvent {
    let queue_name = queue_url.rsplit('/').next().unwrap_or_default();
    let records: Vec<_> = messages
        .iter()
        .map(|m| {
            let attributes: HashMap<String, String> = m
                .attributes
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect();
            let message_attributes: serde_json::Map<String, serde_json::Value> = m
                .message_attributes
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| {
                    (k, json!({"stringValue": v.string_value, "dataType": v.data_type, "stringListValues": [], "binaryListValues": []}))
                })
                .collect();
            json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": m.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:{queue_name}"),
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("a valid SQS event")
}
