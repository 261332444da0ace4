//! `GET /jobs/{jobId}/creators.csv` — every creator of a search as CSV, with the columns of its
//! kind of search (see `export::csv`), in the order its pages show them. Large exports
//! are answered with a link (`export`).

use api::ApiError;
use db::{jobs, results::ExportSource};
use domain::{campaign::SearchType, search::Platform};
use export::Layout;
use lambda_http::{Body, Request, Response};

pub async fn handler(state: &export::State, req: Request) -> Response<Body> {
    api::respond_export(req, |user, req| async move {
        let id = api::path_uuid(&req, "jobId")?;
        let mut client = api::within_round_trip(state.pool.get()).await?;
        let job = jobs::find_for_user(&client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("job"))?;
        let layout = match (job.search_type, job.platform) {
            (SearchType::Keyword, Platform::YouTube) => Layout::YouTubeKeyword,
            (SearchType::Keyword, _) => Layout::TikTokKeyword,
            (SearchType::Similar, platform) => Layout::Similar(platform),
        };
        // Downloaded as `creators-{id}.csv`; stored under `exports/jobs/`.
        let name = format!("jobs/creators-{id}");
        export::answer(state, &mut client, ExportSource::Job(id), layout, &name).await
    })
    .await
}
