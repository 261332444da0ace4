//! `GET /jobs/{jobId}?offset=&limit=` — a search's progress and one page of its creators.
//!
//! Polled every few seconds while a search runs, so the answer is one page whatever the size of
//! the job: two indexed queries.

use lambda_http::{http::StatusCode, Body, Request, Response};
use serde::Serialize;
use serde_json::{json, value::RawValue};
use shared::{
    db::{self, jobs, results},
    http::{self, ApiError},
};

/// The answer: the job's fields, then the page of creators as stored, then paging.
#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    job: serde_json::Value,
    creators: &'a [Box<RawValue>],
    pagination: serde_json::Value,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    http::respond(req, |user, req| async move {
        let id = http::path_uuid(&req, "jobId")?;
        let offset = http::query_int(&req, "offset", 0, 1_000_000)?.unwrap_or(0);
        let limit = http::query_int(&req, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
        let client = pool.get().await?;
        let job = jobs::find_for_user(&client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("job"))?;
        let creators = results::page(&client, id, offset, limit).await?;
        let total = i64::from(job.processed_results);
        let next = offset + creators.len() as i64;
        let body = Page {
            job: job.view(),
            creators: &creators,
            pagination: json!({
                "offset": offset,
                "limit": limit,
                "total": total,
                "nextOffset": if next < total { Some(next) } else { None },
            }),
        };
        Ok(http::json_response(StatusCode::OK, &body))
    })
    .await
}
