//! Migration texts that were rewritten after databases had applied them.
//!
//! refinery refuses a database whose recorded checksum of a version differs from the file's
//! (`set_abort_divergent`). A migration is rewritten only when the new text leaves the same schema
//! as the old one (same columns, constraint and index names and definitions), written so that it
//! no longer locks or scans a big table; the old text is kept here, byte for byte, and
//! [`reconcile`] moves a database that recorded the old checksum to the new one before refinery
//! runs. Anything the new text leaves to an online step ([`crate::migrate::online`]) is found
//! already in place on such a database.
//!
//! - `V14__enrichment.sql`: the `enrichment` column's `CHECK` (which PostgreSQL names
//!   `scraping_results_enrichment_check`) validated by a scan with the table locked, and its
//!   partial index built by a plain `CREATE INDEX`; the new V14 adds the same constraint
//!   `NOT VALID` and leaves the index and the validation to online steps.

use anyhow::Context as _;
use refinery::Migration;

/// Each rewritten migration's name and old text.
const TEXTS: &[(&str, &str)] = &[("V14__enrichment", include_str!("V14__enrichment.sql"))];

/// The old texts as refinery would have embedded them (checksums included).
pub fn migrations() -> Vec<Migration> {
    TEXTS
        .iter()
        .map(|(name, sql)| Migration::unapplied(name, sql).expect("a valid migration name"))
        .collect()
}

/// Where refinery recorded a superseded text of a version, records the current text's checksum
/// instead. Returns the versions updated.
pub async fn reconcile(
    client: &tokio_postgres::Client,
    current: &[Migration],
) -> anyhow::Result<Vec<i32>> {
    let history: Option<String> = client
        .query_one("SELECT to_regclass('refinery_schema_history')::text", &[])
        .await?
        .get(0);
    if history.is_none() {
        return Ok(Vec::new());
    }
    let mut updated = Vec::new();
    for old in migrations() {
        let new = current
            .iter()
            .find(|m| m.version() == old.version())
            .with_context(|| format!("no current migration replaces {old}"))?;
        let rows = client
            .execute(
                "UPDATE refinery_schema_history SET checksum = $1
                  WHERE version = $2 AND name = $3 AND checksum = $4",
                &[
                    &new.checksum().to_string(),
                    &old.version(),
                    &old.name(),
                    &old.checksum().to_string(),
                ],
            )
            .await?;
        if rows > 0 {
            tracing::info!(migration = %old, "recorded the rewritten text's checksum");
            updated.push(old.version());
        }
    }
    Ok(updated)
}
