//! `POST /campaigns` — creates a campaign (status `draft`) for the caller.

use lambda_http::{http::StatusCode, Body, Request, Response};
use shared::{
    db::{self, campaigns},
    domain::campaign::{CreateCampaignBody, NewCampaign},
    http::{self, ApiError},
};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    http::respond(req, |user, req| async move {
        let body: CreateCampaignBody = http::json_body(&req)?;
        let campaign = NewCampaign::try_from(body)?;
        let client = pool.get().await?;
        let created = campaigns::insert(&client, &user, &campaign)
            .await
            .map_err(ApiError::from)?;
        Ok(http::json_response(StatusCode::CREATED, &created))
    })
    .await
}
