//! Lambda entry point: the pool is built once per container, then every invocation runs the handler.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let pool = db::pool(&config.database)?;
    shared::runtime::serve_http(pool, cancel_job::handler).await
}
