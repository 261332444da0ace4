//! Lambda entry point: the pool and the exports bucket's client are built once per container.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let state = export::State::from_config(&config)?;
    shared::runtime::serve_http(state, export_creators::handler).await
}
