//! `GET /jobs/{jobId}/creators.csv` — every creator of a search as CSV, with the columns of its
//! kind of search (see `export::csv`), in the order its pages show them. Large exports
//! are answered with a link (`export`).

use api::ApiError;
use db::{jobs, results::ExportSource};
use export::Layout;
use lambda_http::{Body, Request, Response};

pub async fn handler(state: &export::State, req: Request) -> Response<Body> {
    api::respond_export(req, |user, req| async move {
        let id = api::path_uuid(&req, "jobId")?;
        let mut client = api::within_round_trip(state.pool.get()).await?;
        let job = jobs::find_for_user(&client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("job"))?;
        let kind = job.kind().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("search {id} is of a kind not offered"))
        })?;
        let layout = Layout::of(kind);
        // Downloaded as `creators-{id}.csv`; stored under `exports/jobs/`.
        let name = format!("jobs/creators-{id}");
        export::answer(state, &mut client, ExportSource::Job(id), layout, &name).await
    })
    .await
}
