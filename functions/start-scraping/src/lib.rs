//! `POST /scraping/{platform}` — starts a search in one of the caller's campaigns.
//!
//! Everything is decided in one transaction, before anything is written: the caller's profile is
//! locked (so two starts of one user are checked one after the other), then onboarding, the
//! trial or plan, the searches running and the credits of the period are checked against the
//! plan's limits. The job is committed `pending` with its answer (and the `Idempotency-Key`'s,
//! when sent); its first step is sent after the commit. A send that fails leaves the job pending
//! (the outbox): the sweeper sends it, so the caller's 202 always stands for a search that runs,
//! or, should the queue stay down past the job's deadline, one that ends `timeout` for all to see.

use api::ApiError;
use chrono::Utc;
use db::{billing, campaigns, idempotency, jobs, settings::SettingsCache};
use domain::{search::NewSearch, search::Platform, search::StartSearchBody};
use lambda_http::{http::StatusCode, Body, Request, Response};
use queue::{JobQueue, StepMessage};
use serde_json::json;
use std::time::Duration;

/// Built once per container.
pub struct State<Q> {
    pub pool: db::Pool,
    pub queue: Q,
    pub settings: SettingsCache,
}

/// Retry-After for a user at their running-searches limit: about one search step.
const RUNNING_RETRY_AFTER_SECS: u64 = 30;

/// How long a start waits for its first step's send and record once the search is committed.
const AFTER_COMMIT: Duration = Duration::from_secs(1);

pub async fn handler<Q: JobQueue>(state: &State<Q>, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let slug = api::path_param(&req, "platform")?;
        let platform = Platform::from_slug(&slug)
            .ok_or_else(|| ApiError::invalid("platform", "must be tiktok, instagram or youtube"))?;
        let key = api::idempotency_key(&req)?;
        let body: StartSearchBody = api::json_body(&req)?;
        let search = NewSearch::parse(platform, body)?;
        let route = format!("POST /scraping/{slug}");
        let fingerprint = api::body_fingerprint(&req);

        let mut client = state.pool.get().await?;
        let settings = state.settings.get(&client).await?;
        let tx = client.transaction().await?;
        if let Some(key) = &key {
            match idempotency::lock_and_find(&tx, &user, &route, key, &fingerprint).await? {
                idempotency::Prior::Answered { status, body } => {
                    return Ok(api::replayed_response(status, &body))
                }
                idempotency::Prior::OtherRequest => return Err(api::idempotency_key_reused()),
                idempotency::Prior::None => {}
            }
        }
        let standing = billing::lock_standing(&tx, &user)
            .await?
            .ok_or(ApiError::Forbidden {
                code: "onboarding_required",
                message: "Complete onboarding to start searching".into(),
            })?;
        let plan = standing.plan_at(Utc::now())?;
        let running = billing::running_searches(&tx, &user).await?;
        let max_running = settings.max_running_searches(&plan);
        if running >= max_running {
            return Err(ApiError::TooManyRequests {
                code: "too_many_running_searches",
                message: format!(
                    "{running} searches are running; your plan allows {max_running} at once"
                ),
                retry_after_secs: RUNNING_RETRY_AFTER_SECS,
            });
        }
        let spent = billing::period_credits(&tx, &user).await?;
        let budget = settings.period_credits(&plan);
        if spent >= budget {
            return Err(ApiError::PaymentRequired {
                code: "credit_limit_reached",
                message: format!(
                    "This billing period's {budget} credits are spent; they renew with the next period"
                ),
            });
        }
        let campaign = campaigns::find_for_update(&tx, &user, search.campaign_id)
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
        // The queue deadline; the first step restarts the clock at the search's start.
        let timeout_at = Utc::now() + settings.job_timeout();
        let job = jobs::insert(&tx, &user, &search, target, timeout_at).await?;
        campaigns::mark_active(&tx, campaign.id).await?;
        let answer = json!({
            "jobId": job.id,
            "status": "pending",
            "statusUrl": format!("/jobs/{}", job.id),
            "targetResults": target,
        });
        if let Some(key) = &key {
            idempotency::store(&tx, &user, &route, key, &fingerprint, 202, &answer).await?;
        }
        tx.commit().await?;

        let first = StepMessage {
            job_id: job.id,
            step: 0,
        };
        // The search is committed: its answer is 202 whatever happens next. The send and its
        // record are bounded, so a queue or database that stops answering now cannot turn that
        // answer into a 503 at the request's deadline; the sweeper sends an unsent first step.
        let sent = tokio::time::timeout(AFTER_COMMIT, async {
            let message_id = state
                .queue
                .send(&first, Duration::ZERO)
                .await
                .map_err(|e| e.to_string())?;
            jobs::record_enqueued(&client, job.id, 0, &message_id)
                .await
                .map_err(|e| format!("the first step was sent but not recorded: {e}"))?;
            Ok::<_, String>(())
        })
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(
                job_id = %job.id, error = %e,
                "the first step could not be sent or recorded; the sweeper will send it"
            ),
            Err(_) => tracing::warn!(
                job_id = %job.id,
                "the first step's send took longer than {AFTER_COMMIT:?}; the sweeper will send it if it was lost"
            ),
        }
        tracing::info!(job_id = %job.id, platform = platform.as_str(), plan, "search started");
        Ok(api::json_response(StatusCode::ACCEPTED, &answer))
    })
    .await
}
