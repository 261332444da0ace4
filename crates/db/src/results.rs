//! `scraping_results`: the creators each search found, one row per creator, in discovery order.

use std::collections::HashSet;

use serde_json::Value;
use uuid::Uuid;

use super::GenericClient;
use domain::creator::CreatorRecord;

/// Which of `keys` the job already holds.
#[tracing::instrument(skip(client, keys), fields(keys = keys.len()))]
pub async fn existing_keys(
    client: &impl GenericClient,
    job_id: Uuid,
    keys: &[String],
) -> Result<HashSet<String>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT creator_key FROM scraping_results WHERE job_id = $1 AND creator_key = ANY($2)",
        )
        .await?;
    let rows = client.query(&stmt, &[&job_id, &keys]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// What [`insert`] stored.
#[derive(Debug, Default)]
pub struct Inserted {
    pub count: i32,
    /// Positions of the stored creators that wait for their look-up, in order.
    pub pending: Vec<i32>,
}

/// Numbers the records the job does not hold yet from `$3` on, in the order given, so positions
/// stay gap-free when some are skipped.
const INSERT_NEW: &str = "WITH input AS (
                 SELECT key, body, rel, state, ord
                   FROM unnest($4::text[], $5::jsonb[], $6::real[], $7::text[])
                        WITH ORDINALITY AS t(key, body, rel, state, ord)
                 WHERE NOT EXISTS (SELECT 1 FROM scraping_results r WHERE r.job_id = $1 AND r.creator_key = t.key)
             ), numbered AS (
                 SELECT key, body, rel, state, row_number() OVER (ORDER BY ord) - 1 AS rn FROM input
             )
             INSERT INTO scraping_results (job_id, step, position, creator_key, creators, relevance, enrichment)
             SELECT $1, $2, $3 + rn::int, key, body, rel, state FROM numbered
             ON CONFLICT (job_id, creator_key) DO NOTHING
             RETURNING position, enrichment = 'pending'";

/// Stores `records` at positions `first_position..`, in one statement; a creator the job already
/// has is skipped. `pending[i]` says whether record `i` still needs its look-up (its row is stored
/// `pending`, else `done`). Call with the job row locked, so positions stay gap-free.
#[tracing::instrument(skip(client, records, pending), fields(records = records.len()))]
pub async fn insert(
    client: &impl GenericClient,
    job_id: Uuid,
    step: i32,
    first_position: i32,
    records: &[CreatorRecord],
    pending: &[bool],
) -> Result<Inserted, tokio_postgres::Error> {
    if records.is_empty() {
        return Ok(Inserted::default());
    }
    let keys: Vec<String> = records.iter().map(CreatorRecord::key).collect();
    let bodies: Vec<Value> = records.iter().map(body).collect();
    let relevance: Vec<Option<f32>> = records
        .iter()
        .map(|r| r.relevance.map(|v| v as f32))
        .collect();
    let states: Vec<&str> = (0..records.len())
        .map(|i| enrichment(pending.get(i).copied().unwrap_or(false)))
        .collect();
    let stmt = client.prepare_cached(INSERT_NEW).await?;
    let rows = client
        .query(
            &stmt,
            &[
                &job_id,
                &step,
                &first_position,
                &keys,
                &bodies,
                &relevance,
                &states,
            ],
        )
        .await?;
    Ok(inserted(&rows))
}

/// A record as stored.
fn body(record: &CreatorRecord) -> Value {
    let mut v = serde_json::to_value(record).expect("a creator serializes");
    strip_nul(&mut v);
    v
}

/// The stored `enrichment` of a record that waits for its look-up, or not.
fn enrichment(pending: bool) -> &'static str {
    if pending {
        "pending"
    } else {
        "done"
    }
}

/// What `RETURNING position, enrichment = 'pending'` gave back, the pending positions in order.
fn inserted(rows: &[tokio_postgres::Row]) -> Inserted {
    let mut pending: Vec<i32> = rows
        .iter()
        .filter(|r| r.get::<_, bool>(1))
        .map(|r| r.get(0))
        .collect();
    pending.sort_unstable();
    Inserted {
        count: i32::try_from(rows.len()).unwrap_or(i32::MAX),
        pending,
    }
}

/// PostgreSQL's text and jsonb cannot hold U+0000, which scraped bios occasionally contain; it is
/// dropped from every string (keys included) before storing.
pub fn strip_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
        Value::Array(items) => items.iter_mut().for_each(strip_nul),
        Value::Object(map) => {
            let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for (mut k, mut v) in entries {
                k.retain(|c| c != '\0');
                strip_nul(&mut v);
                map.insert(k, v);
            }
        }
        _ => {}
    }
}

/// The order a job's creators are read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As they were found (positions).
    Discovery,
    /// Highest relevance first, then as found (similar searches).
    Relevance,
}

/// A stored creator as text, every creator fact present: creators stored before the facts existed
/// read with them `null` (stored values win in `||`).
const CREATOR_TEXT: &str = "(CASE WHEN jsonb_typeof(creators -> 'creator') = 'object'
      THEN jsonb_set(creators, '{creator}',
           '{\"engagementRate\": null, \"region\": null, \"language\": null, \"links\": null,
             \"businessEmail\": null, \"businessPhone\": null, \"otherHandles\": null,
             \"category\": null}'::jsonb || (creators -> 'creator'))
      ELSE creators END)::text";

/// One page of the job's creators, as stored JSON text: the status route passes it through
/// without parsing and re-serialising every creator.
#[tracing::instrument(skip(client))]
pub async fn page(
    client: &impl GenericClient,
    job_id: Uuid,
    offset: i64,
    limit: i64,
    order: Order,
) -> Result<Vec<Box<serde_json::value::RawValue>>, tokio_postgres::Error> {
    let rows = match order {
        // Positions are gap-free, so an offset is an indexed range read.
        Order::Discovery => {
            let stmt = client
                .prepare_cached(&format!(
                    "SELECT {CREATOR_TEXT} FROM scraping_results WHERE job_id = $1 AND position >= $2
                     ORDER BY position LIMIT $3"
                ))
                .await?;
            let offset = i32::try_from(offset).unwrap_or(i32::MAX);
            client.query(&stmt, &[&job_id, &offset, &limit]).await?
        }
        // A job holds at most 1,000 creators: the offset walks a short stretch of one index.
        Order::Relevance => {
            let stmt = client
                .prepare_cached(&format!(
                    "SELECT {CREATOR_TEXT} FROM scraping_results WHERE job_id = $1
                     ORDER BY relevance DESC NULLS LAST, position OFFSET $2 LIMIT $3"
                ))
                .await?;
            client.query(&stmt, &[&job_id, &offset, &limit]).await?
        }
    };
    Ok(rows
        .iter()
        .filter_map(|r| serde_json::value::RawValue::from_string(r.get(0)).ok())
        .collect())
}

/// What an export reads: one search's creators, or a campaign's (each creator once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportSource {
    Job(Uuid),
    Campaign(Uuid),
}

/// One creator of an export: its stored JSON and, for a campaign, every `foundBy` of the searches
/// that found it.
#[derive(Debug)]
pub struct ExportRow {
    pub creator: Value,
    pub found_by: Vec<Value>,
}

/// Opens a portal over the export's creators, in the order the status pages show them (a
/// campaign's: by search, then as found). Read it in batches with [`export_batch`], inside the
/// same transaction, so no more than a batch is held at a time.
#[tracing::instrument(skip(tx))]
pub async fn open_export(
    tx: &deadpool_postgres::Transaction<'_>,
    source: ExportSource,
) -> Result<tokio_postgres::Portal, tokio_postgres::Error> {
    match source {
        ExportSource::Job(id) => {
            let stmt = tx
                .prepare(
                    "SELECT creators, '[]'::jsonb FROM scraping_results WHERE job_id = $1
                     ORDER BY relevance DESC NULLS LAST, position",
                )
                .await?;
            tx.bind(&stmt, &[&id]).await
        }
        // One row per creator (platform and key): its best-ranked record, and every search that
        // found it, grouped by the server.
        ExportSource::Campaign(id) => {
            let stmt = tx
                .prepare(
                    "SELECT (array_agg(r.creators ORDER BY r.relevance DESC NULLS LAST, j.created_at, r.position))[1],
                            jsonb_agg(DISTINCT r.creators -> 'foundBy')
                       FROM scraping_results r JOIN scraping_jobs j ON j.id = r.job_id
                      WHERE j.campaign_id = $1
                      GROUP BY j.platform, r.creator_key
                      ORDER BY min(j.created_at),
                               (array_agg(r.position ORDER BY j.created_at, r.position))[1],
                               j.platform, r.creator_key",
                )
                .await?;
            tx.bind(&stmt, &[&id]).await
        }
    }
}

/// The next `rows` creators of an export; empty at its end.
pub async fn export_batch(
    tx: &deadpool_postgres::Transaction<'_>,
    portal: &tokio_postgres::Portal,
    rows: i32,
) -> Result<Vec<ExportRow>, tokio_postgres::Error> {
    let rows = tx.query_portal(portal, rows).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let found_by: Value = r.get(1);
            ExportRow {
                creator: r.get(0),
                found_by: match found_by {
                    Value::Array(items) => items,
                    _ => Vec::new(),
                },
            }
        })
        .collect())
}
