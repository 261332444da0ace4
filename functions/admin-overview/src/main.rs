//! Lambda entry point: pool, admin lists, the dead-letter queue's client and the settings cache
//! are built once per container.

use api::admin::AdminState;
use db::settings::SettingsCache;
use queue::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let dead_letters = match &config.dead_letter_queue_url {
        Some(url) => Some(SqsQueue::from_env(url.clone()).await),
        None => None,
    };
    let state = admin_overview::State {
        admin: AdminState::from_config(&config)?,
        dead_letters,
        settings: SettingsCache::from_config(&config),
    };
    shared::runtime::serve_http(state, admin_overview::handler).await
}
