//! `DELETE /campaigns/{campaignId}` — cancels the campaign's running searches, then deletes it
//! with its searches and their creators (204). Another user's campaign is 404, nothing changed.

use api::ApiError;
use db::campaigns;
use lambda_http::{http::StatusCode, Body, Request, Response};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let id = api::path_uuid(&req, "campaignId")?;
        let mut client = pool.get().await?;
        let deleted = campaigns::delete(&mut client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("campaign"))?;
        tracing::info!(campaign_id = %id, cancelled = deleted.cancelled, searches = deleted.searches, "campaign deleted");
        Ok(api::empty_response(StatusCode::NO_CONTENT))
    })
    .await
}
