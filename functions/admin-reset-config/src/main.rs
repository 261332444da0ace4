//! Lambda entry point: the pool and the admin lists are built once per container.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let state = api::admin::AdminState::from_config(&config)?;
    shared::runtime::serve_http(state, admin_reset_config::handler).await
}
