//! `GET /admin/config` — every setting grouped by category: value, type, default, rule,
//! description, whether it reloads without a deploy, and when it last changed.

use std::collections::BTreeMap;

use api::{admin, admin::AdminState, admin::SettingView};
use db::settings;
use domain::settings::DEFINITIONS;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::json;

pub async fn handler(state: &AdminState, req: Request) -> Response<Body> {
    admin::respond(state, req, |_, _| async move {
        let client = state.pool.get().await?;
        let rows = settings::rows(&client).await?;
        let mut categories: BTreeMap<&str, Vec<SettingView>> = BTreeMap::new();
        for def in DEFINITIONS {
            let row = rows
                .iter()
                .find(|r| r.category == def.category && r.key == def.key);
            categories
                .entry(def.category)
                .or_default()
                .push(SettingView::new(def, row));
        }
        Ok(api::json_response(
            StatusCode::OK,
            &json!({"categories": categories}),
        ))
    })
    .await
}
