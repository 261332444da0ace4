//! `PUT /admin/config/{category}/{key}` `{"value": "..."}` — changes a setting after checking the
//! value against its type and range (400 naming the rule, nothing changed); audited. Running
//! functions read it within their settings cache's lifetime (30 s).

use api::{admin, admin::AdminState, admin::SettingView, ApiError};
use db::settings;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    value: String,
}

pub async fn handler(state: &AdminState, req: Request) -> Response<Body> {
    admin::respond(state, req, |user, req| async move {
        let def = admin::definition(&req)?;
        let change: Change = api::json_body(&req)?;
        let value = change.value.trim();
        def.parse(value).map_err(|rule| ApiError::invalid("value", rule))?;
        let mut client = state.pool.get().await?;
        let row = settings::set(&mut client, def, value, &user).await?;
        tracing::info!(setting = %format!("{}.{}", def.category, def.key), value, "setting changed");
        Ok(api::json_response(
            StatusCode::OK,
            &SettingView::new(def, Some(&row)),
        ))
    })
    .await
}
