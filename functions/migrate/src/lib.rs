//! `migrate` — applies pending migrations, after each deploy.
//!
//! Invoked two ways: by hand (`aws lambda invoke`, any event; answers `{"applied": N}`), or as the
//! template's CloudFormation custom resource, whose event carries a `ResponseURL`: migrations run
//! on Create and Update, Delete does nothing, and the outcome is PUT to that URL so the stack
//! update waits for (and fails with) the migrations.
//!
//! The migrations run without the request handlers' statement timeout and with a lock timeout
//! (see `db::migrate`), bounded as a whole by the invocation's remaining time less
//! [`ANSWER_RESERVE`], so that CloudFormation always gets an answer: a database that stops
//! answering fails the deploy within the function's timeout instead of leaving the stack waiting
//! for an hour. The same bound caps every statement on the server, which stops by itself should the
//! function be gone. The connection itself has the pool's connect timeout and TCP keepalives.
//!
//! It connects as the schema's owner (its own secret, `MigrationDatabaseSecretArn` in the
//! template); with `DATABASE_APP_ROLE` set, it then grants that role (the other functions') the
//! rows of every table and nothing else.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

/// The fields of a CloudFormation custom resource request that the answer echoes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceRequest {
    pub request_type: String,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
}

/// Time kept back from the invocation for answering CloudFormation after the migrations.
pub const ANSWER_RESERVE: Duration = Duration::from_secs(20);

/// The migrations' bound when the caller names none (the tests): the template's timeout less
/// [`ANSWER_RESERVE`].
pub const DEFAULT_BOUND: Duration = Duration::from_secs(900 - 20);

/// [`handler_within`] with [`DEFAULT_BOUND`].
pub async fn handler(
    pool: &db::Pool,
    http: &reqwest::Client,
    event: Value,
) -> anyhow::Result<Value> {
    handler_within(pool, http, event, DEFAULT_BOUND).await
}

/// Applies the migrations within `bound`, and answers CloudFormation when the event is its.
pub async fn handler_within(
    pool: &db::Pool,
    http: &reqwest::Client,
    event: Value,
    bound: Duration,
) -> anyhow::Result<Value> {
    let Ok(request) = serde_json::from_value::<CustomResourceRequest>(event) else {
        let applied = migrate(pool, bound).await?;
        return Ok(json!({ "applied": applied }));
    };
    let outcome = match request.request_type.as_str() {
        "Delete" => Ok(0),
        _ => migrate(pool, bound).await,
    };
    let (status, reason, applied) = match &outcome {
        Ok(n) => ("SUCCESS", format!("{n} migrations applied"), *n),
        Err(e) => ("FAILED", format!("Migrations failed: {e:#}"), 0),
    };
    let body = json!({
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": request.physical_resource_id.as_deref().unwrap_or("gemz-migrations"),
        "StackId": request.stack_id,
        "RequestId": request.request_id,
        "LogicalResourceId": request.logical_resource_id,
        "Data": {"Applied": applied},
    });
    // CloudFormation's pre-signed URL takes a PUT with no content type.
    http.put(&request.response_url)
        .header("content-type", "")
        .body(body.to_string())
        .send()
        .await?
        .error_for_status()?;
    outcome.map(|n| json!({ "applied": n }))
}

/// `DATABASE_APP_ROLE`: the role the other functions connect as (their `DATABASE_URL`'s user),
/// granted the rows of every table after each run; unset when every function shares one role.
fn app_role() -> Option<String> {
    std::env::var("DATABASE_APP_ROLE")
        .ok()
        .filter(|r| !r.trim().is_empty())
}

/// The bound of an invocation whose deadline is `deadline`: what is left of it, less
/// [`ANSWER_RESERVE`] (at least one second).
pub fn bound_before(deadline: std::time::SystemTime) -> Duration {
    let left = deadline
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    left.saturating_sub(ANSWER_RESERVE)
        .max(Duration::from_secs(1))
}

async fn migrate(pool: &db::Pool, bound: Duration) -> anyhow::Result<usize> {
    let mut client = pool.get().await?;
    let migrating = db::migrate::migrate_within(&mut client, Some(bound));
    match tokio::time::timeout(bound, migrating).await {
        Ok(applied) => {
            let applied = applied?;
            tracing::info!(applied, "migrations applied");
            if let Some(role) = app_role() {
                db::migrate::grants::grant_rows_to(&client, &role).await?;
                tracing::info!(role, "the functions' role granted the schema's rows");
            }
            Ok(applied)
        }
        Err(_) => {
            // The connection is mid-statement: closed rather than pooled again.
            drop(db::PoolClient::take(client));
            anyhow::bail!(
                "Migrations did not finish within {bound:?}; what was applied stays applied, \
                 invoke migrate again to continue"
            )
        }
    }
}
