//! `POST /scraping/{platform}` — starts a search in one of the caller's campaigns.
//!
//! The job is committed `pending`, then its first step is sent to the queue. When the send fails
//! the job is ended as `error` and the caller gets 503, so no job waits forever for a step that
//! was never sent.

use chrono::Utc;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::json;
use shared::{
    db::{self, campaigns, jobs, settings::SettingsCache},
    domain::search::{NewSearch, Platform, StartSearchBody},
    http::{self, ApiError},
    pipeline::queue::{JobQueue, StepMessage},
};
use std::time::Duration;

/// Built once per container.
pub struct State<Q> {
    pub pool: db::Pool,
    pub queue: Q,
    pub settings: SettingsCache,
}

const NOT_QUEUED: &str = "The search could not be queued. Please try again.";

pub async fn handler<Q: JobQueue>(state: &State<Q>, req: Request) -> Response<Body> {
    http::respond(req, |user, req| async move {
        let platform = http::path_param(&req, "platform")?;
        let platform = Platform::from_slug(&platform)
            .ok_or_else(|| ApiError::invalid("platform", "must be tiktok, instagram or youtube"))?;
        let body: StartSearchBody = http::json_body(&req)?;
        let search = NewSearch::parse(platform, body)?;

        let mut client = state.pool.get().await?;
        let settings = state.settings.get(&client).await?;
        let tx = client.transaction().await?;
        let campaign = campaigns::find(&tx, &user, search.campaign_id)
            .await?
            .ok_or(ApiError::NotFound("campaign"))?;
        let search_type = search.target.search_type();
        if campaign.search_type != search_type.as_str() {
            return Err(ApiError::Conflict {
                code: "search_type_mismatch",
                message: format!(
                    "This campaign is for {} searches; start a {} search in another campaign",
                    campaign.search_type,
                    search_type.as_str()
                ),
            });
        }
        let target = search
            .target_results
            .unwrap_or_else(|| settings.default_target_results(platform, search_type));
        let timeout_at = Utc::now() + settings.job_timeout();
        let job = jobs::insert(&tx, &user, &search, target, timeout_at).await?;
        campaigns::mark_active(&tx, campaign.id).await?;
        tx.commit().await?;

        let first = StepMessage {
            job_id: job.id,
            step: 0,
        };
        match state.queue.send(&first, Duration::ZERO).await {
            Ok(message_id) => {
                if let Err(e) = jobs::record_enqueued(&client, job.id, 0, &message_id).await {
                    tracing::warn!(error = %e, "the first step was sent but not recorded");
                }
            }
            Err(e) => {
                jobs::fail(&client, job.id, NOT_QUEUED).await?;
                return Err(ApiError::Unavailable(e.into()));
            }
        }
        tracing::info!(job_id = %job.id, platform = platform.as_str(), "search started");
        let body = json!({
            "jobId": job.id,
            "status": "pending",
            "statusUrl": format!("/jobs/{}", job.id),
            "targetResults": target,
        });
        Ok(http::json_response(StatusCode::ACCEPTED, &body))
    })
    .await
}
