//! Applying the schema: refinery's migrations (`migrations/V<n>__<name>.sql`, each in a
//! transaction of its own), the [`online`] steps between them, then the settings seed.
//!
//! The session is set up for migrating, whatever the connection carried (a pooled connection has
//! the request handlers' 5 s `statement_timeout`):
//!
//! - no `statement_timeout` by default: a statement over a whole big table (an online step's
//!   scan) takes as long as the table needs. The `migrate` function passes a bound instead, its
//!   remaining time, so the server stops by itself should the function be gone;
//! - `lock_timeout` [`LOCK_TIMEOUT`]: a migration waiting for a lock (behind a long transaction)
//!   makes every write that arrives after it wait too; it gives up after 2 s instead, below the
//!   handlers' 5 s statement timeout, so a request queued behind it still completes. What ended
//!   on a lock timeout is tried up to [`ATTEMPTS`] times in all, backing off from 1 s and
//!   doubling; the transaction of the migration that waited is rolled back, so nothing is half
//!   applied;
//! - one migration at a time: a session advisory lock held throughout.
//!
//! Online steps never block writers (see [`online`]), so they wait for their locks up to
//! [`ONLINE_LOCK_TIMEOUT`] (a `CREATE INDEX CONCURRENTLY` also waits out every transaction
//! older than itself).

pub mod grants;
pub mod online;

use std::time::Duration;

use anyhow::Context as _;
use refinery::{Migration, Runner, Target};
use tokio_postgres::{error::SqlState, Client};

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// How long a migration statement waits for a lock before giving up (and being retried).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an online step waits for a lock: they block no writer while waiting.
pub const ONLINE_LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// Tries of a unit of work (the advisory lock, a run of refinery, a version's online steps)
/// that ended on a lock timeout or a deadlock.
pub const ATTEMPTS: u32 = 6;
/// The first pause after a lock timeout; each next one doubles.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The session advisory lock that keeps two migrations apart ("gemzmig" in ASCII, used for this
/// only).
pub const LOCK_KEY: i64 = i64::from_be_bytes(*b"\0gemzmig");

/// The project's migrations, as embedded at build time.
pub fn runner() -> Runner {
    embedded::migrations::runner()
}

/// Migration texts that were rewritten, as refinery would have embedded their old text
/// (see `crate::superseded`).
pub fn superseded() -> Vec<Migration> {
    crate::superseded::migrations()
}

/// Applies every pending migration and online step, then seeds the settings; returns the number
/// of migrations applied. Run by the `migrate` function after a deploy, by the local tooling and
/// by the tests; never by a request handler. No statement timeout (see [`migrate_within`]).
pub async fn migrate(client: &mut Client) -> anyhow::Result<usize> {
    migrate_within(client, None).await
}

/// [`migrate`] with each statement bounded server-side by `bound` (`None`: no bound). The
/// session's own `statement_timeout` and `lock_timeout` are put back afterwards.
pub async fn migrate_within(client: &mut Client, bound: Option<Duration>) -> anyhow::Result<usize> {
    let row = client
        .query_one(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')",
            &[],
        )
        .await
        .context("Failed to read the session's timeouts")?;
    let (statement_timeout, lock_timeout): (String, String) = (row.get(0), row.get(1));
    client
        .execute(
            "SELECT set_config('statement_timeout', $1, false)",
            &[&millis(bound.unwrap_or(Duration::ZERO))],
        )
        .await
        .context("Failed to set the migration's statement timeout")?;
    let outcome = locked(client).await;
    let restored = client
        .query_one(
            "SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false),
                    pg_advisory_unlock($3)",
            &[&statement_timeout, &lock_timeout, &LOCK_KEY],
        )
        .await
        .context("Failed to restore the session after migrating");
    let applied = outcome?;
    restored?;
    Ok(applied)
}

/// A unit of work, tried again on a lock timeout.
#[derive(Debug, Clone, Copy)]
enum Unit {
    AdvisoryLock,
    Migrations(Target),
    Online(i32),
}

async fn locked(client: &mut Client) -> anyhow::Result<usize> {
    retried(client, Unit::AdvisoryLock).await?;
    let runner = runner();
    crate::superseded::reconcile(client, runner.get_migrations())
        .await
        .context("Failed to reconcile rewritten migrations")?;
    let mut applied = 0;
    for version in online::versions() {
        applied += retried(client, Unit::Migrations(Target::Version(version))).await?;
        retried(client, Unit::Online(version)).await?;
    }
    applied += retried(client, Unit::Migrations(Target::Latest)).await?;
    crate::settings::seed(client)
        .await
        .context("Failed to seed the settings")?;
    Ok(applied)
}

/// Runs `unit`, again after a pause when it ended on a lock timeout or a deadlock.
async fn retried(client: &mut Client, unit: Unit) -> anyhow::Result<usize> {
    let mut pause = FIRST_BACKOFF;
    for attempt in 1.. {
        match run(client, unit).await {
            Err(e) if attempt < ATTEMPTS && is_lock_conflict(&e) => {
                tracing::warn!(?unit, attempt, error = %format!("{e:#}"), "lock conflict, trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            outcome => return outcome,
        }
    }
    unreachable!("the loop returns by its last attempt")
}

async fn run(client: &mut Client, unit: Unit) -> anyhow::Result<usize> {
    let lock_timeout = match unit {
        Unit::Online(_) => ONLINE_LOCK_TIMEOUT,
        _ => LOCK_TIMEOUT,
    };
    client
        .execute(
            "SELECT set_config('lock_timeout', $1, false)",
            &[&millis(lock_timeout)],
        )
        .await?;
    match unit {
        Unit::AdvisoryLock => {
            client
                .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
                .await
                .context("Failed to take the migration lock (another migration running?)")?;
            Ok(0)
        }
        Unit::Migrations(target) => {
            let report = runner()
                .set_abort_divergent(true)
                .set_target(target)
                .run_async(client)
                .await
                .context("Failed to apply migrations")?;
            Ok(report.applied_migrations().len())
        }
        Unit::Online(version) => {
            online::run(client, version).await?;
            Ok(0)
        }
    }
}

/// Whether the error chain holds PostgreSQL's lock timeout (or a deadlock, its victim rolled back).
fn is_lock_conflict(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<tokio_postgres::Error>())
        .filter_map(tokio_postgres::Error::code)
        .any(|code| {
            *code == SqlState::LOCK_NOT_AVAILABLE || *code == SqlState::T_R_DEADLOCK_DETECTED
        })
}

/// A duration as a setting's value in milliseconds (`0`: off).
fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}
