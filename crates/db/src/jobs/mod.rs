//! `scraping_jobs`: searches and their progress, as rows.
//!
//! - this module: the row, creating and reading jobs;
//! - [`lease`]: the step protocol (claim, commit, enqueue records);
//! - [`lifecycle`]: ending jobs (error, timeout, cancel) and the sweeper's queries.

mod lease;
mod lifecycle;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use super::GenericClient;
use crate::stored::Stored;
use domain::{
    campaign::SearchType,
    search::{JobStatus, NewSearch, Platform, SearchKind, SearchTarget},
};

pub use lease::*;
pub use lifecycle::*;

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

/// One page of a campaign's searches, newest first, and how many it has.
#[tracing::instrument(skip(client))]
pub async fn summaries_for_campaign(
    client: &impl GenericClient,
    campaign_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<JobSummary>, i64), tokio_postgres::Error> {
    let total: i64 = client
        .query_one(
            "SELECT count(*) FROM scraping_jobs WHERE campaign_id = $1",
            &[&campaign_id],
        )
        .await?
        .get(0);
    let sql = format!(
        "SELECT to_jsonb(j) FROM (SELECT {SUMMARY_COLUMNS} FROM scraping_jobs
         WHERE campaign_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3) j"
    );
    let rows = client.query(&sql, &[&campaign_id, &limit, &offset]).await?;
    let jobs = rows
        .into_iter()
        .filter_map(|r| JobSummary::from_json(r.get(0)))
        .collect();
    Ok((jobs, total))
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

pub(super) const JOB_COLUMNS: &str = "id, user_id, campaign_id, platform, search_type, keywords, target_username, region, \
     target_results, status, processed_runs, processed_results, progress, cursor, error, completion_reason, \
     queue_message_id, enqueued_step, lease_expires_at, timeout_at, created_at, started_at, completed_at, \
     credits_used";

impl Job {
    /// The kind of search; `None` only for a row written by hand with a pair the product does not
    /// offer (starts are validated).
    pub fn kind(&self) -> Option<SearchKind> {
        SearchKind::of(self.platform, self.search_type)
    }

    /// The row as a job; a platform, search type or status the code does not know is an error
    /// (the `CHECK`s keep them out; a value added by hand is reported, never read as another).
    pub(super) fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error> {
        let keywords: Option<serde_json::Value> = row.get("keywords");
        Ok(Self {
            id: row.get("id"),
            user_id: row.get("user_id"),
            campaign_id: row.get("campaign_id"),
            platform: row.try_get::<_, Stored<Platform>>("platform")?.0,
            search_type: row.try_get::<_, Stored<SearchType>>("search_type")?.0,
            keywords: keywords.and_then(|k| serde_json::from_value(k).ok()),
            target_username: row.get("target_username"),
            region: row.get("region"),
            target_results: row.get("target_results"),
            status: row.try_get::<_, Stored<JobStatus>>("status")?.0,
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
        })
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
    Job::from_row(&row)
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
    client
        .query_opt(&stmt, &[&id])
        .await?
        .as_ref()
        .map(Job::from_row)
        .transpose()
}

/// The user's job, if it exists and is theirs, as stored (a job past its deadline may still read
/// as running: see [`time_out_if_overdue`]).
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
    client
        .query_opt(&stmt, &[&id, &user_id])
        .await?
        .as_ref()
        .map(Job::from_row)
        .transpose()
}

/// Locks the job's row for the rest of the transaction.
#[tracing::instrument(skip(client))]
pub async fn lock(client: &impl GenericClient, id: Uuid) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT 1 FROM scraping_jobs WHERE id = $1 FOR UPDATE")
        .await?;
    client.query_opt(&stmt, &[&id]).await?;
    Ok(())
}
