//! Lambda's SQS event source mapping, locally: long-polls the jobs queue, invokes
//! `process-scraping` with real `SqsEvent` batches, deletes what succeeded and leaves the
//! reported failures to come back after the visibility timeout; the sweeper and the email
//! sender on timers.

use std::{sync::Arc, time::Duration};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use tokio::sync::watch;

use crate::app::App;

/// Polls the jobs queue as the template's event source does: batches of its `BatchSize`, up to
/// its `MaximumConcurrency` batches at once (each Lambda container handles one).
pub async fn run_poller(
    app: Arc<App>,
    source: crate::template::EventSource,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(source.max_concurrency.max(1)));
    let batch = i32::try_from(source.batch_size.clamp(1, 10)).unwrap_or(10);
    loop {
        let permit = tokio::select! {
            _ = stop.changed() => return,
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let queue = &app.worker.queue;
        let receive = queue
            .client()
            .receive_message()
            .queue_url(queue.url())
            .max_number_of_messages(batch)
            .wait_time_seconds(2)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send();
        let out = tokio::select! {
            _ = stop.changed() => return,
            out = receive => out,
        };
        let messages = match out {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "receive failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            invoke(&app, &messages).await;
        });
    }
}

/// One invocation of `process-scraping` with `messages`: what succeeded is deleted.
async fn invoke(app: &App, messages: &[aws_sdk_sqs::types::Message]) {
    let queue = &app.worker.queue;
    let event = testkit::sqs::to_event(messages, queue.url());
    let response = process_scraping::handler(&app.worker, event.clone()).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    for record in &event.records {
        if failed.contains(&record.message_id.as_deref().unwrap_or_default()) {
            continue;
        }
        if let Some(receipt) = &record.receipt_handle {
            let _ = queue
                .client()
                .delete_message()
                .queue_url(queue.url())
                .receipt_handle(receipt)
                .send()
                .await;
        }
    }
}

pub async fn run_sweeper(app: Arc<App>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = ticker.tick() => {
                if let Err(e) = sweeper::sweep(&app.sweeper).await {
                    tracing::warn!(error = ?e, "sweep failed");
                }
            }
        }
    }
}

/// The email sender every `every` (the deployed schedule runs it every minute; locally a few
/// seconds, so a due email shows in `local mail` soon after).
pub async fn run_mailer(
    sender: send_emails::State,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = ticker.tick() => {
                if let Err(e) = send_emails::send_due(&sender, None).await {
                    tracing::warn!(error = ?e, "email run failed");
                }
            }
        }
    }
}
