//! Lambda entry point: pool, queue client and settings cache are built once per container.

use db::settings::SettingsCache;
use queue::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let state = start_scraping::State {
        pool: db::pool(&config.database)?,
        queue: SqsQueue::from_env(config.require_queue_url()?).await,
        settings: SettingsCache::from_config(&config),
    };
    shared::runtime::serve_http(state, start_scraping::handler).await
}
