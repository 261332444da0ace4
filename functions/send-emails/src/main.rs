//! Lambda entry point for the email sender (EventBridge's one-minute schedule).

use db::settings::SettingsCache;
use email::{link::LinkSigner, ses::Ses};
use lambda_runtime::{service_fn, LambdaEvent};
use shared::config::ConfigError;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = shared::runtime::init().await?;
    let email = &config.email;
    let state = send_emails::State {
        pool: db::pool(&config.database)?,
        ses: Ses::from_env(
            email
                .from
                .as_deref()
                .ok_or(ConfigError::Missing("EMAIL_FROM"))?,
            email.configuration_set.clone(),
            email.ses_timeout,
        ),
        settings: SettingsCache::from_config(&config),
        links: LinkSigner::new(config.require_link_secret()?.as_bytes()),
        public_api_url: email
            .public_api_url
            .clone()
            .ok_or(ConfigError::Missing("PUBLIC_API_URL"))?,
        app_url: email.app_url.clone(),
    };
    let state = &state;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let deadline = event.context.deadline();
            let run = send_emails::send_due(state, Some(deadline))
                .await
                .map_err(|e| {
                    tracing::error!(error = ?e, "email run failed");
                    lambda_runtime::Error::from(e.to_string())
                })?;
            Ok::<_, lambda_runtime::Error>(run)
        },
    ))
    .await
}
