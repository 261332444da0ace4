//! `GET /campaigns?page=&limit=` — the caller's campaigns, newest first, each with its newest search.

use db::campaigns;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::json;

pub const DEFAULT_LIMIT: i64 = 12;
pub const MAX_LIMIT: i64 = 100;

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let page = api::query_int(&req, "page", 1, 1_000_000)?.unwrap_or(1);
        let limit = api::query_int(&req, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
        let client = pool.get().await?;
        let (items, total) = campaigns::list(&client, &user, limit, (page - 1) * limit).await?;
        let body = json!({
            "campaigns": items,
            "pagination": {
                "total": total,
                "pages": (total + limit - 1) / limit,
                "currentPage": page,
                "limit": limit,
            }
        });
        Ok(api::json_response(StatusCode::OK, &body))
    })
    .await
}
