//! `idempotency_keys`: the first answer to a POST sent with an `Idempotency-Key`, replayed to
//! retries of the same request for 24 hours.

use serde_json::Value;

use super::GenericClient;

/// How long an answer is kept for retries.
pub const KEPT_HOURS: i32 = 24;

/// What an earlier request with the same key did.
#[derive(Debug, Clone, PartialEq)]
pub enum Prior {
    /// Nothing (or only an answer older than [`KEPT_HOURS`]).
    None,
    /// The same request: its answer.
    Answered { status: u16, body: Value },
    /// Another request used the key.
    OtherRequest,
}

/// Serialises the requests of one user and key until the transaction ends (a concurrent twin
/// waits here, then finds the first one's answer), and tells what an earlier one did.
pub async fn lock_and_find(
    client: &impl GenericClient,
    user_id: &str,
    route: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Prior, tokio_postgres::Error> {
    client
        .execute(
            // Keys that hash alike only wait for each other; the row below is matched exactly.
            "SELECT pg_advisory_xact_lock(hashtextextended($1 || ' ' || $2 || ' ' || $3, 0))",
            &[&user_id, &route, &key],
        )
        .await?;
    let row = client
        .query_opt(
            "SELECT request_hash, status_code, response FROM idempotency_keys
              WHERE user_id = $1 AND route = $2 AND key = $3
                AND created_at > now() - make_interval(hours => $4)",
            &[&user_id, &route, &key, &KEPT_HOURS],
        )
        .await?;
    Ok(match row {
        None => Prior::None,
        Some(r) if r.get::<_, String>(0) == fingerprint => Prior::Answered {
            status: u16::try_from(r.get::<_, i32>(1)).unwrap_or(500),
            body: r.get(2),
        },
        Some(_) => Prior::OtherRequest,
    })
}

/// Keeps the answer, in the transaction that did the work.
pub async fn store(
    client: &impl GenericClient,
    user_id: &str,
    route: &str,
    key: &str,
    fingerprint: &str,
    status: u16,
    body: &Value,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO idempotency_keys (user_id, route, key, request_hash, status_code, response)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id, route, key) DO UPDATE
                SET request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code,
                    response = EXCLUDED.response, created_at = now()",
            &[&user_id, &route, &key, &fingerprint, &i32::from(status), body],
        )
        .await?;
    Ok(())
}

/// Sweeper: forgets at most `batch` answers past their keeping time, the oldest first; returns
/// how many. A bounded statement stays inside the statement timeout however many expired at once
/// (a burst of retries a day ago); the sweeper calls it until a batch comes back short.
pub async fn delete_expired(
    client: &impl GenericClient,
    batch: i64,
) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
                 SELECT ctid FROM idempotency_keys
                  WHERE created_at < now() - make_interval(hours => $1)
                  ORDER BY created_at LIMIT $2))",
            &[&KEPT_HOURS, &batch],
        )
        .await
}
