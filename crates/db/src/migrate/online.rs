//! Online steps: the parts of a big-table change that PostgreSQL can do without blocking writes,
//! but not inside a transaction, which is where refinery runs every migration.
//!
//! A step belongs to a migration version and runs right after that version is applied (before
//! the next one), outside any transaction, on the migration's connection:
//!
//! - [`Action::Index`]: `CREATE INDEX CONCURRENTLY IF NOT EXISTS`. A build that was interrupted
//!   (a cancelled or timed-out run, a lost connection) leaves an `INVALID` index behind, which
//!   `IF NOT EXISTS` would accept; it is dropped first with `DROP INDEX CONCURRENTLY`.
//! - [`Action::Validate`]: `ALTER TABLE ... VALIDATE CONSTRAINT`, for a constraint the migration
//!   added `NOT VALID`.
//!
//! Both take `SHARE UPDATE EXCLUSIVE` on the table, which writers never wait for; they scan the
//! table, so they run with no statement timeout. A step first reads the catalogs and does nothing
//! when its index is valid or its constraint validated, so running the steps again (every deploy
//! does) costs a catalog look-up each. What each step did is recorded in `schema_online_steps`
//! (`ran` false: found already in place).
//!
//! Steps run on every database, the old and the new, so they stay true of the latest schema: a
//! later migration that drops or replaces what a step makes removes that step from [`STEPS`].

use std::time::Instant;

use anyhow::{bail, ensure, Context as _};
use tokio_postgres::Client;

/// One online step, after the migration `version`.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub version: i32,
    pub action: Action,
}

#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// An index built concurrently: `CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {on}`.
    Index {
        name: &'static str,
        on: &'static str,
    },
    /// A `NOT VALID` constraint validated.
    Validate {
        table: &'static str,
        constraint: &'static str,
    },
}

/// Every online step, in the order they run.
pub const STEPS: &[Step] = &[
    Step {
        version: 14,
        action: Action::Index {
            name: "idx_scraping_results_enrichment_pending",
            on: "scraping_results (job_id, position) WHERE enrichment = 'pending'",
        },
    },
    Step {
        version: 14,
        action: Action::Validate {
            table: "scraping_results",
            constraint: "scraping_results_enrichment_check",
        },
    },
];

impl Step {
    /// The name it is recorded under.
    pub fn name(&self) -> String {
        match self.action {
            Action::Index { name, .. } => format!("V{} index {name}", self.version),
            Action::Validate { constraint, .. } => {
                format!("V{} validate {constraint}", self.version)
            }
        }
    }

    /// The statement that does the work.
    pub fn statement(&self) -> String {
        match self.action {
            Action::Index { name, on } => {
                format!("CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {on}")
            }
            Action::Validate { table, constraint } => {
                format!("ALTER TABLE {table} VALIDATE CONSTRAINT {constraint}")
            }
        }
    }
}

/// The versions that have online steps, ascending, each once.
pub fn versions() -> Vec<i32> {
    let mut versions: Vec<i32> = STEPS.iter().map(|s| s.version).collect();
    versions.sort_unstable();
    versions.dedup();
    versions
}

/// Runs the steps of `version`, each a statement of its own outside any transaction.
pub async fn run(client: &Client, version: i32) -> anyhow::Result<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_online_steps (
                 name        text PRIMARY KEY,
                 version     integer NOT NULL,
                 statement   text NOT NULL,
                 ran         boolean NOT NULL,
                 seconds     double precision NOT NULL,
                 finished_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await
        .context("Failed to create schema_online_steps")?;
    for step in STEPS.iter().filter(|s| s.version == version) {
        let started = Instant::now();
        let ran = match step.action {
            Action::Index { name, .. } => index(client, name, &step.statement()).await,
            Action::Validate { table, constraint } => {
                validate(client, table, constraint, &step.statement()).await
            }
        }
        .with_context(|| format!("Online step {} failed", step.name()))?;
        record(client, step, ran, started.elapsed().as_secs_f64()).await?;
    }
    Ok(())
}

/// Builds the index unless a valid one exists; true when it was built.
async fn index(client: &Client, name: &str, create: &str) -> anyhow::Result<bool> {
    match index_valid(client, name).await? {
        Some(true) => return Ok(false),
        Some(false) => {
            tracing::warn!(
                index = name,
                "dropping an invalid index left by an interrupted build"
            );
            client
                .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))
                .await?;
        }
        None => {}
    }
    tracing::info!(index = name, "building an index concurrently");
    client.batch_execute(create).await?;
    ensure!(
        index_valid(client, name).await? == Some(true),
        "index {name} is not valid after its build"
    );
    Ok(true)
}

/// Whether the index `name` is valid; `None` when there is no such index.
async fn index_valid(client: &Client, name: &str) -> anyhow::Result<Option<bool>> {
    let row = client
        .query_opt(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)",
            &[&name],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Validates the constraint unless it is; true when it was validated now.
async fn validate(
    client: &Client,
    table: &str,
    constraint: &str,
    statement: &str,
) -> anyhow::Result<bool> {
    let validated: Option<bool> = client
        .query_opt(
            "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2",
            &[&table, &constraint],
        )
        .await?
        .map(|r| r.get(0));
    match validated {
        None => bail!("{table} has no constraint {constraint}"),
        Some(true) => Ok(false),
        Some(false) => {
            tracing::info!(table, constraint, "validating a constraint");
            client.batch_execute(statement).await?;
            Ok(true)
        }
    }
}

/// Records what the step did: a run replaces the earlier record, a step found in place is
/// recorded once.
async fn record(client: &Client, step: &Step, ran: bool, seconds: f64) -> anyhow::Result<()> {
    client
        .execute(
            "INSERT INTO schema_online_steps (name, version, statement, ran, seconds)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO UPDATE
                SET statement = EXCLUDED.statement, ran = true, seconds = EXCLUDED.seconds,
                    finished_at = now()
              WHERE EXCLUDED.ran",
            &[
                &step.name(),
                &step.version,
                &step.statement(),
                &ran,
                &seconds,
            ],
        )
        .await
        .context("Failed to record an online step")?;
    Ok(())
}
