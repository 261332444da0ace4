//! JSON views the routes answer that more than one function shares.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use db::jobs::Job;
use domain::{campaign::SearchType, search::JobStatus};

/// A search as its owner sees it, without its creators (`GET /jobs/{jobId}`, `DELETE /jobs/{jobId}`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView<'a> {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub status: JobStatus,
    pub platform: &'static str,
    pub search_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<&'a str>,
    pub progress: i32,
    pub processed_results: i32,
    pub target_results: i32,
    pub processed_runs: i32,
    pub credits_used: i32,
    pub error: Option<&'a str>,
    pub completion_reason: Option<&'a str>,
    /// Creators whose own profiles (bio, emails, audience) are still being looked up; the search
    /// may have completed already. Shown by the status route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enriching: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl<'a> JobView<'a> {
    pub fn of(job: &'a Job) -> Self {
        let (keywords, target_username) = match job.search_type {
            // A keyword search always shows its keywords (null only if none were stored).
            SearchType::Keyword => (Some(job.keywords.as_deref().unwrap_or_default()), None),
            SearchType::Similar => (
                None,
                Some(job.target_username.as_deref().unwrap_or_default()),
            ),
        };
        Self {
            id: job.id,
            campaign_id: job.campaign_id,
            status: job.status,
            platform: job.platform.as_str(),
            search_type: job.search_type.as_str(),
            keywords,
            target_username,
            region: job.region.as_deref(),
            progress: job.progress,
            processed_results: job.processed_results,
            target_results: job.target_results,
            processed_runs: job.processed_runs,
            credits_used: job.credits_used,
            error: job.error.as_deref(),
            completion_reason: job.completion_reason.as_deref(),
            enriching: None,
            created_at: job.created_at,
            started_at: job.started_at,
            completed_at: job.completed_at,
        }
    }
}
