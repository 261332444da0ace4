//! Lambda entry point for the email sender (EventBridge's one-minute schedule).

use db::settings::SettingsCache;
use email::{link::LinkSigner, ses::Ses};
use lambda_runtime::{service_fn, LambdaEvent};
use shared::config::ConfigError;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = shared::runtime::init().await?;
    let email = &config.email;
    let from = email
        .from
        .as_deref()
        .ok_or(ConfigError::Missing("EMAIL_FROM"))?;
    let rate = email::ses::rate_from_env()?;
    let state = send_emails::State {
        pool: db::pool(&config.database)?,
        ses: Ses::from_env(from, email.configuration_set.clone(), email.ses_timeout)
            .with_rate(rate),
        settings: SettingsCache::from_config(&config),
        links: LinkSigner::new(config.require_link_secret()?.as_bytes()),
        public_api_url: email
            .public_api_url
            .clone()
            .ok_or(ConfigError::Missing("PUBLIC_API_URL"))?,
        app_url: email.app_url.clone(),
    };
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        send_emails::handler(state, event)
    }))
    .await
}
