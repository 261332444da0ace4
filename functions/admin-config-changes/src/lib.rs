//! `GET /admin/config/changes?page=&limit=` — the audit of setting changes, newest first.

use api::{admin, admin::AdminState};
use db::settings;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::json;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

pub async fn handler(state: &AdminState, req: Request) -> Response<Body> {
    admin::respond(state, req, |_, req| async move {
        let page = api::query_int(&req, "page", 1, 100_000)?.unwrap_or(1);
        let limit = api::query_int(&req, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
        let client = state.pool.get().await?;
        let (changes, total) = settings::changes(&client, limit, (page - 1) * limit).await?;
        let changes: Vec<_> = changes
            .into_iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "category": c.category,
                    "key": c.key,
                    "oldValue": c.old_value,
                    "newValue": c.new_value,
                    "changedBy": c.changed_by,
                    "changedAt": c.changed_at,
                })
            })
            .collect();
        let body = json!({
            "changes": changes,
            "pagination": {"total": total, "pages": (total + limit - 1) / limit, "currentPage": page, "limit": limit},
        });
        Ok(api::json_response(StatusCode::OK, &body))
    })
    .await
}
