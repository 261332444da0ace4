//! Lambda entry point: the pool and the settings cache are built once per container.

use db::settings::SettingsCache;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let state = billing_subscribe::State {
        usage: api::usage::State {
            pool: db::pool(&config.database)?,
            settings: SettingsCache::from_config(&config),
        },
        mock_checkout: billing_subscribe::State::mock_checkout_from_env(),
    };
    shared::runtime::serve_http(state, billing_subscribe::handler).await
}
