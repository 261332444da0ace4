//! `migrate` — applies pending migrations, after each deploy.
//!
//! Invoked two ways: by hand (`aws lambda invoke`, any event; answers `{"applied": N}`), or as the
//! template's CloudFormation custom resource, whose event carries a `ResponseURL`: migrations run
//! on Create and Update, Delete does nothing, and the outcome is PUT to that URL so the stack
//! update waits for (and fails with) the migrations.

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

pub async fn handler(
    pool: &db::Pool,
    http: &reqwest::Client,
    event: Value,
) -> anyhow::Result<Value> {
    let Ok(request) = serde_json::from_value::<CustomResourceRequest>(event) else {
        let applied = migrate(pool).await?;
        return Ok(json!({ "applied": applied }));
    };
    let outcome = match request.request_type.as_str() {
        "Delete" => Ok(0),
        _ => migrate(pool).await,
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

async fn migrate(pool: &db::Pool) -> anyhow::Result<usize> {
    let mut client = pool.get().await?;
    let applied = db::migrate(&mut client).await?;
    tracing::info!(applied, "migrations applied");
    Ok(applied)
}
