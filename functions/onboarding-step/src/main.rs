//! Lambda entry point: the pool and the settings cache are built once per container, then every
//! invocation runs the handler.

use db::settings::SettingsCache;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let state = onboarding_step::State {
        pool: db::pool(&config.database)?,
        settings: SettingsCache::from_config(&config),
    };
    shared::runtime::serve_http(state, onboarding_step::handler).await
}
