//! `campaigns`: a user's campaigns. Every query filters by the owner, so a campaign of another user
//! is indistinguishable from one that does not exist.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{jobs::JobSummary, GenericClient};
use domain::campaign::{CampaignChange, NewCampaign};

/// A campaign as shown to its owner.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub search_type: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, description, search_type, status, created_at, updated_at";

impl Campaign {
    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get("id"),
            name: row.get("name"),
            description: row.get("description"),
            search_type: row.get("search_type"),
            status: row.get("status"),
            created_at: row.get("created_at"),
            updated_at: row.get("updated_at"),
        }
    }
}

/// A campaign with the summary of its newest search, for lists.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignListItem {
    #[serde(flatten)]
    pub campaign: Campaign,
    pub latest_job: Option<JobSummary>,
}

#[tracing::instrument(skip(client, campaign))]
pub async fn insert(
    client: &impl GenericClient,
    user_id: &str,
    campaign: &NewCampaign,
) -> Result<Campaign, tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO campaigns (user_id, name, description, search_type) VALUES ($1, $2, $3, $4)
         RETURNING {COLUMNS}"
    );
    let row = client
        .query_one(
            &sql,
            &[
                &user_id,
                &campaign.name,
                &campaign.description,
                &campaign.search_type.as_str(),
            ],
        )
        .await?;
    Ok(Campaign::from_row(&row))
}

/// The campaigns one user may hold. A brand runs a few dozen a year; the cap keeps one account
/// (or a script holding its token) from filling the table.
pub const MAX_PER_USER: i64 = 1_000;

/// Serializes the user's campaign creations until the transaction ends and counts their
/// campaigns, so a cap checked with it holds under concurrent creates.
#[tracing::instrument(skip(client))]
pub async fn lock_and_count(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<i64, tokio_postgres::Error> {
    client
        .execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('campaigns:' || $1, 0))",
            &[&user_id],
        )
        .await?;
    Ok(client
        .query_one(
            "SELECT count(*) FROM campaigns WHERE user_id = $1",
            &[&user_id],
        )
        .await?
        .get(0))
}

/// The user's campaign, if it exists and is theirs.
#[tracing::instrument(skip(client))]
pub async fn find(
    client: &impl GenericClient,
    user_id: &str,
    id: Uuid,
) -> Result<Option<Campaign>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1 AND user_id = $2");
    let row = client.query_opt(&sql, &[&id, &user_id]).await?;
    Ok(row.as_ref().map(Campaign::from_row))
}

/// The user's campaign, locked against deletion and concurrent changes until the transaction
/// ends. A search start takes it before inserting its job: a concurrent `DELETE` of the campaign
/// then waits for the start (or the start for the delete) instead of the two deadlocking.
#[tracing::instrument(skip(client))]
pub async fn find_for_update(
    client: &impl GenericClient,
    user_id: &str,
    id: Uuid,
) -> Result<Option<Campaign>, tokio_postgres::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1 AND user_id = $2 FOR NO KEY UPDATE");
    let row = client.query_opt(&sql, &[&id, &user_id]).await?;
    Ok(row.as_ref().map(Campaign::from_row))
}

/// One page of the user's campaigns, newest first, each with its newest search; and the total.
#[tracing::instrument(skip(client))]
pub async fn list(
    client: &impl GenericClient,
    user_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<CampaignListItem>, i64), tokio_postgres::Error> {
    let total: i64 = client
        .query_one(
            "SELECT count(*) FROM campaigns WHERE user_id = $1",
            &[&user_id],
        )
        .await?
        .get(0);
    let sql = format!(
        "SELECT c.id, c.name, c.description, c.search_type, c.status, c.created_at, c.updated_at,
                to_jsonb(j) AS latest_job
         FROM (SELECT {COLUMNS} FROM campaigns WHERE user_id = $1
               ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3) c
         LEFT JOIN LATERAL (
             SELECT {summary} FROM scraping_jobs
             WHERE campaign_id = c.id ORDER BY created_at DESC, id DESC LIMIT 1
         ) j ON true
         ORDER BY c.created_at DESC, c.id DESC",
        summary = super::jobs::SUMMARY_COLUMNS,
    );
    let rows = client.query(&sql, &[&user_id, &limit, &offset]).await?;
    let items = rows
        .iter()
        .map(|row| CampaignListItem {
            campaign: Campaign::from_row(row),
            latest_job: row
                .get::<_, Option<serde_json::Value>>("latest_job")
                .and_then(JobSummary::from_json),
        })
        .collect();
    Ok((items, total))
}

/// Marks the campaign `active` (a search was started in it), unless it is archived or completed.
#[tracing::instrument(skip(client))]
pub async fn mark_active(
    client: &impl GenericClient,
    id: Uuid,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "UPDATE campaigns SET status = 'active' WHERE id = $1 AND status = 'draft'",
            &[&id],
        )
        .await?;
    Ok(())
}

/// Applies a change to the user's campaign; `None` when it is not theirs or does not exist.
#[tracing::instrument(skip(client))]
pub async fn update(
    client: &impl GenericClient,
    user_id: &str,
    id: Uuid,
    change: &CampaignChange,
) -> Result<Option<Campaign>, tokio_postgres::Error> {
    let sql = format!(
        "UPDATE campaigns SET name = COALESCE($3, name),
                description = CASE WHEN $4 THEN $5 ELSE description END,
                status = COALESCE($6, status)
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    let row = client
        .query_opt(
            &sql,
            &[
                &id,
                &user_id,
                &change.name,
                &change.description.is_some(),
                &change.description.clone().flatten(),
                &change.status.map(|s| s.as_str()),
            ],
        )
        .await?;
    Ok(row.as_ref().map(Campaign::from_row))
}

/// What deleting a campaign removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    /// Searches that were still running and were cancelled first.
    pub cancelled: u64,
    pub searches: u64,
}

/// Deletes the user's campaign: its running searches are cancelled first, in a transaction of
/// their own (so a worker holding one of their steps finishes or finds it cancelled, and pays for
/// nothing more), then the campaign goes with its searches and creators, and its rows of the
/// legacy tables, in one transaction. `None` when it is not theirs or does not exist. Cancelling
/// apart means no transaction ever holds the campaign while waiting for a search a worker holds,
/// the order in which two transactions could deadlock.
#[tracing::instrument(skip(client))]
pub async fn delete(
    client: &mut deadpool_postgres::Client,
    user_id: &str,
    id: Uuid,
) -> Result<Option<Deleted>, tokio_postgres::Error> {
    let cancelled = client
        .execute(
            "UPDATE scraping_jobs SET status = 'cancelled', completed_at = now(),
                 lease_token = NULL, lease_expires_at = NULL
             WHERE campaign_id = $1 AND user_id = $2 AND status IN ('pending', 'processing')",
            &[&id, &user_id],
        )
        .await?;
    let tx = client.transaction().await?;
    let owned = tx
        .query_opt(
            "SELECT 1 FROM campaigns WHERE id = $1 AND user_id = $2 FOR UPDATE",
            &[&id, &user_id],
        )
        .await?
        .is_some();
    if !owned {
        return Ok(None);
    }
    let searches = tx
        .execute("DELETE FROM scraping_jobs WHERE campaign_id = $1", &[&id])
        .await?;
    tx.execute(
        "DELETE FROM search_results WHERE job_id IN (SELECT id FROM search_jobs WHERE campaign_id = $1)",
        &[&id],
    )
    .await?;
    tx.execute("DELETE FROM search_jobs WHERE campaign_id = $1", &[&id])
        .await?;
    tx.execute("DELETE FROM campaigns WHERE id = $1", &[&id])
        .await?;
    tx.commit().await?;
    Ok(Some(Deleted {
        cancelled,
        searches,
    }))
}
