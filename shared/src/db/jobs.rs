//! `scraping_jobs`: searches and their progress.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use super::GenericClient;
use crate::domain::{
    campaign::SearchType,
    search::{JobStatus, NewSearch, Platform, SearchTarget},
};

/// The columns of a [`JobSummary`], for queries that build one with `to_jsonb`.
pub const SUMMARY_COLUMNS: &str = "id, status, platform, search_type, keywords, target_username, \
     progress, processed_results, target_results, error, created_at, completed_at";

/// What a list shows of a search.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "snake_case"))]
pub struct JobSummary {
    pub id: Uuid,
    pub status: String,
    pub platform: String,
    pub search_type: String,
    pub keywords: Option<Vec<String>>,
    pub target_username: Option<String>,
    pub progress: i32,
    pub processed_results: i32,
    pub target_results: i32,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl JobSummary {
    /// From a row turned into JSON by `to_jsonb`; `None` for SQL NULL (no job).
    pub fn from_json(value: serde_json::Value) -> Option<Self> {
        if value.is_null() {
            return None;
        }
        serde_json::from_value(value).ok()
    }
}

/// The searches of one campaign, newest first.
#[tracing::instrument(skip(client))]
pub async fn summaries_for_campaign(
    client: &impl GenericClient,
    campaign_id: Uuid,
) -> Result<Vec<JobSummary>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT to_jsonb(j) FROM (SELECT {SUMMARY_COLUMNS} FROM scraping_jobs
         WHERE campaign_id = $1 ORDER BY created_at DESC, id DESC) j"
    );
    let rows = client.query(&sql, &[&campaign_id]).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| JobSummary::from_json(r.get(0)))
        .collect())
}

/// A search job as stored.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: Uuid,
    pub user_id: String,
    pub campaign_id: Uuid,
    pub platform: Platform,
    pub search_type: SearchType,
    pub keywords: Option<Vec<String>>,
    pub target_username: Option<String>,
    pub region: Option<String>,
    pub target_results: i32,
    pub status: JobStatus,
    pub processed_runs: i32,
    pub processed_results: i32,
    pub progress: i32,
    pub cursor: serde_json::Value,
    pub error: Option<String>,
    pub completion_reason: Option<String>,
    pub queue_message_id: Option<String>,
    pub enqueued_step: i32,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub timeout_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Creator-API calls made for it (paid credits).
    pub credits_used: i32,
}

const JOB_COLUMNS: &str = "id, user_id, campaign_id, platform, search_type, keywords, target_username, region, \
     target_results, status, processed_runs, processed_results, progress, cursor, error, completion_reason, \
     queue_message_id, enqueued_step, lease_expires_at, timeout_at, created_at, started_at, completed_at, \
     credits_used";

impl Job {
    fn from_row(row: &Row) -> Self {
        let keywords: Option<serde_json::Value> = row.get("keywords");
        Self {
            id: row.get("id"),
            user_id: row.get("user_id"),
            campaign_id: row.get("campaign_id"),
            platform: Platform::parse(row.get("platform")).unwrap_or(Platform::TikTok),
            search_type: SearchType::parse(row.get("search_type")).unwrap_or(SearchType::Keyword),
            keywords: keywords.and_then(|k| serde_json::from_value(k).ok()),
            target_username: row.get("target_username"),
            region: row.get("region"),
            target_results: row.get("target_results"),
            status: JobStatus::parse(row.get("status")).unwrap_or(JobStatus::Error),
            processed_runs: row.get("processed_runs"),
            processed_results: row.get("processed_results"),
            progress: row.get("progress"),
            cursor: row.get("cursor"),
            error: row.get("error"),
            completion_reason: row.get("completion_reason"),
            queue_message_id: row.get("queue_message_id"),
            enqueued_step: row.get("enqueued_step"),
            lease_expires_at: row.get("lease_expires_at"),
            timeout_at: row.get("timeout_at"),
            created_at: row.get("created_at"),
            started_at: row.get("started_at"),
            completed_at: row.get("completed_at"),
            credits_used: row.get("credits_used"),
        }
    }

    /// The job as its owner sees it (without creators).
    pub fn view(&self) -> serde_json::Value {
        let mut view = serde_json::json!({
            "id": self.id,
            "campaignId": self.campaign_id,
            "status": self.status,
            "platform": self.platform.as_str(),
            "searchType": self.search_type.as_str(),
            "progress": self.progress,
            "processedResults": self.processed_results,
            "targetResults": self.target_results,
            "processedRuns": self.processed_runs,
            "creditsUsed": self.credits_used,
            "error": self.error,
            "completionReason": self.completion_reason,
            "createdAt": self.created_at,
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
        });
        match self.search_type {
            SearchType::Keyword => view["keywords"] = serde_json::json!(self.keywords),
            SearchType::Similar => view["targetUsername"] = serde_json::json!(self.target_username),
        }
        if let Some(region) = &self.region {
            view["region"] = serde_json::json!(region);
        }
        view
    }

    /// What the job searches for.
    pub fn target(&self) -> SearchTarget {
        match self.search_type {
            SearchType::Keyword => {
                SearchTarget::Keywords(self.keywords.clone().unwrap_or_default())
            }
            SearchType::Similar => {
                SearchTarget::Similar(self.target_username.clone().unwrap_or_default())
            }
        }
    }
}

/// Creates a `pending` job.
#[tracing::instrument(skip(client, search))]
pub async fn insert(
    client: &impl GenericClient,
    user_id: &str,
    search: &NewSearch,
    target_results: i32,
    timeout_at: DateTime<Utc>,
) -> Result<Job, tokio_postgres::Error> {
    let (keywords, username) = match &search.target {
        SearchTarget::Keywords(k) => (Some(serde_json::json!(k)), None),
        SearchTarget::Similar(u) => (None, Some(u.as_str())),
    };
    let sql = format!(
        "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_username,
             region, target_results, timeout_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {JOB_COLUMNS}"
    );
    let row = client
        .query_one(
            &sql,
            &[
                &user_id,
                &search.campaign_id,
                &search.platform.as_str(),
                &search.target.search_type().as_str(),
                &keywords,
                &username,
                &search.region,
                &target_results,
                &timeout_at,
            ],
        )
        .await?;
    Ok(Job::from_row(&row))
}

/// The job, whoever owns it (for the worker).
#[tracing::instrument(skip(client))]
pub async fn find(
    client: &impl GenericClient,
    id: Uuid,
) -> Result<Option<Job>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM scraping_jobs WHERE id = $1"
        ))
        .await?;
    Ok(client
        .query_opt(&stmt, &[&id])
        .await?
        .as_ref()
        .map(Job::from_row))
}

/// The user's job, if it exists and is theirs. A job still running past its deadline is stored
/// and returned as `timeout`.
#[tracing::instrument(skip(client))]
pub async fn find_for_user(
    client: &impl GenericClient,
    user_id: &str,
    id: Uuid,
) -> Result<Option<Job>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM scraping_jobs WHERE id = $1 AND user_id = $2"
        ))
        .await?;
    let Some(job) = client
        .query_opt(&stmt, &[&id, &user_id])
        .await?
        .as_ref()
        .map(Job::from_row)
    else {
        return Ok(None);
    };
    if !job.status.is_final() && job.timeout_at <= Utc::now() {
        return Ok(Some(time_out(client, id).await?.unwrap_or(job)));
    }
    Ok(Some(job))
}

/// Takes the lease on step `step` of a running job: succeeds only when the job has applied exactly
/// `step` steps, is neither finished nor past its deadline, and no other worker holds a live lease.
#[tracing::instrument(skip(client))]
pub async fn claim(
    client: &impl GenericClient,
    id: Uuid,
    step: i32,
    token: Uuid,
    lease_secs: f64,
    job_timeout_secs: f64,
) -> Result<Option<Job>, tokio_postgres::Error> {
    // The deadline counts from the search's start: the first claim sets it.
    let stmt = client
        .prepare_cached(&format!(
            "UPDATE scraping_jobs SET lease_token = $3, lease_expires_at = now() + make_interval(secs => $4),
                 status = 'processing', started_at = coalesce(started_at, now()),
                 timeout_at = CASE WHEN started_at IS NULL THEN now() + make_interval(secs => $5) ELSE timeout_at END
             WHERE id = $1 AND processed_runs = $2 AND status IN ('pending', 'processing')
               AND timeout_at > now() AND (lease_expires_at IS NULL OR lease_expires_at < now())
             RETURNING {JOB_COLUMNS}"
        ))
        .await?;
    Ok(client
        .query_opt(&stmt, &[&id, &step, &token, &lease_secs, &job_timeout_secs])
        .await?
        .as_ref()
        .map(Job::from_row))
}

/// Gives the lease back after a failed attempt, so the retry can claim the step at once.
#[tracing::instrument(skip(client))]
pub async fn release(
    client: &impl GenericClient,
    id: Uuid,
    token: Uuid,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "UPDATE scraping_jobs SET lease_token = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_token = $2",
            &[&id, &token],
        )
        .await?;
    Ok(())
}

/// How a step ends the job, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    TargetReached,
    ResultsExhausted,
    ApiLimitReached,
    /// The search's own credit cap, or its user's budget for the period, is spent.
    CreditLimit,
}

impl Completion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TargetReached => "target_reached",
            Self::ResultsExhausted => "results_exhausted",
            Self::ApiLimitReached => "api_limit_reached",
            Self::CreditLimit => "credit_limit",
        }
    }
}

/// Locks the job for committing step `step` under lease `token`; `None` when the lease was lost
/// (the job was cancelled, timed out, or the step was applied by another worker).
#[tracing::instrument(skip(client))]
pub async fn lock_for_commit(
    client: &impl GenericClient,
    id: Uuid,
    step: i32,
    token: Uuid,
) -> Result<Option<i32>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT processed_results FROM scraping_jobs
             WHERE id = $1 AND processed_runs = $2 AND lease_token = $3 AND status = 'processing'
             FOR UPDATE",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&id, &step, &token])
        .await?
        .map(|r| r.get(0)))
}

/// Records an applied step: counters, cursor, progress (which only rises) and, when the step
/// ends the job, its completion.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip(client, cursor))]
pub async fn apply_step(
    client: &impl GenericClient,
    id: Uuid,
    step: i32,
    added: i32,
    progress: i32,
    cursor: &serde_json::Value,
    completion: Option<Completion>,
) -> Result<Job, tokio_postgres::Error> {
    let status = if completion.is_some() {
        "completed"
    } else {
        "processing"
    };
    let reason = completion.map(Completion::as_str);
    let stmt = client
        .prepare_cached(&format!(
            "UPDATE scraping_jobs SET processed_runs = $2 + 1, processed_results = processed_results + $3,
                 progress = GREATEST(progress, $4), cursor = $5, status = $6, completion_reason = $7,
                 completed_at = CASE WHEN $6 = 'completed' THEN now() END,
                 lease_token = NULL, lease_expires_at = NULL
             WHERE id = $1 RETURNING {JOB_COLUMNS}"
        ))
        .await?;
    let row = client
        .query_one(
            &stmt,
            &[&id, &step, &added, &progress, cursor, &status, &reason],
        )
        .await?;
    Ok(Job::from_row(&row))
}

/// Notes that the message for `step` was sent.
#[tracing::instrument(skip(client))]
pub async fn record_enqueued(
    client: &impl GenericClient,
    id: Uuid,
    step: i32,
    message_id: &str,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE scraping_jobs SET queue_message_id = $3, enqueued_step = GREATEST(enqueued_step, $2)
             WHERE id = $1",
        )
        .await?;
    client.execute(&stmt, &[&id, &step, &message_id]).await?;
    Ok(())
}

/// Ends a running job as `error` with a message for the user. No effect on a finished job.
#[tracing::instrument(skip(client))]
pub async fn fail(
    client: &impl GenericClient,
    id: Uuid,
    message: &str,
) -> Result<bool, tokio_postgres::Error> {
    let n = client
        .execute(
            "UPDATE scraping_jobs SET status = 'error', error = $2, completed_at = now(),
                 lease_token = NULL, lease_expires_at = NULL
             WHERE id = $1 AND status IN ('pending', 'processing')",
            &[&id, &message],
        )
        .await?;
    Ok(n == 1)
}

pub const TIMEOUT_MESSAGE: &str =
    "The search took longer than allowed and was stopped. The creators found so far are kept.";

/// Ends a running job past its deadline as `timeout`; returns it when it changed.
#[tracing::instrument(skip(client))]
pub async fn time_out(
    client: &impl GenericClient,
    id: Uuid,
) -> Result<Option<Job>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            &format!(
                "UPDATE scraping_jobs SET status = 'timeout', error = $2, completed_at = now(),
                     lease_token = NULL, lease_expires_at = NULL
                 WHERE id = $1 AND status IN ('pending', 'processing') AND timeout_at <= now()
                 RETURNING {JOB_COLUMNS}"
            ),
            &[&id, &TIMEOUT_MESSAGE],
        )
        .await?;
    Ok(row.as_ref().map(Job::from_row))
}

/// What cancelling did.
#[derive(Debug)]
pub enum Cancelled {
    Now(Box<Job>),
    AlreadyFinished(JobStatus),
    NotFound,
}

/// Cancels the user's running job.
#[tracing::instrument(skip(client))]
pub async fn cancel(
    client: &impl GenericClient,
    user_id: &str,
    id: Uuid,
) -> Result<Cancelled, tokio_postgres::Error> {
    let row = client
        .query_opt(
            &format!(
                "UPDATE scraping_jobs SET status = 'cancelled', completed_at = now(),
                     lease_token = NULL, lease_expires_at = NULL
                 WHERE id = $1 AND user_id = $2 AND status IN ('pending', 'processing') AND timeout_at > now()
                 RETURNING {JOB_COLUMNS}"
            ),
            &[&id, &user_id],
        )
        .await?;
    if let Some(row) = row {
        return Ok(Cancelled::Now(Box::new(Job::from_row(&row))));
    }
    Ok(match find_for_user(client, user_id, id).await? {
        Some(job) => Cancelled::AlreadyFinished(job.status),
        None => Cancelled::NotFound,
    })
}

/// Sweeper: ends every running job past its deadline as `timeout`.
#[tracing::instrument(skip(client))]
pub async fn time_out_overdue(client: &impl GenericClient) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "UPDATE scraping_jobs SET status = 'timeout', error = $1, completed_at = now(),
                 lease_token = NULL, lease_expires_at = NULL
             WHERE status IN ('pending', 'processing') AND timeout_at <= now()",
            &[&TIMEOUT_MESSAGE],
        )
        .await
}

/// Sweeper: running jobs with no change for `stalled_secs` and no live lease, with the step each
/// waits for. Each is touched so the next sweep leaves it alone for another period.
#[tracing::instrument(skip(client))]
pub async fn take_stalled(
    client: &impl GenericClient,
    stalled_secs: f64,
    limit: i64,
) -> Result<Vec<(Uuid, i32)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "UPDATE scraping_jobs SET updated_at = now()
             WHERE id IN (
                 SELECT id FROM scraping_jobs
                 WHERE status IN ('pending', 'processing') AND timeout_at > now()
                   AND (updated_at < now() - make_interval(secs => $1)
                        -- The outbox: a start whose first step could not be sent.
                        OR (status = 'pending' AND enqueued_step < 0 AND updated_at < now() - interval '10 seconds'))
                   AND (lease_expires_at IS NULL OR lease_expires_at < now())
                 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING id, processed_runs",
            &[&stalled_secs, &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Sweeper: deletes finished jobs (and, by cascade, their creators) past their retention.
#[tracing::instrument(skip(client))]
pub async fn delete_expired(
    client: &impl GenericClient,
    completed: std::time::Duration,
    failed: std::time::Duration,
) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "DELETE FROM scraping_jobs
             WHERE (status = 'completed' AND completed_at < now() - make_interval(secs => $1))
                OR (status IN ('error', 'cancelled', 'timeout') AND completed_at < now() - make_interval(secs => $2))",
            &[&completed.as_secs_f64(), &failed.as_secs_f64()],
        )
        .await
}
