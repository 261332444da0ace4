//! PostgreSQL: migrations and the queries, one module per table. The pool itself is
//! `shared::db`, re-exported here so a function names one crate for its database.
//!
//! Every query module takes a `&impl GenericClient` (a pooled client or a transaction), so the
//! caller decides what runs in one transaction.

pub mod admins;
pub mod billing;
pub mod campaigns;
pub mod emails;
pub mod enrichment;
pub mod idempotency;
pub mod jobs;
pub mod profiles;
pub mod results;
pub mod settings;
mod stored;

pub use shared::db::*;

use anyhow::Context as _;

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// Applies every pending migration. Run by the `migrate` function after a deploy, by the local
/// tooling and by the tests; never by a request handler.
pub async fn migrate(client: &mut tokio_postgres::Client) -> anyhow::Result<usize> {
    let report = embedded::migrations::runner()
        .set_abort_divergent(true)
        .run_async(client)
        .await
        .context("Failed to apply migrations")?;
    settings::seed(client)
        .await
        .context("Failed to seed the settings")?;
    Ok(report.applied_migrations().len())
}
