//! `POST /campaigns` — creates a campaign (status `draft`) for the caller, up to
//! [`campaigns::MAX_PER_USER`] (409 `campaign_limit_reached` beyond). With an
//! `Idempotency-Key`, a retry of the same request within 24 hours gets the first answer again and
//! creates nothing.

use api::ApiError;
use db::{campaigns, idempotency};
use domain::{campaign::CreateCampaignBody, campaign::NewCampaign};
use lambda_http::{http::StatusCode, Body, Request, Response};

const ROUTE: &str = "POST /campaigns";

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let key = api::idempotency_key(&req)?;
        let body: CreateCampaignBody = api::json_body(&req)?;
        let campaign = NewCampaign::try_from(body)?;
        let fingerprint = api::body_fingerprint(&req);
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        if let Some(key) = &key {
            match idempotency::lock_and_find(&tx, &user, ROUTE, key, &fingerprint).await? {
                idempotency::Prior::Answered { status, body } => {
                    return Ok(api::replayed_response(status, &body))
                }
                idempotency::Prior::OtherRequest => return Err(api::idempotency_key_reused()),
                idempotency::Prior::None => {}
            }
        }
        if campaigns::lock_and_count(&tx, &user).await? >= campaigns::MAX_PER_USER {
            return Err(ApiError::Conflict {
                code: "campaign_limit_reached",
                message: format!(
                    "An account holds at most {} campaigns: delete one to create another",
                    campaigns::MAX_PER_USER
                ),
            });
        }
        let created = campaigns::insert(&tx, &user, &campaign).await?;
        let answer = serde_json::to_value(&created).expect("a campaign serializes");
        if let Some(key) = &key {
            idempotency::store(&tx, &user, ROUTE, key, &fingerprint, 201, &answer).await?;
        }
        tx.commit().await?;
        Ok(api::json_response(StatusCode::CREATED, &answer))
    })
    .await
}
