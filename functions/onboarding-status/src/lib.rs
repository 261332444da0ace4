//! `GET /onboarding/status` — where the caller is in onboarding, their profile, and their trial.

use chrono::Utc;
use lambda_http::{http::StatusCode, Body, Request, Response};
use shared::{
    db::{self, profiles},
    http::{self, ApiError},
};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    http::respond(req, |user, _req| async move {
        let client = pool.get().await?;
        let profile = profiles::find(&client, &user)
            .await?
            .ok_or(ApiError::NotFound("onboarding profile"))?;
        Ok(http::json_response(
            StatusCode::OK,
            &profile.onboarding_view(Utc::now()),
        ))
    })
    .await
}
