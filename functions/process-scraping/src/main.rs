//! Lambda entry point: pool, queue, creator API client and settings cache are built once per
//! container; each invocation handles one SQS batch.

use lambda_runtime::{service_fn, LambdaEvent};
use pipeline::{creator_api::CreatorApi, worker::Worker};
use queue::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = shared::runtime::init().await?;
    let queue = SqsQueue::from_env(config.require_queue_url()?).await;
    let api = CreatorApi::new(&config.creator_api, config.require_api_key()?)?;
    let worker = Worker::from_config(&config, queue, api)?;
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
