//! `GET /admin/config/{category}/{key}` — one setting; 404 for a key that is not defined.

use api::{admin, admin::AdminState, admin::SettingView};
use db::settings;
use lambda_http::{http::StatusCode, Body, Request, Response};

pub async fn handler(state: &AdminState, req: Request) -> Response<Body> {
    admin::respond(state, req, |_, req| async move {
        let def = admin::definition(&req)?;
        let client = state.pool.get().await?;
        let row = settings::get(&client, def.category, def.key).await?;
        Ok(api::json_response(
            StatusCode::OK,
            &SettingView::new(def, row.as_ref()),
        ))
    })
    .await
}
