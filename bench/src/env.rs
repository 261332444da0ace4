//! The world the figures are taken in: the release binaries, the functions' environment
//! (`local::harness`: a seeded database, a queue, the creator-API replay), the settings the
//! benchmarks change, and what they read of the processes and connections they start.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use db::settings::SettingsCache;
pub use local::harness::FunctionEnv as Env;
use pipeline::{creator_api::CreatorApi, worker::Worker};
use queue::SqsQueue;
use shared::config::{CreatorApiConfig, DatabaseConfig};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The compiled functions: `GEMZ_BIN_DIR`, else `target/release`.
pub fn bin_dir() -> PathBuf {
    std::env::var_os("GEMZ_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/release"))
}

/// Whether `item` is in the comma-separated list `var` names (everything when it is unset).
pub fn chosen(var: &str, item: &str) -> bool {
    let list = std::env::var(var).unwrap_or_default();
    list.is_empty() || list.split(',').any(|c| c.trim() == item)
}

/// The functions' environment, with the spending limits out of the way.
pub async fn start() -> Env {
    let env = Env::new().await;
    // The benchmarks start many searches for one user: spending limits are not what they measure.
    env.db
        .set_setting("max_running_searches_trial", "100")
        .await;
    env.db
        .set_setting("period_credits_trial", "100000000")
        .await;
    env
}

/// The creator API at `base_url`, as the functions reach it.
pub fn creator_api(base_url: &str, timeout: Duration) -> anyhow::Result<CreatorApi> {
    CreatorApi::new(
        &CreatorApiConfig {
            base_url: base_url.into(),
            api_key: None,
            timeout,
        },
        "bench",
    )
}

/// One worker container as Lambda runs it: a pool of its own over `database`, the queue, the
/// creator API at `api_url`, and settings cached for `settings_ttl`.
pub fn worker(
    database: &DatabaseConfig,
    queue: &SqsQueue,
    api_url: &str,
    api_timeout: Duration,
    settings_ttl: Duration,
) -> anyhow::Result<Worker<SqsQueue>> {
    Ok(Worker {
        pool: db::pool(database)?,
        queue: queue.clone(),
        api: creator_api(api_url, api_timeout)?,
        settings: SettingsCache::new(settings_ttl),
        max_receive_count: 5,
        lease: Duration::from_secs(90),
        refusal_patience: pipeline::worker::REFUSAL_PATIENCE,
    })
}

/// Peak resident memory of a process (kB), from /proc.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Distinct server backends opened by `application` while `running` holds, and the most open at
/// once.
pub fn watch_backends(
    admin_url: String,
    database: String,
    application: String,
    running: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(HashSet<i32>, i64)> {
    tokio::spawn(async move {
        let (client, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut pids = HashSet::new();
        let mut max_concurrent = 0i64;
        while running.load(Ordering::SeqCst) {
            let rows = client
                .query(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
                    &[&database, &application],
                )
                .await
                .unwrap();
            max_concurrent = max_concurrent.max(rows.len() as i64);
            pids.extend(rows.iter().map(|r| r.get::<_, i32>(0)));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (pids, max_concurrent)
    })
}
