//! `GET /admin/users?admin=true&page=&limit=` — the admins (flagged, or named by the deployment),
//! or with `admin=false` everyone else with a profile, most recently updated first.

use api::{admin, admin::AdminState, ApiError};
use chrono::{DateTime, Utc};
use db::{admins, admins::AdminUser};
use lambda_http::{http::StatusCode, Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::json;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserView {
    user_id: String,
    name: Option<String>,
    email: Option<String>,
    is_admin: bool,
    /// Flagged in the profile (`PUT /admin/users/{userId}/admin` changes only this).
    admin_flag: bool,
    updated_at: DateTime<Utc>,
}

pub async fn handler(state: &AdminState, req: Request) -> Response<Body> {
    admin::respond(state, req, |_, req| async move {
        let admin = match req
            .query_string_parameters_ref()
            .and_then(|q| q.first("admin"))
        {
            None | Some("true") => true,
            Some("false") => false,
            Some(_) => return Err(ApiError::invalid("admin", "must be true or false")),
        };
        let page = api::query_int(&req, "page", 1, 100_000)?.unwrap_or(1);
        let limit = api::query_int(&req, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
        let client = state.pool.get().await?;
        let (users, total) =
            admins::list(&client, &state.admins, admin, limit, (page - 1) * limit).await?;
        let users: Vec<UserView> = users
            .into_iter()
            .map(|u: AdminUser| UserView {
                is_admin: u.is_admin_with(&state.admins),
                admin_flag: u.is_admin,
                user_id: u.user_id,
                name: u.name,
                email: u.email,
                updated_at: u.updated_at,
            })
            .collect();
        let body = json!({
            "users": users,
            "pagination": {"total": total, "pages": (total + limit - 1) / limit, "currentPage": page, "limit": limit},
        });
        Ok(api::json_response(StatusCode::OK, &body))
    })
    .await
}
