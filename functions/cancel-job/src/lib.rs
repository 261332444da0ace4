//! `DELETE /jobs/{jobId}` — cancels a running search. Its next step finds it cancelled and makes
//! no further API call; the creators found so far are kept.

use api::ApiError;
use db::jobs;
use lambda_http::{http::StatusCode, Body, Request, Response};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let id = api::path_uuid(&req, "jobId")?;
        let client = pool.get().await?;
        match jobs::cancel(&client, &user, id).await? {
            jobs::Cancelled::Now(job) => Ok(api::json_response(
                StatusCode::OK,
                &api::views::JobView::of(&job),
            )),
            jobs::Cancelled::AlreadyFinished(status) => Err(ApiError::Conflict {
                code: "job_already_finished",
                message: format!("The search already ended ({})", status.as_str()),
            }),
            jobs::Cancelled::NotFound => Err(ApiError::NotFound("job")),
        }
    })
    .await
}
