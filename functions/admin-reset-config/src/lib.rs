//! `DELETE /admin/config/{category}/{key}` — restores the setting's default (audited like any
//! change) and answers the setting.

use api::{admin, admin::AdminState, admin::SettingView};
use db::settings;
use lambda_http::{http::StatusCode, Body, Request, Response};

pub async fn handler(state: &AdminState, req: Request) -> Response<Body> {
    admin::respond(state, req, |user, req| async move {
        let def = admin::definition(&req)?;
        let mut client = state.pool.get().await?;
        let row = settings::set(&mut client, def, def.default, &user).await?;
        Ok(api::json_response(
            StatusCode::OK,
            &SettingView::new(def, Some(&row)),
        ))
    })
    .await
}
