//! Lambda entry point: pool, queue, creator API client and settings cache are built once per
//! container; each invocation handles one SQS batch.

use std::time::Duration;

use db::settings::SettingsCache;
use lambda_runtime::{service_fn, LambdaEvent};
use pipeline::{creator_api::CreatorApi, worker::Worker};
use queue::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = shared::runtime::init().await?;
    let worker = Worker {
        pool: db::pool(&config.database)?,
        queue: SqsQueue::from_env(config.require_queue_url()?).await,
        api: CreatorApi::new(&config.creator_api, config.require_api_key()?)?,
        settings: SettingsCache::new(config.settings_cache_ttl),
        max_receive_count: config.max_receive_count,
        lease: Duration::from_secs(config.step_lease_secs),
    };
    let worker = &worker;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
            let deadline = event.context.deadline();
            Ok::<_, lambda_runtime::Error>(
                process_scraping::handle_batch(worker, event.payload, Some(deadline)).await,
            )
        },
    ))
    .await
}
