//! PostgreSQL: the per-container pool. The queries, grouped by table, and the migrations are in
//! the `db` crate, which re-exports this module.

use std::str::FromStr;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::Context as _;
use deadpool_postgres::{
    ClientWrapper, Hook, HookError, Manager, ManagerConfig, Metrics, RecyclingMethod, Runtime,
};
use tokio_postgres::config::SslMode;

use crate::config::DatabaseConfig;

pub use deadpool_postgres::{GenericClient, Pool, PoolError, Transaction};

/// When this container last saw a write refused by a read-only server (a failover in progress),
/// in milliseconds since [`process_start`]; 0 for never. Connections opened before it are
/// discarded at their next checkout instead of being handed out again.
static READ_ONLY_SEEN_AT: AtomicU64 = AtomicU64::new(0);

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// A connection taken from the pool.
pub type PoolClient = deadpool_postgres::Object;

/// A pooled connection idle for longer than this is verified with a round trip before reuse.
pub const VERIFY_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Builds the connection pool. Call once per container, in `main`, and share it across invocations.
///
/// The pool is small on purpose: a Lambda container serves one invocation at a time (the SQS worker
/// handles a batch's records concurrently, which is what the second connection is for), and the
/// database's `max_connections` is shared by every warm container of every function. Two per
/// container keeps a burst of 100 containers within a single small instance's limit.
///
/// No connection is opened here: the first query opens one, so a cold start never waits for the
/// database unless the invocation needs it. A connection idle for more than
/// [`VERIFY_AFTER_IDLE`] is verified with a round trip before reuse, because a container frozen
/// between invocations can hold sockets the server has long closed; back-to-back requests skip
/// that round trip.
pub fn pool(config: &DatabaseConfig) -> anyhow::Result<Pool> {
    let (pg, verify) = pg_config(&config.url, config.connect_timeout)?;
    // Set after connecting rather than as startup options, which PgBouncer refuses.
    let session = format!(
        "SET statement_timeout = {}; SET idle_in_transaction_session_timeout = 60000",
        config.statement_timeout.as_millis()
    );
    Pool::builder(manager(pg, verify)?)
        .post_create(apply_session(session))
        .pre_recycle(verify_when_idle(config.connect_timeout))
        .max_size(config.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.acquire_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .build()
        .context("Failed to build the database pool")
}

/// The connection settings of `url`, and whether it asks for the certificate to be verified.
fn pg_config(
    url: &str,
    connect_timeout: std::time::Duration,
) -> anyhow::Result<(tokio_postgres::Config, bool)> {
    let (url, mut verify) = normalize_sslmode(url);
    let mut pg = tokio_postgres::Config::from_str(&url)
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    // A database beyond this machine is reached over TLS with its certificate checked unless the
    // URL says otherwise (`sslmode=disable`, `prefer` or `require` are taken as written).
    if !url.contains("sslmode=") && !pg.get_hosts().iter().all(is_local) {
        pg.ssl_mode(SslMode::Require);
        verify = true;
    }
    // A dead peer is noticed in about half a minute (keepalives), and unacknowledged writes give
    // up after 10 s (TCP_USER_TIMEOUT), instead of the kernel's two hours.
    pg.connect_timeout(connect_timeout)
        .keepalives(true)
        .keepalives_idle(std::time::Duration::from_secs(15))
        .keepalives_interval(std::time::Duration::from_secs(5))
        .keepalives_retries(3)
        .tcp_user_timeout(std::time::Duration::from_secs(10));
    if pg.get_application_name().is_none() {
        pg.application_name(
            std::env::var("AWS_LAMBDA_FUNCTION_NAME")
                .as_deref()
                .unwrap_or("gemz"),
        );
    }
    Ok((pg, verify))
}

/// A host on this machine: the loopback interface or a Unix socket.
fn is_local(host: &tokio_postgres::config::Host) -> bool {
    match host {
        tokio_postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name
                    .trim_matches(|c| c == '[' || c == ']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => true,
    }
}

/// TLS when the URL requires it (or asks for verification), plain TCP otherwise.
fn manager(pg: tokio_postgres::Config, verify: bool) -> anyhow::Result<Manager> {
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    Ok(if pg.get_ssl_mode() == SslMode::Require || verify {
        Manager::from_config(pg, tls_connector()?, manager_config)
    } else {
        Manager::from_config(pg, tokio_postgres::NoTls, manager_config)
    })
}

/// Runs `session` (the session settings) on every new connection.
fn apply_session(session: String) -> Hook {
    Hook::async_fn(move |client: &mut ClientWrapper, _: &Metrics| {
        let session = session.clone();
        Box::pin(async move {
            client
                .batch_execute(&session)
                .await
                .map_err(|e| HookError::Message(format!("session settings: {e}").into()))
        })
    })
}

/// Before reuse, a round trip on a connection idle for [`VERIFY_AFTER_IDLE`] or longer.
fn verify_when_idle(timeout: std::time::Duration) -> Hook {
    Hook::async_fn(move |client: &mut ClientWrapper, metrics: &Metrics| {
        let idle = metrics.last_used();
        let opened_before_read_only = opened_before_read_only(metrics.created);
        Box::pin(async move {
            // A connection to a server that turned read-only (the old primary, after a
            // failover) would refuse every write again: a new connection reaches the new one.
            if opened_before_read_only {
                return Err(HookError::Message(
                    "connection opened before the server turned read-only".into(),
                ));
            }
            // A connection in use a moment ago is alive; one idle for longer may belong to a
            // container that was frozen, and its socket may be long dead: a round trip
            // proves it, and a failed one discards it for a fresh connection.
            if idle < VERIFY_AFTER_IDLE {
                return Ok(());
            }
            match tokio::time::timeout(timeout, client.simple_query("")).await {
                Ok(Ok(_)) => Ok(()),
                _ => Err(HookError::Message("connection failed verification".into())),
            }
        })
    })
}

/// Whether a connection opened at `created` predates the last read-only refusal seen.
fn opened_before_read_only(created: Instant) -> bool {
    let seen = READ_ONLY_SEEN_AT.load(Ordering::Relaxed);
    seen != 0
        && created
            .saturating_duration_since(process_start())
            .as_millis() as u64
            <= seen
}

/// Records that the server refused a write as read-only, so every connection opened until now is
/// replaced at its next checkout.
fn note_read_only() {
    let now = process_start().elapsed().as_millis() as u64;
    READ_ONLY_SEEN_AT.fetch_max(now.max(1), Ordering::Relaxed);
}

/// libpq's `verify-ca` / `verify-full` are not understood by tokio-postgres; both mean "TLS, and
/// check the certificate", which is what the rustls connector always does.
fn normalize_sslmode(url: &str) -> (String, bool) {
    let mut verify = false;
    let mut out = url.to_owned();
    for mode in ["sslmode=verify-full", "sslmode=verify-ca"] {
        if out.contains(mode) {
            out = out.replace(mode, "sslmode=require");
            verify = true;
        }
    }
    (out, verify)
}

/// rustls with the system's root certificates, plus the PEM bundle named by `DATABASE_CA_CERT_PATH`
/// (RDS and Supabase sign with their own CAs, which system stores do not hold).
fn tls_connector() -> anyhow::Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let extra = std::env::var("DATABASE_CA_CERT_PATH").ok();
    let roots = crate::tls::roots(extra.as_deref())?;
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(
        crate::tls::client_config(roots)?,
    ))
}

/// `work` within `limit`, measured on this side: a server that stops answering (frozen, or a
/// network path lost without a reset) sends no error and fires no TCP timer, so only a
/// client-side bound ends the wait. Running out of it is an error like the database's own.
pub async fn within<T, E: Into<anyhow::Error>>(
    limit: std::time::Duration,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(anyhow::anyhow!(
            "the database did not answer within {limit:?}"
        )),
    }
}

/// True when the error means the database cannot be reached right now (as opposed to a bad query),
/// so the request should be answered 503 and a queue message retried.
///
/// A write refused because the server is read-only (a failover: the old primary came back as a
/// standby, or DNS still names it) is such an error, and it also marks every connection opened
/// so far for replacement at its next checkout, so the retry reaches the new primary.
pub fn is_unavailable(err: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    if err.is_closed() {
        return true;
    }
    if err.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION) {
        note_read_only();
        return true;
    }
    if let Some(code) = err.code() {
        return [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::QUERY_CANCELED,
            // Transient by nature: the same request succeeds when retried.
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::T_R_SERIALIZATION_FAILURE,
        ]
        .contains(code);
    }
    // No SQL state: an I/O or protocol failure on the socket.
    std::error::Error::source(err).is_some_and(|s| s.is::<std::io::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> (SslMode, bool) {
        let (pg, verify) = pg_config(url, std::time::Duration::from_secs(1)).unwrap();
        (pg.get_ssl_mode(), verify)
    }

    #[test]
    fn a_remote_database_gets_verified_tls_unless_the_url_says_otherwise() {
        assert_eq!(
            mode("postgres://u@db.example.com/app"),
            (SslMode::Require, true)
        );
        assert_eq!(
            mode("postgres://u@10.0.0.5:5432/app"),
            (SslMode::Require, true)
        );
        assert_eq!(
            mode("postgres://u@db.example.com/app?sslmode=disable"),
            (SslMode::Disable, false)
        );
        assert_eq!(
            mode("postgres://u@db.example.com/app?sslmode=require"),
            (SslMode::Require, false)
        );
        assert_eq!(mode("postgres://u@127.0.0.1/app"), (SslMode::Prefer, false));
        assert_eq!(mode("postgres://u@localhost/app"), (SslMode::Prefer, false));
        assert_eq!(mode("postgres://u@[::1]/app"), (SslMode::Prefer, false));
    }

    #[test]
    fn connections_opened_before_a_read_only_refusal_are_replaced() {
        let before = Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        note_read_only();
        assert!(opened_before_read_only(before));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(!opened_before_read_only(Instant::now()));
    }

    #[test]
    fn verify_full_becomes_require_with_verification() {
        let (url, verify) = normalize_sslmode("postgres://u@h/db?sslmode=verify-full");
        assert_eq!(url, "postgres://u@h/db?sslmode=require");
        assert!(verify);
        let (url, verify) = normalize_sslmode("postgres://u@h/db");
        assert_eq!(url, "postgres://u@h/db");
        assert!(!verify);
    }
}
