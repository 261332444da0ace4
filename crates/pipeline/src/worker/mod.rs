//! One step of a search job, safe under at-least-once delivery.
//!
//! 1. **Claim** step N: a lease on the job, granted only while it has applied exactly N steps, is
//!    still running and before its deadline. A duplicate or stale message finds nothing to claim.
//! 2. **Fetch** the page from the creator API with no database connection held; drop creators the
//!    job already has, keep as many as the target still needs.
//! 3. **Commit** in one transaction: re-check the lease under a row lock, insert the creators (the
//!    ones that need a look-up as `pending`), advance counters, cursor and progress, or complete
//!    the job. The page's creators are visible from here.
//! 4. **Enqueue** step N+1 with the configured delay and record it, then the enrichment messages of
//!    the page's pending creators. A crash between 3 and 4 is repaired when the undeleted message
//!    N comes back: the job shows step N applied but N+1 never enqueued, so N+1 is sent then, and
//!    so are pending creators never sent; the sweeper re-sends anything stalled beyond that.
//!
//! **Enrichment** ([`Worker::handle_enrichment`]) runs beside the page chain, never in its way:
//! a message claims its still-pending rows under a lease (while the search runs or has
//! completed), looks each creator up (checking before every call that the search has not been
//! stopped), and stores the filled-in rows and the calls' charge in one transaction. A duplicate
//! finds nothing pending; a crash leaves rows whose lease expires and which come back.
//!
//! The protocol's parts, one module each:
//! - `step`: the page step, steps 1 to 4 above, as named phases.
//! - `failure`: what a failed step means for its job: ended, or its message retried.
//! - `enrich`: the enrichment messages, sent and handled.
//! - `repair`: a step message that finds nothing to claim, and the sends it repairs.
//! - `budget`: what a search may still spend, and the charge of an attempt that failed.
//! - `phase`: one database phase within [`DB_DEADLINE`], or one transaction.

mod budget;
mod enrich;
mod failure;
mod phase;
mod repair;
mod step;

use std::time::Duration;

use deadpool_postgres::Pool;
use tracing::warn;

use crate::{creator_api::CreatorApi, search::CorruptCursor, search::SearchError};
use db::settings::SettingsCache;
use queue::{JobMessage, JobQueue};

pub use budget::CHARGE_PATIENCE;
pub use enrich::REFUSAL_PATIENCE;
pub use phase::DB_DEADLINE;

/// What the worker needs, built once per container.
pub struct Worker<Q> {
    pub pool: Pool,
    pub queue: Q,
    pub api: CreatorApi,
    pub settings: SettingsCache,
    /// The queue's `maxReceiveCount`: the delivery with this count is the last one.
    pub max_receive_count: u32,
    /// How long a claimed step stays reserved; shorter than the queue's visibility timeout, so a
    /// crashed worker's redelivered message finds the lease expired.
    pub lease: Duration,
    /// How long one enrichment delivery keeps trying look-ups the API refused before handing
    /// them to a new message ([`REFUSAL_PATIENCE`] unless changed).
    pub refusal_patience: Duration,
}

/// How a worker treats deliveries and settings: what [`Worker::new`] takes besides its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The queue's `maxReceiveCount` (see [`Worker::max_receive_count`]).
    pub max_receive_count: u32,
    /// How long a claimed step stays reserved (see [`Worker::lease`]).
    pub lease: Duration,
    /// How long settings read from the database are used before they are read again.
    pub settings_ttl: Duration,
}

impl Options {
    /// The configured values: `MAX_RECEIVE_COUNT`, `STEP_LEASE_SECS`, `SETTINGS_CACHE_TTL_SECS`.
    pub fn from_config(config: &shared::Config) -> Self {
        Self {
            max_receive_count: config.max_receive_count,
            lease: Duration::from_secs(config.step_lease_secs),
            settings_ttl: config.settings_cache_ttl,
        }
    }
}

impl<Q> Worker<Q> {
    /// A worker over `pool`, which it may share with others (a local run's functions).
    pub fn new(pool: Pool, queue: Q, api: CreatorApi, options: Options) -> Self {
        Self {
            pool,
            queue,
            api,
            settings: SettingsCache::new(options.settings_ttl),
            max_receive_count: options.max_receive_count,
            lease: options.lease,
            refusal_patience: REFUSAL_PATIENCE,
        }
    }

    /// A worker as a container runs it: its own pool of `config.database`, and [`Options`] as
    /// configured.
    pub fn from_config(config: &shared::Config, queue: Q, api: CreatorApi) -> anyhow::Result<Self> {
        let pool = db::pool(&config.database)?;
        Ok(Self::new(pool, queue, api, Options::from_config(config)))
    }
}

impl<Q: JobQueue> Worker<Q> {
    /// Handles one delivery of any message of the jobs queue, which SQS has delivered
    /// `receive_count` times.
    pub async fn handle_message(
        &self,
        message: &JobMessage,
        receive_count: u32,
    ) -> Result<Outcome, Retry> {
        match message {
            JobMessage::Step(step) => self.handle(step, receive_count).await,
            JobMessage::Enrich(enrich) => self.handle_enrichment(enrich).await,
        }
    }
}

/// What handling a message did, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The step was applied; the job continues with the next step.
    Advanced { added: i32 },
    /// The step was applied and ended the job.
    Completed { added: i32, reason: &'static str },
    /// The job ended as `error` (the message is for the user).
    Failed(String),
    /// Nothing to do: duplicate, stale, finished or deleted job.
    Skipped(&'static str),
    /// A committed step whose successor (or whose creators' enrichment) had not been enqueued:
    /// it was enqueued now.
    Repaired,
    /// An enrichment message looked up and stored this many creators.
    Enriched { filled: u64 },
    /// The creator API refused the step's call (429): the step was sent again, to run after the
    /// API's `Retry-After`. Not an attempt: the new message starts its own count of deliveries.
    Deferred { retry_after: Duration },
}

/// Why a message should come back (it is reported as a batch item failure).
#[derive(Debug)]
pub struct Retry(pub anyhow::Error);

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step will be retried: {:#}", self.0)
    }
}

/// The worker's phases fail with [`anyhow::Error`]; any of them brings its message back.
impl From<anyhow::Error> for Retry {
    fn from(e: anyhow::Error) -> Self {
        Self(e)
    }
}

const DATABASE_MESSAGE: &str =
    "The search could not be saved because our database was unavailable. Please start it again.";

/// A failed step, by what should happen next.
#[derive(Debug)]
enum StepError {
    /// Ends the job at once with this message for the user.
    Fatal(String),
    /// Retry; on the last delivery, end the job with `user_message`.
    Retryable {
        cause: anyhow::Error,
        user_message: &'static str,
    },
    /// The creator API refused the call (429): try the step again after this wait, as a new
    /// message. A refusal never ends the job.
    Refused(Duration),
    /// The step is committed, but a send after the commit failed: the message comes back and the
    /// repair sends what is missing, or, after its last delivery, the sweeper does. The job, whose
    /// step is applied, never ends for it.
    AfterCommit(anyhow::Error),
}

impl StepError {
    /// The database failed: retry, and on the last delivery tell the user it was the database.
    fn db(cause: anyhow::Error) -> Self {
        Self::Retryable {
            cause,
            user_message: DATABASE_MESSAGE,
        }
    }

    /// The queue failed after the commit: retry (the repair sends what is missing).
    fn queue(cause: anyhow::Error) -> Self {
        Self::AfterCommit(cause)
    }
}

impl From<SearchError> for StepError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Target(message) => Self::Fatal(message),
            SearchError::Api(api) if api.refused().is_some() => {
                Self::Refused(api.refused().unwrap_or_default())
            }
            SearchError::Api(api) if api.is_retryable() => Self::Retryable {
                user_message: api.user_message(),
                cause: api.into(),
            },
            SearchError::Api(api) => {
                warn!(error = %api, "the creator API rejected the search; ending it");
                Self::Fatal(api.user_message().to_owned())
            }
            SearchError::Cursor(e) => {
                warn!(error = %e, "the search's cursor cannot be read or does not fit the search");
                Self::Fatal(CorruptCursor::USER_MESSAGE.to_owned())
            }
        }
    }
}
