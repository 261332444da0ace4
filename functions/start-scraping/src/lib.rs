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
use db::campaigns::{self, Campaign};
use db::jobs::{self, Job};
use db::settings::{Settings, SettingsCache};
use db::{billing, idempotency, PoolClient, Transaction};
use domain::search::{NewSearch, Platform, StartSearchBody};
use domain::{credits, plan::Plan, Refusal};
use lambda_http::{http::StatusCode, Body, Request, Response};
use queue::{JobQueue, StepMessage};
use serde_json::{json, Value};
use std::time::Duration;

/// Built once per container.
pub struct State<Q> {
    pub pool: db::Pool,
    pub queue: Q,
    pub settings: SettingsCache,
}

/// How long a start waits for its first step's send and record once the search is committed.
const AFTER_COMMIT: Duration = Duration::from_secs(1);

pub async fn handler<Q: JobQueue>(state: &State<Q>, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let start = Start::parse(&req)?;
        let mut client = state.pool.get().await?;
        let settings = state.settings.get(&client).await?;
        // A replay or a refusal returns before the commit: nothing is written, and the locks taken
        // so far are released with the rollback.
        let tx = client.transaction().await?;
        if let Some(replayed) = replay(&tx, &user, &start).await? {
            return Ok(replayed);
        }
        let plan = check_standing(&tx, &user, &settings).await?;
        let campaign = lock_campaign(&tx, &user, &start.search).await?;
        let (job, answer) = create_job(&tx, &user, &start, &settings, &campaign).await?;
        tx.commit().await?;
        send_first_step(&state.queue, client, &job).await;
        tracing::info!(job_id = %job.id, platform = start.platform.as_str(), plan = plan.as_str(), "search started");
        Ok(api::json_response(StatusCode::ACCEPTED, &answer))
    })
    .await
}

/// A start as the request asks for it, read before the database is touched.
struct Start {
    platform: Platform,
    search: NewSearch,
    /// The `Idempotency-Key`, when sent, with the route and the body it answers for.
    key: Option<String>,
    route: String,
    fingerprint: String,
}

impl Start {
    fn parse(req: &Request) -> api::Result<Self> {
        let slug = api::path_param(req, "platform")?;
        let platform = Platform::from_slug(&slug).ok_or_else(|| {
            let slugs: Vec<_> = Platform::ALL.iter().map(|p| p.slug()).collect();
            ApiError::invalid("platform", format!("must be one of {}", slugs.join(", ")))
        })?;
        let key = api::idempotency_key(req)?;
        let body: StartSearchBody = api::json_body(req)?;
        let search = NewSearch::parse(platform, body)?;
        Ok(Self {
            platform,
            search,
            key,
            route: format!("POST /scraping/{slug}"),
            fingerprint: api::body_fingerprint(req),
        })
    }
}

/// The answer already given to this start's `Idempotency-Key`, if any. The key stays locked
/// until the transaction ends, so a retry sent meanwhile waits for this one's answer.
async fn replay(
    tx: &Transaction<'_>,
    user: &str,
    start: &Start,
) -> api::Result<Option<Response<Body>>> {
    let Some(key) = &start.key else {
        return Ok(None);
    };
    match idempotency::lock_and_find(tx, user, &start.route, key, &start.fingerprint).await? {
        idempotency::Prior::Answered { status, body } => {
            Ok(Some(api::replayed_response(status, &body)))
        }
        idempotency::Prior::OtherRequest => Err(api::idempotency_key_reused()),
        idempotency::Prior::None => Ok(None),
    }
}

/// Locks the caller's profile (two starts of one user are so checked one after the other), then
/// checks onboarding, the trial or plan, and the plan's limits on running searches and on the
/// period's credits. Returns the plan.
async fn check_standing(
    tx: &Transaction<'_>,
    user: &str,
    settings: &Settings,
) -> api::Result<Plan> {
    let standing = billing::lock_standing(tx, user)
        .await?
        .ok_or(ApiError::Forbidden {
            code: "onboarding_required",
            message: "Complete onboarding to start searching".into(),
        })?;
    let plan = standing.plan_at(Utc::now())?;
    let running = billing::running_searches(tx, user).await?;
    let spent = billing::period_credits(tx, user).await?;
    credits::may_start(&settings.limits(plan), running, spent).map_err(Refusal::from)?;
    Ok(plan)
}

/// Locks the campaign the search starts in: the caller's, and one for this type of search.
async fn lock_campaign(
    tx: &Transaction<'_>,
    user: &str,
    search: &NewSearch,
) -> api::Result<Campaign> {
    let campaign = campaigns::find_for_update(tx, user, search.campaign_id)
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
    Ok(campaign)
}

/// Inserts the job `pending`, marks its campaign active and stores the answer under the
/// `Idempotency-Key`, when sent. Returns the job and its answer.
async fn create_job(
    tx: &Transaction<'_>,
    user: &str,
    start: &Start,
    settings: &Settings,
    campaign: &Campaign,
) -> api::Result<(Job, Value)> {
    let search = &start.search;
    let target = search
        .target_results
        .unwrap_or_else(|| settings.default_target_results(search.kind));
    // The queue deadline; the first step restarts the clock at the search's start.
    let timeout_at = Utc::now() + settings.job_timeout();
    let job = jobs::insert(tx, user, search, target, timeout_at).await?;
    campaigns::mark_active(tx, campaign.id).await?;
    let answer = json!({
        "jobId": job.id,
        "status": "pending",
        "statusUrl": format!("/jobs/{}", job.id),
        "targetResults": target,
    });
    if let Some(key) = &start.key {
        idempotency::store(
            tx,
            user,
            &start.route,
            key,
            &start.fingerprint,
            202,
            &answer,
        )
        .await?;
    }
    Ok((job, answer))
}

/// Sends the committed search's first step and records the send on the job.
///
/// The search is committed: its answer is 202 whatever happens next. The send and its record are
/// bounded, so a queue or database that stops answering now cannot turn that answer into a 503
/// at the request's deadline; the sweeper sends an unsent first step. The connection goes with
/// the record, back to the pool as soon as the send ends or is given up.
async fn send_first_step<Q: JobQueue>(queue: &Q, client: PoolClient, job: &Job) {
    let job_id = job.id;
    let first = StepMessage { job_id, step: 0 };
    let record = |id: String| async move { jobs::record_enqueued(&client, job_id, 0, &id).await };
    let sent = tokio::time::timeout(
        AFTER_COMMIT,
        queue::send_and_record(queue, &first, Duration::ZERO, record),
    )
    .await;
    match sent {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(
            job_id = %job_id, error = %e,
            "the first step could not be sent or recorded; the sweeper will send it"
        ),
        Err(_) => tracing::warn!(
            job_id = %job_id,
            "the first step's send took longer than {AFTER_COMMIT:?}; the sweeper will send it if it was lost"
        ),
    }
}
