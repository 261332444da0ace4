//! `DELETE /campaigns/{campaignId}` — cancels the campaign's running searches, then deletes it
//! with its searches and their creators (204). Another user's campaign is 404, nothing changed.

use lambda_http::{http::StatusCode, Body, Request, Response};
use shared::{
    db::{self, campaigns},
    http::{self, ApiError},
};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    http::respond(req, |user, req| async move {
        let id = http::path_uuid(&req, "campaignId")?;
        let mut client = pool.get().await?;
        let deleted = campaigns::delete(&mut client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("campaign"))?;
        tracing::info!(campaign_id = %id, cancelled = deleted.cancelled, searches = deleted.searches, "campaign deleted");
        Ok(http::empty_response(StatusCode::NO_CONTENT))
    })
    .await
}
