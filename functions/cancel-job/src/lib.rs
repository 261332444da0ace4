//! `DELETE /jobs/{jobId}` — cancels a running search. Its next step finds it cancelled and makes
//! no further API call; the creators found so far are kept.

use lambda_http::{http::StatusCode, Body, Request, Response};
use shared::{
    db::{self, jobs},
    http::{self, ApiError},
};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    http::respond(req, |user, req| async move {
        let id = http::path_uuid(&req, "jobId")?;
        let client = pool.get().await?;
        match jobs::cancel(&client, &user, id).await? {
            jobs::Cancelled::Now(job) => Ok(http::json_response(
                StatusCode::OK,
                &http::views::JobView::of(&job),
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
