//! Credits given back: a creator-API call charged before it was made (a profile look-up,
//! `billing::charge_before_call`) that the API did not bill — it refused it (429), failed it (5xx)
//! or never received it — is taken off the search and off its user's ledger.

use uuid::Uuid;

use super::GenericClient;

/// Gives back `credits` calls charged to search `job_id` and to `user_id`'s ledger for the current
/// billing period. Neither count goes below zero (the ledger's row for the period exists: the
/// charge wrote it). Unlike `billing::charge` with a negative count, this never inserts a ledger
/// row, whose `credits >= 0` check a negative insert would break.
///
/// Run it in a transaction: the search's row is locked first, then the ledger's, the order every
/// charge takes them in, so a refund and a concurrent charge never deadlock.
#[tracing::instrument(skip(tx))]
pub async fn refund(
    tx: &impl GenericClient,
    job_id: Uuid,
    user_id: &str,
    credits: i32,
) -> Result<(), tokio_postgres::Error> {
    let job = tx
        .prepare_cached(
            "UPDATE scraping_jobs SET credits_used = greatest(credits_used - $2, 0) WHERE id = $1",
        )
        .await?;
    tx.execute(&job, &[&job_id, &credits]).await?;
    let ledger = tx
        .prepare_cached(
            "UPDATE credit_ledger SET credits = greatest(credits - $2::int, 0), updated_at = now()
              WHERE user_id = $1 AND period_start = billing_period_start($1)",
        )
        .await?;
    tx.execute(&ledger, &[&user_id, &credits]).await?;
    Ok(())
}
