//! `GET /campaigns/{campaignId}` — one of the caller's campaigns with its searches, newest first.

use api::ApiError;
use db::{campaigns, jobs};
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::json;

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let id = api::path_uuid(&req, "campaignId")?;
        let client = pool.get().await?;
        let campaign = campaigns::find(&client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("campaign"))?;
        let jobs = jobs::summaries_for_campaign(&client, id).await?;
        let mut body = json!(campaign);
        body["jobs"] = json!(jobs);
        Ok(api::json_response(StatusCode::OK, &body))
    })
    .await
}
