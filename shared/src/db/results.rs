//! `scraping_results`: the creators each search found, one row per creator, in discovery order.

use std::collections::HashSet;

use serde_json::Value;
use uuid::Uuid;

use super::GenericClient;
use crate::pipeline::creator::CreatorRecord;

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

/// Stores `records` at positions `first_position..`, in one statement; a creator the job already
/// has is skipped. Returns how many were stored. Call with the job row locked, so positions stay
/// gap-free.
#[tracing::instrument(skip(client, records), fields(records = records.len()))]
pub async fn insert(
    client: &impl GenericClient,
    job_id: Uuid,
    step: i32,
    first_position: i32,
    records: &[CreatorRecord],
) -> Result<i32, tokio_postgres::Error> {
    if records.is_empty() {
        return Ok(0);
    }
    let keys: Vec<String> = records.iter().map(CreatorRecord::key).collect();
    let bodies: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).expect("a creator serializes");
            strip_nul(&mut v);
            v
        })
        .collect();
    let stmt = client
        .prepare_cached(
            "WITH input AS (
                 SELECT key, body, ord FROM unnest($4::text[], $5::jsonb[]) WITH ORDINALITY AS t(key, body, ord)
                 WHERE NOT EXISTS (SELECT 1 FROM scraping_results r WHERE r.job_id = $1 AND r.creator_key = t.key)
             ), numbered AS (
                 SELECT key, body, row_number() OVER (ORDER BY ord) - 1 AS rn FROM input
             ), inserted AS (
                 INSERT INTO scraping_results (job_id, step, position, creator_key, creators)
                 SELECT $1, $2, $3 + rn::int, key, body FROM numbered
                 ON CONFLICT (job_id, creator_key) DO NOTHING
                 RETURNING 1
             )
             SELECT count(*)::int FROM inserted",
        )
        .await?;
    let row = client
        .query_one(&stmt, &[&job_id, &step, &first_position, &keys, &bodies])
        .await?;
    Ok(row.get(0))
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

/// One page of the job's creators in discovery order, as stored JSON text: the status route
/// passes it through without parsing and re-serialising every creator.
#[tracing::instrument(skip(client))]
pub async fn page(
    client: &impl GenericClient,
    job_id: Uuid,
    offset: i64,
    limit: i64,
) -> Result<Vec<Box<serde_json::value::RawValue>>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT creators::text FROM scraping_results WHERE job_id = $1 AND position >= $2
             ORDER BY position LIMIT $3",
        )
        .await?;
    let offset = i32::try_from(offset).unwrap_or(i32::MAX);
    let rows = client.query(&stmt, &[&job_id, &offset, &limit]).await?;
    Ok(rows
        .iter()
        .filter_map(|r| serde_json::value::RawValue::from_string(r.get(0)).ok())
        .collect())
}

/// Every creator of the job, in discovery order, for the export.
#[tracing::instrument(skip(client))]
pub async fn all(
    client: &impl GenericClient,
    job_id: Uuid,
) -> Result<Vec<CreatorRecord>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT creators FROM scraping_results WHERE job_id = $1 ORDER BY position",
            &[&job_id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| serde_json::from_value(r.get(0)).ok())
        .collect())
}
