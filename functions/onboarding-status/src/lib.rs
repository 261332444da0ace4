//! `GET /onboarding/status` — where the caller is in onboarding, their profile, and their trial.

use api::ApiError;
use chrono::Utc;
use db::profiles;
use lambda_http::{http::StatusCode, Body, Request, Response};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, _req| async move {
        let client = pool.get().await?;
        let profile = profiles::find(&client, &user)
            .await?
            .ok_or(ApiError::NotFound("onboarding profile"))?;
        Ok(api::json_response(
            StatusCode::OK,
            &profile.onboarding_view(Utc::now()),
        ))
    })
    .await
}
