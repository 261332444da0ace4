//! Lambda entry point for the scheduled sweeper (any event, e.g. EventBridge's scheduled event).

use db::settings::SettingsCache;
use lambda_runtime::{service_fn, LambdaEvent};
use queue::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = shared::runtime::init().await?;
    let state = sweeper::State {
        pool: db::pool(&config.database)?,
        queue: SqsQueue::from_env(config.require_queue_url()?).await,
        settings: SettingsCache::from_config(&config),
        message_lifetime: config.message_lifetime(),
    };
    let state = &state;
    lambda_runtime::run(service_fn(
        move |_event: LambdaEvent<serde_json::Value>| async move {
            let sweep = sweeper::sweep(state).await.map_err(|e| {
                tracing::error!(error = ?e, "sweep failed");
                lambda_runtime::Error::from(e.to_string())
            })?;
            Ok::<_, lambda_runtime::Error>(sweep)
        },
    ))
    .await
}
