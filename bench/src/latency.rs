//! One 1,000-creator TikTok keyword search through the real queue and database, the creator API
//! answering with its measured latencies and deep pages: what a user waits, and what it costs.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use db::settings::SettingsCache;
use local::harness::{KEYWORD_CAMPAIGN, USER};
use queue::SqsQueue;
use serde_json::json;
use shared::config::DatabaseConfig;
use testkit::{ApiRequest, Replay, TestQueue};

use crate::{
    env::{worker, Env},
    report::{section, table},
};

/// The event source mapping of `process-scraping` in template.yaml: records per batch, and
/// containers polling at once.
const BATCH_SIZE: i32 = 5;
const MAX_CONCURRENCY: usize = 10;

/// The search with no delay between steps, then with 2 s.
pub async fn latency_searches(env: &Env) -> anyhow::Result<()> {
    section("A 1,000-creator TikTok keyword search against the latency model");
    println!("search pages 1.5-2.1 s, look-ups 0.8-1.2 s (testkit::LatencyModel::creator_api); {MAX_CONCURRENCY} worker containers, batches of up to {BATCH_SIZE}, a pool of 2 each");
    println!();
    table(&[
        "continuation delay",
        "search completed s",
        "all enriched s",
        "search pages",
        "chain limit s (pages x 1.8 s)",
        "completed / chain",
        "enriched / chain",
        "first 25 visible s",
        "creators",
        "credits",
        "floor (a page per 28 + a look-up each)",
        "credits / floor",
        "worker DB connections (max)",
    ]);
    for delay in [0, 2] {
        latency_search(env, delay).await?;
    }
    Ok(())
}

/// What watching the search showed.
struct Watched {
    /// When 25 creators were found.
    first_25: Option<Duration>,
    /// When the chain of search steps ended.
    chain_done: Option<Duration>,
    /// When every look-up was done too.
    wall: Duration,
    creators: i32,
    credits: i32,
    /// The most connections the workers held at once.
    connections: i64,
}

/// The search with `delay_secs` between steps. The worker runs as the event source mapping would
/// run it: `MAX_CONCURRENCY` containers, each with its own pool of two connections, each taking
/// batches of up to `BATCH_SIZE` records.
async fn latency_search(env: &Env, delay_secs: u64) -> anyhow::Result<()> {
    let replay = Replay::start_with(testkit::ReplayOptions {
        latency: Some(testkit::LatencyModel::creator_api()),
        deep_pages: Some(60),
    })
    .await;
    let test_queue = Arc::new(TestQueue::new(5).await);
    let delay = delay_secs.to_string();
    env.db.set_setting("continuation_delay", &delay).await;
    env.db
        .set_setting("max_api_calls_tiktok_keyword", "200")
        .await;
    env.db
        .set_setting("credits_per_search_trial", "1000000")
        .await;
    let queue = SqsQueue::new(test_queue.client.clone(), &test_queue.url);
    let app = format!("gemz-bench-worker-{delay_secs}");
    let stop = Arc::new(AtomicBool::new(false));
    let containers = containers(env, &replay, &test_queue, &queue, &app, &stop)?;
    let t = Instant::now();
    let job = start_search(env, queue).await?;
    let watched = watch(env, job, &app, t).await?;
    stop.store(true, Ordering::SeqCst);
    for container in containers {
        let _ = container.await;
    }
    report(
        delay_secs,
        &watched,
        replay.calls("/v1/tiktok/search/keyword"),
    );
    Ok(())
}

/// `MAX_CONCURRENCY` worker containers polling `test_queue` until `stop`, their connections
/// named `app`.
fn containers(
    env: &Env,
    replay: &Replay,
    test_queue: &Arc<TestQueue>,
    queue: &SqsQueue,
    app: &str,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let separator = if env.db.url.contains('?') { '&' } else { '?' };
    let database = DatabaseConfig {
        url: format!("{}{separator}application_name={app}", env.db.url),
        pool_size: 2,
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
        acquire_timeout: Duration::from_secs(5),
    };
    let mut containers = Vec::new();
    for _ in 0..MAX_CONCURRENCY {
        let worker = worker(
            &database,
            queue,
            replay.base_url(),
            Duration::from_secs(20),
            Duration::ZERO,
        )?;
        let (test_queue, stop) = (test_queue.clone(), stop.clone());
        containers.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                if let Some(event) = test_queue
                    .receive_batch(Duration::from_secs(1), BATCH_SIZE)
                    .await
                {
                    let response = process_scraping::handler(&worker, event.clone()).await;
                    test_queue.settle(&event, &response).await;
                }
            }
        }));
    }
    Ok(containers)
}

/// Starts the search through the handler; its job.
async fn start_search(env: &Env, queue: SqsQueue) -> anyhow::Result<uuid::Uuid> {
    let start = start_scraping::State {
        pool: env.db.pool.clone(),
        queue,
        settings: SettingsCache::new(Duration::ZERO),
    };
    let req = ApiRequest::new("POST", "/scraping/{platform}")
        .user(USER)
        .path_param("platform", "tiktok")
        .json(json!({"campaignId": KEYWORD_CAMPAIGN, "keywords": ["airpods pro"], "targetResults": 1000}));
    let res = start_scraping::handler(&start, req.build()).await;
    anyhow::ensure!(res.status() == 202, "start failed: {}", res.status());
    testkit::body_json(&res)["jobId"]
        .as_str()
        .and_then(|j| j.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no job id"))
}

/// Watches `job` every 100 ms, from `t`, until the search and its look-ups are done.
async fn watch(env: &Env, job: uuid::Uuid, app: &str, t: Instant) -> anyhow::Result<Watched> {
    let client = env.db.client().await;
    let (mut first_25, mut chain_done, mut connections) = (None, None, 0i64);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let row = client
            .query_one(
                "SELECT status, processed_results, credits_used,
                        (SELECT count(*) FROM scraping_results WHERE job_id = $1 AND enrichment = 'pending'),
                        (SELECT count(*) FROM pg_stat_activity WHERE application_name = $2)
                   FROM scraping_jobs WHERE id = $1",
                &[&job, &app],
            )
            .await?;
        let (status, found, credits, pending, held): (String, i32, i32, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        connections = connections.max(held);
        if first_25.is_none() && found >= 25 {
            first_25 = Some(t.elapsed());
        }
        let running = matches!(status.as_str(), "pending" | "processing");
        if !running && chain_done.is_none() {
            chain_done = Some(t.elapsed());
        }
        if !running && pending == 0 {
            return Ok(Watched {
                first_25,
                chain_done,
                wall: t.elapsed(),
                creators: found,
                credits,
                connections,
            });
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(1_800),
            "the search did not finish"
        );
    }
}

/// The search's row of the table; `pages` is how many search pages the creator API served.
fn report(delay_secs: u64, w: &Watched, pages: usize) {
    let wall = w.wall.as_secs_f64();
    let chain = pages as f64 * 1.8;
    let searched = w.chain_done.map_or(f64::NAN, |d| d.as_secs_f64());
    // The floor: a page per ~28 creators, and a look-up per creator (keyword pages carry
    // no bios).
    let floor = (w.creators as usize).div_ceil(28) + w.creators as usize;
    println!(
        "| {delay_secs} s | {searched:.1} | {wall:.1} | {pages} | {chain:.1} | {:.2} | {:.2} | {:.1} | {} | {} | {floor} | {:.2} | {} |",
        searched / chain,
        wall / chain,
        w.first_25.map_or(f64::NAN, |d| d.as_secs_f64()),
        w.creators,
        w.credits,
        f64::from(w.credits) / floor as f64,
        w.connections,
    );
}
