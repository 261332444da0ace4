//! Lambda entry point: the pool and the admin lists are built once per container.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = shared::runtime::init().await?;
    let state = shared::admin::AdminState {
        pool: shared::db::pool(&config.database)?,
        admins: config.admins.clone(),
    };
    shared::runtime::serve_http(state, admin_config_changes::handler).await
}
