//! The enrichment of a search's creators, apart from its page chain: rows stored `pending` are
//! claimed under a lease by an enrichment message, looked up, and filled in only by the delivery
//! that holds the lease. A search that stops skips its pending rows (a trigger, V14).
//!
//! A look-up the creator API refused (429) is not a finished one: its row goes back to pending,
//! claimable again only after the API's `Retry-After` ([`defer`]), with its claim given back. A
//! skipped row's stored creator says so (`"enrichment": "skipped"`, [`SKIP`]), so what users read
//! (the status pages, the exports) tells a creator looked up from one left as found.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use super::GenericClient;

/// Deliveries that may claim a row before it is skipped: a look-up that fails this often (the
/// worker dies, or its database is unreachable) is given up, and the creator stays as found.
pub const MAX_ATTEMPTS: i16 = 3;

/// The assignments that skip a row: its state, its lease, and the mark in its stored creator.
const SKIP: &str = "enrichment = 'skipped', enrich_token = NULL, enrich_lease_until = NULL, \
                    creators = creators || '{\"enrichment\": \"skipped\"}'::jsonb";

/// A row claimed for its look-up.
#[derive(Debug)]
pub struct Claimed {
    pub position: i32,
    pub creator: Value,
}

/// Claims the rows at `positions` that are still pending, not leased nor deferred, and have had
/// fewer than `max_attempts` deliveries, while the job runs or has completed. Rows out of
/// attempts, and rows still pending `give_up_secs` after they were stored (a look-up refused that
/// long), are skipped. Returns the claimed rows.
#[tracing::instrument(skip(client, positions), fields(positions = positions.len()))]
pub async fn claim(
    client: &impl GenericClient,
    job_id: Uuid,
    positions: &[i32],
    token: Uuid,
    lease_secs: f64,
    max_attempts: i16,
    give_up_secs: f64,
) -> Result<Vec<Claimed>, tokio_postgres::Error> {
    let give_up = client
        .prepare_cached(&format!(
            "UPDATE scraping_results SET {SKIP}
             WHERE job_id = $1 AND position = ANY($2) AND enrichment = 'pending'
               AND (enrich_attempts >= $3 OR created_at < now() - make_interval(secs => $4))
               AND (enrich_lease_until IS NULL OR enrich_lease_until < now())"
        ))
        .await?;
    client
        .execute(
            &give_up,
            &[&job_id, &positions, &max_attempts, &give_up_secs],
        )
        .await?;
    let stmt = client
        .prepare_cached(
            "UPDATE scraping_results r
                SET enrich_token = $3, enrich_lease_until = now() + make_interval(secs => $4),
                    enrich_attempts = r.enrich_attempts + 1
               FROM scraping_jobs j
              WHERE j.id = $1 AND j.status IN ('processing', 'completed')
                AND r.job_id = j.id AND r.position = ANY($2) AND r.enrichment = 'pending'
                AND r.enrich_attempts < $5
                AND (r.enrich_lease_until IS NULL OR r.enrich_lease_until < now())
             RETURNING r.position, r.creators",
        )
        .await?;
    let rows = client
        .query(
            &stmt,
            &[&job_id, &positions, &token, &lease_secs, &max_attempts],
        )
        .await?;
    let mut claimed: Vec<Claimed> = rows
        .iter()
        .map(|r| Claimed {
            position: r.get(0),
            creator: r.get(1),
        })
        .collect();
    claimed.sort_by_key(|c| c.position);
    Ok(claimed)
}

/// How many of the rows at `positions` are pending under another delivery's live lease (rows
/// deferred after a refusal are held by no delivery: see [`deferred_for`]).
#[tracing::instrument(skip(client, positions), fields(positions = positions.len()))]
pub async fn held_elsewhere(
    client: &impl GenericClient,
    job_id: Uuid,
    positions: &[i32],
) -> Result<i64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT count(*) FROM scraping_results
             WHERE job_id = $1 AND position = ANY($2) AND enrichment = 'pending'
               AND enrich_token IS NOT NULL AND enrich_lease_until >= now()",
        )
        .await?;
    Ok(client
        .query_one(&stmt, &[&job_id, &positions])
        .await?
        .get(0))
}

/// How long until the first of the rows at `positions` deferred after a refusal may be claimed
/// again, in seconds; `None` when none is deferred.
#[tracing::instrument(skip(client, positions), fields(positions = positions.len()))]
pub async fn deferred_for(
    client: &impl GenericClient,
    job_id: Uuid,
    positions: &[i32],
) -> Result<Option<f64>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT EXTRACT(EPOCH FROM min(enrich_lease_until) - now())::float8 FROM scraping_results
             WHERE job_id = $1 AND position = ANY($2) AND enrichment = 'pending'
               AND enrich_token IS NULL AND enrich_lease_until >= now()",
        )
        .await?;
    Ok(client
        .query_one(&stmt, &[&job_id, &positions])
        .await?
        .get(0))
}

/// A row whose look-up is to be tried again by a later delivery.
#[derive(Debug, Clone, Copy)]
pub struct Deferred {
    pub position: i32,
    /// Seconds before it may be claimed again (a refusal's `Retry-After`).
    pub after_secs: f64,
    /// Whether its claim is given back: a refused look-up was not an attempt.
    pub claim_returned: bool,
}

/// Gives back the rows held under `token` whose look-ups are to be tried again: pending, claimable
/// after each one's delay, their claim given back where the look-up was refused, and to be sent
/// again ([`mark_enqueued`] once their message is sent; the sweeper sends them otherwise).
#[tracing::instrument(skip(client, rows), fields(rows = rows.len()))]
pub async fn defer(
    client: &impl GenericClient,
    job_id: Uuid,
    token: Uuid,
    rows: &[Deferred],
) -> Result<u64, tokio_postgres::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let positions: Vec<i32> = rows.iter().map(|r| r.position).collect();
    let after: Vec<f64> = rows.iter().map(|r| r.after_secs).collect();
    let returned: Vec<bool> = rows.iter().map(|r| r.claim_returned).collect();
    let stmt = client
        .prepare_cached(
            "UPDATE scraping_results r
                SET enrich_token = NULL, enrich_lease_until = now() + make_interval(secs => u.after),
                    enrich_attempts = CASE WHEN u.returned THEN greatest(r.enrich_attempts - 1, 0)
                                           ELSE r.enrich_attempts END,
                    enrich_enqueued_at = NULL
               FROM unnest($3::int[], $4::float8[], $5::bool[]) AS u(pos, after, returned)
              WHERE r.job_id = $1 AND r.position = u.pos AND r.enrich_token = $2
                AND r.enrichment = 'pending'",
        )
        .await?;
    client
        .execute(&stmt, &[&job_id, &token, &positions, &after, &returned])
        .await
}

/// One filled-in row: its new body and relevance (`None` keeps the stored relevance).
#[derive(Debug)]
pub struct Filled {
    pub position: i32,
    pub creator: Value,
    pub relevance: Option<f32>,
}

/// Stores the looked-up rows still held under `token`; returns how many were stored.
#[tracing::instrument(skip(client, rows), fields(rows = rows.len()))]
pub async fn finish(
    client: &impl GenericClient,
    job_id: Uuid,
    token: Uuid,
    rows: &[Filled],
) -> Result<u64, tokio_postgres::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let positions: Vec<i32> = rows.iter().map(|r| r.position).collect();
    let bodies: Vec<&Value> = rows.iter().map(|r| &r.creator).collect();
    let relevance: Vec<Option<f32>> = rows.iter().map(|r| r.relevance).collect();
    let stmt = client
        .prepare_cached(
            "UPDATE scraping_results r
                SET creators = u.body, relevance = coalesce(u.rel, r.relevance), enrichment = 'done',
                    enrich_token = NULL, enrich_lease_until = NULL
               FROM unnest($3::int[], $4::jsonb[], $5::real[]) AS u(pos, body, rel)
              WHERE r.job_id = $1 AND r.position = u.pos AND r.enrich_token = $2
                AND r.enrichment = 'pending'",
        )
        .await?;
    client
        .execute(&stmt, &[&job_id, &token, &positions, &bodies, &relevance])
        .await
}

/// Skips the rows at `positions` held under `token` (their look-ups could not be paid for, or
/// were given up).
#[tracing::instrument(skip(client, positions), fields(positions = positions.len()))]
pub async fn skip_positions(
    client: &impl GenericClient,
    job_id: Uuid,
    token: Uuid,
    positions: &[i32],
) -> Result<u64, tokio_postgres::Error> {
    if positions.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE scraping_results SET {SKIP}
         WHERE job_id = $1 AND enrich_token = $2 AND enrichment = 'pending' AND position = ANY($3)"
    );
    client.execute(&sql, &[&job_id, &token, &positions]).await
}

/// Skips the rows held under `token` (the search's credits ran out).
#[tracing::instrument(skip(client))]
pub async fn skip(
    client: &impl GenericClient,
    job_id: Uuid,
    token: Uuid,
) -> Result<u64, tokio_postgres::Error> {
    let sql = format!(
        "UPDATE scraping_results SET {SKIP}
         WHERE job_id = $1 AND enrich_token = $2 AND enrichment = 'pending'"
    );
    client.execute(&sql, &[&job_id, &token]).await
}

/// Gives back the rows held under `token` after a failed attempt, so the retry can claim them.
#[tracing::instrument(skip(client))]
pub async fn release(
    client: &impl GenericClient,
    job_id: Uuid,
    token: Uuid,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "UPDATE scraping_results SET enrich_token = NULL, enrich_lease_until = NULL
             WHERE job_id = $1 AND enrich_token = $2 AND enrichment = 'pending'",
            &[&job_id, &token],
        )
        .await?;
    Ok(())
}

/// Notes that the rows at `positions` have their enrichment message sent.
#[tracing::instrument(skip(client, positions), fields(positions = positions.len()))]
pub async fn mark_enqueued(
    client: &impl GenericClient,
    job_id: Uuid,
    positions: &[i32],
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE scraping_results SET enrich_enqueued_at = now()
             WHERE job_id = $1 AND position = ANY($2) AND enrichment = 'pending'",
        )
        .await?;
    client.execute(&stmt, &[&job_id, &positions]).await?;
    Ok(())
}

/// The job's pending rows whose message was never sent (a crash or a failed send after the
/// step's commit), in order.
#[tracing::instrument(skip(client))]
pub async fn unsent(
    client: &impl GenericClient,
    job_id: Uuid,
) -> Result<Vec<i32>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT position FROM scraping_results
             WHERE job_id = $1 AND enrichment = 'pending' AND enrich_enqueued_at IS NULL
             ORDER BY position",
        )
        .await?;
    let rows = client.query(&stmt, &[&job_id]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// How many of the job's creators still wait for their look-up.
#[tracing::instrument(skip(client))]
pub async fn pending(
    client: &impl GenericClient,
    job_id: Uuid,
) -> Result<i64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT count(*) FROM scraping_results WHERE job_id = $1 AND enrichment = 'pending'",
        )
        .await?;
    Ok(client.query_one(&stmt, &[&job_id]).await?.get(0))
}

/// Sweeper: pending rows with no live lease whose message is not, or can no longer be, in the
/// queue: never sent and older than `unsent_secs`, or sent more than `in_flight_secs` ago. Rows
/// out of attempts are skipped first. The rows taken are marked sent now; returns them by job.
#[tracing::instrument(skip(client))]
pub async fn take_stale(
    client: &impl GenericClient,
    unsent_secs: f64,
    in_flight_secs: f64,
    max_attempts: i16,
    limit: i64,
) -> Result<Vec<(Uuid, Vec<i32>)>, tokio_postgres::Error> {
    let give_up = format!(
        "UPDATE scraping_results SET {SKIP}
         WHERE enrichment = 'pending' AND enrich_attempts >= $1
           AND (enrich_lease_until IS NULL OR enrich_lease_until < now())"
    );
    client.execute(&give_up, &[&max_attempts]).await?;
    let rows = client
        .query(
            "UPDATE scraping_results SET enrich_enqueued_at = now()
             WHERE id IN (
                 SELECT id FROM scraping_results
                  WHERE enrichment = 'pending'
                    AND (enrich_lease_until IS NULL OR enrich_lease_until < now())
                    AND ((enrich_enqueued_at IS NULL AND created_at < now() - make_interval(secs => $1))
                         OR enrich_enqueued_at < now() - make_interval(secs => $2))
                  ORDER BY job_id, position LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING job_id, position",
            &[&unsent_secs, &in_flight_secs, &limit],
        )
        .await?;
    let mut by_job: BTreeMap<Uuid, Vec<i32>> = BTreeMap::new();
    for r in &rows {
        by_job.entry(r.get(0)).or_default().push(r.get(1));
    }
    for positions in by_job.values_mut() {
        positions.sort_unstable();
    }
    Ok(by_job.into_iter().collect())
}
