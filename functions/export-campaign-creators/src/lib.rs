//! `GET /campaigns/{campaignId}/creators.csv` — every search of a campaign in one file, one row
//! per creator: a creator found by several searches is listed once, with all of them in its
//! "Found by" column. Large exports are answered with a link (`export`).

use api::ApiError;
use db::{campaigns, results::ExportSource};
use export::Layout;
use lambda_http::{Body, Request, Response};

pub async fn handler(state: &export::State, req: Request) -> Response<Body> {
    api::respond_export(req, |user, req| async move {
        let id = api::path_uuid(&req, "campaignId")?;
        let mut client = api::within_round_trip(state.pool.get()).await?;
        campaigns::find(&client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("campaign"))?;
        // Downloaded as `campaign-{id}.csv`; stored under `exports/campaigns/`.
        let name = format!("campaigns/campaign-{id}");
        export::answer(
            state,
            &mut client,
            ExportSource::Campaign(id),
            Layout::Campaign,
            &name,
        )
        .await
    })
    .await
}
