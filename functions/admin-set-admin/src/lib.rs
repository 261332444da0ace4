//! `PUT /admin/users/{userId}/admin` `{"isAdmin": bool}` — promotes or demotes a user (creating
//! their profile when they have none). An admin may not demote themselves when no other admin
//! would remain (409 `last_admin`).

use api::{admin, admin::AdminState, ApiError};
use db::admins;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Body_ {
    is_admin: bool,
}

pub async fn handler(state: &AdminState, req: Request) -> Response<Body> {
    admin::respond(state, req, |caller, req| async move {
        let user_id = api::path_param(&req, "userId")?;
        if user_id.trim() != user_id
            || user_id.is_empty()
            || user_id.len() > 255
            || user_id.chars().any(char::is_control)
        {
            return Err(ApiError::invalid(
                "userId",
                "must be a user id (1-255 characters, no spaces around it, no control characters)",
            ));
        }
        let body: Body_ = api::json_body(&req)?;
        let email = api::claim(&req, "email");
        let mut client = state.pool.get().await?;
        let tx = client.transaction().await?;
        let flagged = admins::lock_flagged(&tx).await?;
        if !body.is_admin && user_id == caller {
            let named = &state.admins;
            let another_remains = flagged.iter().any(|u| *u != caller)
                || named.names(&caller, email.as_deref())
                || named.user_ids.iter().any(|u| *u != caller)
                || named.emails.iter().any(|e| {
                    Some(e.as_str()) != email.as_deref().map(str::to_lowercase).as_deref()
                });
            if !another_remains {
                return Err(ApiError::Conflict {
                    code: "last_admin",
                    message:
                        "You are the last admin: promote another user before demoting yourself"
                            .into(),
                });
            }
        }
        let user = admins::set_flag(&tx, &user_id, body.is_admin).await?;
        tx.commit().await?;
        tracing::info!(target_user = %user_id, is_admin = body.is_admin, "admin flag set");
        let body = json!({
            "userId": user.user_id,
            "name": user.name,
            "email": user.email,
            "isAdmin": user.is_admin || state.admins.names(&user.user_id, user.email.as_deref()),
            "adminFlag": user.is_admin,
            "updatedAt": user.updated_at,
        });
        Ok(api::json_response(StatusCode::OK, &body))
    })
    .await
}
