//! `GET /campaigns/{campaignId}?page=&limit=` — one of the caller's campaigns with one page of its
//! searches, newest first (`jobs`, 20 by default, at most 100), and `jobsPagination`.

use api::ApiError;
use db::{campaigns, jobs};
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::json;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let id = api::path_uuid(&req, "campaignId")?;
        let page = api::query_int(&req, "page", 1, 1_000_000)?.unwrap_or(1);
        let limit = api::query_int(&req, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
        let client = pool.get().await?;
        let campaign = campaigns::find(&client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("campaign"))?;
        let (jobs, total) =
            jobs::summaries_for_campaign(&client, id, limit, (page - 1) * limit).await?;
        let mut body = json!(campaign);
        body["jobs"] = json!(jobs);
        body["jobsPagination"] = json!({
            "total": total,
            "pages": (total + limit - 1) / limit,
            "currentPage": page,
            "limit": limit,
        });
        Ok(api::json_response(StatusCode::OK, &body))
    })
    .await
}
