//! `PATCH /campaigns/{campaignId}` — renames, re-describes, archives or re-activates one of the
//! caller's campaigns. Validated like `POST /campaigns`; another user's campaign is 404.

use lambda_http::{http::StatusCode, Body, Request, Response};
use shared::{
    db::{self, campaigns},
    domain::campaign::{CampaignChange, UpdateCampaignBody},
    http::{self, ApiError},
};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    http::respond(req, |user, req| async move {
        let id = http::path_uuid(&req, "campaignId")?;
        let body: UpdateCampaignBody = http::json_body(&req)?;
        let change = CampaignChange::try_from(body)?;
        let client = pool.get().await?;
        let campaign = campaigns::update(&client, &user, id, &change)
            .await?
            .ok_or(ApiError::NotFound("campaign"))?;
        Ok(http::json_response(StatusCode::OK, &campaign))
    })
    .await
}
