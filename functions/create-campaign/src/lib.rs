//! `POST /campaigns` — creates a campaign (status `draft`) for the caller. With an
//! `Idempotency-Key`, a retry of the same request within 24 hours gets the first answer again and
//! creates nothing.

use lambda_http::{http::StatusCode, Body, Request, Response};
use shared::{
    db::{self, campaigns, idempotency},
    domain::campaign::{CreateCampaignBody, NewCampaign},
    http,
};

const ROUTE: &str = "POST /campaigns";

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    http::respond(req, |user, req| async move {
        let key = http::idempotency_key(&req)?;
        let body: CreateCampaignBody = http::json_body(&req)?;
        let campaign = NewCampaign::try_from(body)?;
        let fingerprint = http::body_fingerprint(&req);
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        if let Some(key) = &key {
            match idempotency::lock_and_find(&tx, &user, ROUTE, key, &fingerprint).await? {
                idempotency::Prior::Answered { status, body } => {
                    return Ok(http::replayed_response(status, &body))
                }
                idempotency::Prior::OtherRequest => return Err(http::idempotency_key_reused()),
                idempotency::Prior::None => {}
            }
        }
        let created = campaigns::insert(&tx, &user, &campaign).await?;
        let answer = serde_json::to_value(&created).expect("a campaign serializes");
        if let Some(key) = &key {
            idempotency::store(&tx, &user, ROUTE, key, &fingerprint, 201, &answer).await?;
        }
        tx.commit().await?;
        Ok(http::json_response(StatusCode::CREATED, &answer))
    })
    .await
}
