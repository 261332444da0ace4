//! Lambda entry point: the pool and the signing secret are read once per container; a missing
//! secret fails the cold start with a message naming it.

use anyhow::Context as _;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let secret = match std::env::var("STRIPE_WEBHOOK_KEY_SECRET_ARN") {
        Ok(arn) if !arn.trim().is_empty() => shared::runtime::secret(&arn).await?,
        _ => std::env::var("STRIPE_WEBHOOK_KEY")
            .context("missing environment variable STRIPE_WEBHOOK_KEY")?,
    };
    let state = stripe_webhook::State::new(db::pool(&config.database)?, secret)?;
    shared::runtime::serve_http(state, stripe_webhook::handler).await
}
