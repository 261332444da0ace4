//! Lambda entry point: the pool and the settings cache are built once per container.

use db::settings::SettingsCache;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let state = api::usage::State {
        pool: db::pool(&config.database)?,
        settings: SettingsCache::from_config(&config),
    };
    shared::runtime::serve_http(state, get_usage::handler).await
}
