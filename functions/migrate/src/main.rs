//! Lambda entry point for `migrate` (see the library for the two ways it is invoked).

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = shared::runtime::init().await?;
    let pool = db::pool(&config.database)?;
    // The answer to CloudFormation fits in the time kept back for it.
    let http = shared::tls::http_client()?
        .timeout(migrate::ANSWER_RESERVE / 2)
        .build()?;
    let (pool, http) = (&pool, &http);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let bound = migrate::bound_before(event.context.deadline());
        migrate::handler_within(pool, http, event.payload, bound)
            .await
            .map_err(|e| lambda_runtime::Error::from(format!("{e:#}")))
    }))
    .await
}
