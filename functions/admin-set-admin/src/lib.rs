//! `PUT /admin/users/{userId}/admin` `{"isAdmin": bool}` — promotes or demotes a user (creating
//! their profile when they have none). A demotion that would leave no admin is refused (409
//! `last_admin`).
//!
//! Both rules are checked inside the transaction that changes the flag, with every admin's
//! profile locked ([`admins::lock_admins`]): the caller must still be an admin there (a
//! demotion committed a moment ago counts), and at least one admin who exists must remain — a
//! flagged profile, a profile the deployment names by id or by a verified address, or the
//! caller when the deployment names them (they are signed in). An address in `ADMIN_EMAILS`
//! that no profile holds, verified, is no one, and does not count.

use std::collections::BTreeSet;

use api::{admin, admin::AdminState, ApiError};
use db::admins::{self, AdminUser};
use domain::admin::Admins;
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
        let caller = Caller {
            user_id: caller,
            verified_email: api::verified_email(&req),
        };
        let mut client = state.pool.get().await?;
        let tx = client.transaction().await?;
        let locked = admins::lock_admins(&tx, &state.admins).await?;
        check_change(&state.admins, &locked, &caller, &user_id, body.is_admin)?;
        let user = admins::set_flag(&tx, &user_id, body.is_admin).await?;
        tx.commit().await?;
        tracing::info!(target_user = %user_id, is_admin = body.is_admin, "admin flag set");
        let body = json!({
            "userId": user.user_id,
            "name": user.name,
            "email": user.email,
            "isAdmin": user.is_admin_with(&state.admins),
            "adminFlag": user.is_admin,
            "updatedAt": user.updated_at,
        });
        Ok(api::json_response(StatusCode::OK, &body))
    })
    .await
}

/// The caller as this request proves them.
struct Caller {
    user_id: String,
    verified_email: Option<String>,
}

/// Checks, against the admins' profiles as locked, that the caller is still an admin (403
/// `forbidden`) and that setting `target`'s flag to `flag` leaves at least one admin (409
/// `last_admin`).
fn check_change(
    named: &Admins,
    locked: &[AdminUser],
    caller: &Caller,
    target: &str,
    flag: bool,
) -> api::Result<()> {
    let caller_named = named.names(&caller.user_id, caller.verified_email.as_deref());
    let caller_flagged = locked
        .iter()
        .any(|u| u.user_id == caller.user_id && u.is_admin);
    if !caller_named && !caller_flagged {
        return Err(ApiError::Forbidden {
            code: "forbidden",
            message: "Only admins may use this route".into(),
        });
    }
    if flag {
        return Ok(());
    }
    let mut remaining: BTreeSet<&str> = locked
        .iter()
        .filter(|u| {
            let flagged = u.is_admin && u.user_id != target;
            flagged || named.names(&u.user_id, u.verified_email())
        })
        .map(|u| u.user_id.as_str())
        .collect();
    if caller_named {
        remaining.insert(&caller.user_id);
    }
    if remaining.is_empty() {
        return Err(ApiError::Conflict {
            code: "last_admin",
            message: "No admin would remain: promote another user before this demotion".into(),
        });
    }
    Ok(())
}
