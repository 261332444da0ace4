//! `PATCH /campaigns/{campaignId}` — renames, re-describes, archives or re-activates one of the
//! caller's campaigns. Validated like `POST /campaigns`; another user's campaign is 404.

use api::ApiError;
use db::campaigns;
use domain::{campaign::CampaignChange, campaign::UpdateCampaignBody};
use lambda_http::{http::StatusCode, Body, Request, Response};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let id = api::path_uuid(&req, "campaignId")?;
        let body: UpdateCampaignBody = api::json_body(&req)?;
        let change = CampaignChange::try_from(body)?;
        let client = pool.get().await?;
        let campaign = campaigns::update(&client, &user, id, &change)
            .await?
            .ok_or(ApiError::NotFound("campaign"))?;
        Ok(api::json_response(StatusCode::OK, &campaign))
    })
    .await
}
