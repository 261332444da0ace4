//! Lambda entry point: the pool and the link key are built once per container.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let state = email_unsubscribe::State {
        pool: db::pool(&config.database)?,
        links: email::link::LinkSigner::new(config.require_link_secret()?.as_bytes()),
    };
    shared::runtime::serve_http(state, email_unsubscribe::handler).await
}
