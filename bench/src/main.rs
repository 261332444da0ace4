//! `bench` — measures the release binaries and the pipeline and prints every figure.
//!
//! Needs PostgreSQL and the SQS emulator (`scripts/bench` brings both up and builds the release
//! binaries). Figures are medians and percentiles over repeated runs; nothing here asserts a
//! timing. `BENCHMARKS.md` records a run and explains the figures.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicI64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use db::settings::SettingsCache;
use local::{
    harness::{event, FunctionEnv as Env, JOB, KEYWORD_CAMPAIGN, USER},
    runtime_api::{spawn_function, Invocation, RuntimeApi},
};
use pipeline::{creator_api::CreatorApi, worker::Worker};
use queue::SqsQueue;
use serde_json::{json, Value};
use shared::config::CreatorApiConfig;
use testkit::{ApiRequest, TestDb, TestQueue};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bin_dir() -> PathBuf {
    std::env::var_os("GEMZ_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/release"))
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Peak resident memory of a process (kB), from /proc.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Starts `function`, returns (cold start, first invocation, peak RSS kB).
async fn one_cold_start(
    env: &Env,
    function: &str,
    first_event: &Value,
) -> anyhow::Result<(Duration, Duration, u64)> {
    let (cold, first, rss, _) = cold_start_answer(env, function, first_event).await?;
    Ok((cold, first, rss))
}

/// [`one_cold_start`], with the function's answer.
async fn cold_start_answer(
    env: &Env,
    function: &str,
    first_event: &Value,
) -> anyhow::Result<(Duration, Duration, u64, Value)> {
    let api = RuntimeApi::start().await;
    let started = Instant::now();
    let mut child = spawn_function(&bin_dir(), function, &api, &env.vars())?;
    let polled = tokio::time::timeout(Duration::from_secs(10), api.wait_first_poll()).await?;
    let cold = polled - started;
    let t = Instant::now();
    let answer =
        tokio::time::timeout(Duration::from_secs(30), api.invoke(first_event.clone())).await?;
    let first = t.elapsed();
    let answer = match answer {
        Invocation::Error(e) => anyhow::bail!("{function} failed: {e}"),
        Invocation::Response(value) => value,
    };
    let rss = child.id().and_then(peak_rss_kb).unwrap_or(0);
    let _ = child.kill().await;
    Ok((cold, first, rss, answer))
}

const FUNCTIONS: &[(&str, &str)] = &[
    ("create-campaign", "create-campaign"),
    ("list-campaigns", "list-campaigns"),
    ("get-campaign", "get-campaign"),
    ("onboarding-step", "onboarding-step-1"),
    ("onboarding-status", "onboarding-status"),
    ("start-scraping", "start-scraping-tiktok"),
    ("job-status", "job-status"),
    ("cancel-job", "job-status"),
    ("export-creators", "export-creators"),
    ("export-campaign-creators", "export-campaign-creators"),
    ("process-scraping", "process-scraping"),
    ("sweeper", "sweeper"),
    ("send-emails", "send-emails"),
    ("email-unsubscribe", "email-unsubscribe"),
    ("migrate", "migrate"),
];

async fn cold_starts(env: &Env, runs: usize) -> anyhow::Result<()> {
    println!("\n## Cold start, first invocation, size, peak RSS (release, {runs} runs each)\n");
    println!(
        "| function | binary MB | cold start p50 ms | first invocation p50 ms | peak RSS MB |"
    );
    println!("|---|---|---|---|---|");
    // BENCH_FUNCTIONS=a,b measures those functions only.
    let chosen = std::env::var("BENCH_FUNCTIONS").unwrap_or_default();
    let chosen = |f: &str| chosen.is_empty() || chosen.split(',').any(|c| c.trim() == f);
    for (function, event_name) in FUNCTIONS.iter().filter(|(f, _)| chosen(f)) {
        let mut first_event = event(event_name);
        if *function == "cancel-job" {
            // Cancelling is a state change; time reading the same job through the DELETE route.
            first_event["routeKey"] = json!("DELETE /jobs/{jobId}");
            first_event["requestContext"]["http"]["method"] = json!("DELETE");
        }
        let (mut colds, mut firsts, mut rss) = (Vec::new(), Vec::new(), 0u64);
        for _ in 0..runs {
            if *function == "process-scraping" || *function == "cancel-job" {
                env.db.client().await.execute(
                    "UPDATE scraping_jobs SET status = 'pending', processed_runs = 0, processed_results = 0, progress = 0,
                        completed_at = NULL, cursor = '{}', lease_token = NULL, lease_expires_at = NULL WHERE id = $1",
                    &[&uuid::Uuid::parse_str(JOB).unwrap()],
                ).await?;
                env.db
                    .client()
                    .await
                    .execute(
                        "DELETE FROM scraping_results WHERE job_id = $1",
                        &[&uuid::Uuid::parse_str(JOB).unwrap()],
                    )
                    .await?;
            }
            if *function == "send-emails" {
                // One email due, so the first invocation claims, renders and sends it (moto's SES).
                env.db
                    .client()
                    .await
                    .batch_execute(&format!(
                    "UPDATE user_profiles SET email = 'bench@example.com' WHERE user_id = '{USER}';
                     INSERT INTO scheduled_emails (user_id, kind, due_at, next_attempt_at)
                     VALUES ('{USER}', 'welcome', now(), now())
                     ON CONFLICT (user_id, kind) DO UPDATE SET status = 'scheduled', attempts = 0,
                         next_attempt_at = now(), message_id = NULL, claimed_until = NULL;"
                ))
                    .await?;
            }
            let (c, f, r) = one_cold_start(env, function, &first_event).await?;
            colds.push(ms(c));
            firsts.push(ms(f));
            rss = rss.max(r);
        }
        let size = std::fs::metadata(bin_dir().join(function))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "| {function} | {:.2} | {:.2} | {:.2} | {:.1} |",
            size as f64 / 1e6,
            percentile(&mut colds, 0.5),
            percentile(&mut firsts, 0.5),
            rss as f64 / 1024.0
        );
    }
    Ok(())
}

/// Distinct server backends opened by `application` while `running` holds.
fn watch_backends(
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

async fn warm_job_status(env: &Env, invocations: usize) -> anyhow::Result<()> {
    let job = env.db.seed_job(USER, "completed", 1000).await;
    let mut ev = event("job-status");
    let path = format!("/jobs/{job}");
    ev["rawPath"] = json!(path);
    ev["requestContext"]["http"]["path"] = json!(path);
    ev["pathParameters"]["jobId"] = json!(job.to_string());

    let api = RuntimeApi::start().await;
    let mut child = spawn_function(&bin_dir(), "job-status", &api, &env.vars())?;
    let running = Arc::new(AtomicBool::new(true));
    let watcher = watch_backends(
        testkit::admin_url(),
        env.db.name.clone(),
        "job-status".into(),
        running.clone(),
    );
    let mut samples = Vec::with_capacity(invocations);
    let event_bytes = bytes::Bytes::from(ev.to_string());
    let mut last = None;
    for _ in 0..invocations {
        let t = Instant::now();
        let answer = api.invoke_raw(event_bytes.clone()).await;
        samples.push(ms(t.elapsed()));
        last = Some(answer);
    }
    let bytes = match last.map(|a| a.parse()) {
        Some(Invocation::Response(v)) => v["body"].as_str().map(str::len).unwrap_or(0),
        other => anyhow::bail!("job-status failed: {other:?}"),
    };
    running.store(false, Ordering::SeqCst);
    let (pids, _) = watcher.await?;
    let rss = child.id().and_then(peak_rss_kb).unwrap_or(0);
    let _ = child.kill().await;

    // The handler alone, in this process: the same code without the Runtime API's two loopback
    // HTTP exchanges.
    let req = ApiRequest::new("GET", "/jobs/{jobId}")
        .user(USER)
        .path_param("jobId", &job.to_string())
        .query("limit", "50");
    let mut direct = Vec::with_capacity(invocations);
    for _ in 0..invocations {
        let r = req.build();
        let t = Instant::now();
        let _ = job_status::handler(&env.db.pool, r).await;
        direct.push(ms(t.elapsed()));
    }
    println!("\n## Warm job-status: 1,000-creator job, page of 50, {invocations} invocations\n");
    println!("| measured | p50 ms | p99 ms |");
    println!("|---|---|---|");
    println!(
        "| through the Runtime API (release binary) | {:.3} | {:.3} |",
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99)
    );
    println!(
        "| handler alone (in process) | {:.3} | {:.3} |",
        percentile(&mut direct, 0.5),
        percentile(&mut direct, 0.99)
    );
    println!(
        "\nresponse body {bytes} bytes; peak RSS {:.1} MB",
        rss as f64 / 1024.0
    );
    println!("\n## Connection reuse\n\n{invocations} warm invocations of one job-status container opened {} database connection(s)", pids.len());
    Ok(())
}

async fn tiktok_step(env: &Env, runs: usize) -> anyhow::Result<()> {
    let api = RuntimeApi::start().await;
    let mut child = spawn_function(&bin_dir(), "process-scraping", &api, &env.vars())?;
    let client = env.db.client().await;
    let mut samples = Vec::new();
    for _ in 0..runs {
        let job: uuid::Uuid = client
            .query_one(
                &format!(
                    "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results, timeout_at)
                     VALUES ('{USER}', '{KEYWORD_CAMPAIGN}', 'TikTok', 'keyword', '[\"airpods pro\"]', 1000, now() + interval '1 hour') RETURNING id"
                ),
                &[],
            )
            .await?
            .get(0);
        let mut ev = event("process-scraping");
        ev["Records"].as_array_mut().unwrap().truncate(1);
        ev["Records"][0]["body"] = json!(json!({"jobId": job, "step": 0}).to_string());
        let t = Instant::now();
        let answer = api.invoke(ev).await;
        samples.push(ms(t.elapsed()));
        anyhow::ensure!(
            answer == Invocation::Response(json!({"batchItemFailures": []})),
            "step failed: {answer:?}"
        );
    }
    let rss = child.id().and_then(peak_rss_kb).unwrap_or(0);
    let _ = child.kill().await;

    // Parsing the 2 MB page alone.
    let page = std::fs::read(
        testkit::replay::fixtures_dir().join("tiktok-search-keyword/airpods-pro-page1.json"),
    )?;
    let body: Value = serde_json::from_slice(&page)?;
    let raw = serde_json::to_vec(&body["response"]["body"])?;
    let mut parse = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let parsed: pipeline::parse::TikTokKeywordPage = serde_json::from_slice(&raw)?;
        parse.push(ms(t.elapsed()));
        std::hint::black_box(parsed);
    }
    println!("\n## One TikTok keyword step ({:.1} MB page; fetch, parse, enrich look-ups, persist, enqueue), {runs} runs\n", raw.len() as f64 / 1e6);
    println!("| measured | p50 ms |");
    println!("|---|---|");
    println!(
        "| whole step through the Runtime API (release binary) | {:.2} |",
        percentile(&mut samples, 0.5)
    );
    println!(
        "| parsing the page alone | {:.2} |",
        percentile(&mut parse, 0.5)
    );
    println!(
        "\npeak RSS of the worker after {runs} steps: {:.1} MB",
        rss as f64 / 1024.0
    );
    step_breakdown(env, runs).await
}

/// The parts of one step, timed in process: fetch + parse, enrichment look-ups, the commit, the send.
async fn step_breakdown(env: &Env, runs: usize) -> anyhow::Result<()> {
    use domain::{search::Platform, search::SearchTarget};
    use pipeline::{search::enrich, search::fetch_page, search::SearchSpec};
    use queue::{JobQueue, StepMessage};
    let api = CreatorApi::new(
        &CreatorApiConfig {
            base_url: env.replay.base_url().into(),
            api_key: None,
            timeout: Duration::from_secs(10),
        },
        "bench",
    )?;
    let spec = SearchSpec {
        platform: Platform::TikTok,
        target: SearchTarget::Keywords(vec!["airpods pro".into()]),
        region: None,
        batch_size: 10,
    };
    let queue = SqsQueue::new(env.queue.client.clone(), &env.queue.url);
    let (mut fetch, mut enrich_t, mut commit, mut send) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let job = env.db.seed_job(USER, "processing", 0).await;
        let t = Instant::now();
        let mut page = fetch_page(&api, &spec, None).await?;
        fetch.push(ms(t.elapsed()));
        let t = Instant::now();
        enrich(&api, &mut page.creators, 5).await;
        enrich_t.push(ms(t.elapsed()));
        let t = Instant::now();
        let mut client = env.db.pool.get().await?;
        let tx = client.transaction().await?;
        db::results::insert(&tx, job, 0, 0, &page.creators, &[]).await?;
        tx.commit().await?;
        commit.push(ms(t.elapsed()));
        let t = Instant::now();
        queue
            .send(
                &StepMessage {
                    job_id: job,
                    step: 1,
                },
                Duration::ZERO,
            )
            .await?;
        send.push(ms(t.elapsed()));
    }
    println!("\n| part of the step (in process) | p50 ms |");
    println!("|---|---|");
    println!(
        "| fetch the 2 MB page from the replay and parse it | {:.2} |",
        percentile(&mut fetch, 0.5)
    );
    println!(
        "| profile look-ups for authors without a bio (5 at a time) | {:.2} |",
        percentile(&mut enrich_t, 0.5)
    );
    println!(
        "| commit the creators (one statement) | {:.2} |",
        percentile(&mut commit, 0.5)
    );
    println!(
        "| send the next step to the SQS emulator | {:.2} |",
        percentile(&mut send, 0.5)
    );
    Ok(())
}

async fn end_to_end(env: &Env, searches: usize, containers: usize) -> anyhow::Result<()> {
    // A queue and campaign of their own, so earlier figures' leftovers are not counted.
    let test_queue = TestQueue::new(5).await;
    let campaign: uuid::Uuid = env.db.client().await
        .query_one(&format!("INSERT INTO campaigns (user_id, name, search_type) VALUES ('{USER}', 'End to end', 'keyword') RETURNING id"), &[])
        .await?.get(0);
    env.db.client().await.batch_execute("UPDATE system_configurations SET value = '4' WHERE key = 'max_api_calls_tiktok_keyword'").await?;
    let queue = SqsQueue::new(test_queue.client.clone(), &test_queue.url);
    let pool_size = 2;
    // One worker per emulated container, each with its own pool, as Lambda runs them.
    let workers: Vec<Arc<Worker<SqsQueue>>> = (0..containers)
        .map(|_| {
            let mut config = TestDb::config(&env.db.url, pool_size);
            config.url = format!("{}?application_name=bench-worker", env.db.url);
            Arc::new(Worker {
                pool: db::pool(&config).unwrap(),
                queue: queue.clone(),
                api: CreatorApi::new(
                    &CreatorApiConfig {
                        base_url: env.replay.base_url().into(),
                        api_key: None,
                        timeout: Duration::from_secs(10),
                    },
                    "bench",
                )
                .unwrap(),
                settings: SettingsCache::new(Duration::from_secs(30)),
                max_receive_count: 5,
                lease: Duration::from_secs(90),
            })
        })
        .collect();
    let start_state = start_scraping::State {
        pool: env.db.pool.clone(),
        queue: queue.clone(),
        settings: SettingsCache::new(Duration::from_secs(30)),
    };
    let running = Arc::new(AtomicBool::new(true));
    let watcher = watch_backends(
        testkit::admin_url(),
        env.db.name.clone(),
        "bench-worker".into(),
        running.clone(),
    );
    let steps = Arc::new(AtomicI64::new(0));

    let t = Instant::now();
    let starts = (0..searches).map(|_| {
        let req = ApiRequest::new("POST", "/scraping/{platform}")
            .user(USER)
            .path_param("platform", "tiktok")
            .json(
                json!({"campaignId": campaign, "keywords": ["airpods pro"], "targetResults": 1000}),
            );
        start_scraping::handler(&start_state, req.build())
    });
    for res in futures::future::join_all(starts).await {
        anyhow::ensure!(res.status() == 202, "start failed: {}", res.status());
    }
    let pollers: Vec<_> = workers
        .iter()
        .map(|worker| {
            let (worker, queue, steps) = (worker.clone(), test_queue.client.clone(), steps.clone());
            let url = test_queue.url.clone();
            let pool = env.db.pool.clone();
            tokio::spawn(async move {
                loop {
                    let out = queue
                        .receive_message()
                        .queue_url(&url)
                        .max_number_of_messages(5)
                        .wait_time_seconds(1)
                        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                        .send()
                        .await
                        .unwrap();
                    let messages = out.messages.unwrap_or_default();
                    if messages.is_empty() {
                        let running: i64 = pool.get().await.unwrap()
                            .query_one("SELECT count(*) FROM scraping_jobs WHERE status IN ('pending','processing') AND campaign_id = $1", &[&campaign])
                            .await.unwrap().get(0);
                        if running == 0 {
                            return;
                        }
                        continue;
                    }
                    let event = testkit::sqs::to_event(&messages, &url);
                    let response = process_scraping::handler(&*worker, event.clone()).await;
                    steps.fetch_add((event.records.len() - response.batch_item_failures.len()) as i64, Ordering::SeqCst);
                    let failed: Vec<String> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
                    for r in &event.records {
                        if !failed.contains(r.message_id.as_ref().unwrap()) {
                            queue.delete_message().queue_url(&url).receipt_handle(r.receipt_handle.clone().unwrap()).send().await.unwrap();
                        }
                    }
                }
            })
        })
        .collect();
    futures::future::join_all(pollers).await;
    let elapsed = t.elapsed();
    running.store(false, Ordering::SeqCst);
    let (_, max_connections) = watcher.await?;
    let completed: i64 = env.db.client().await
        .query_one("SELECT count(*) FROM scraping_jobs WHERE status = 'completed' AND campaign_id = $1 AND processed_runs = 4", &[&campaign])
        .await?.get(0);
    let steps = steps.load(Ordering::SeqCst);
    println!("\n## End to end: {searches} concurrent TikTok keyword searches of 4 pages, {containers} worker containers x {pool_size} connections\n");
    println!("| figure | value |");
    println!("|---|---|");
    println!("| searches completed (4 pages each) | {completed} of {searches} |");
    println!("| wall time | {:.2} s |", elapsed.as_secs_f64());
    println!(
        "| searches/s | {:.2} |",
        completed as f64 / elapsed.as_secs_f64()
    );
    println!("| steps/s | {:.1} |", steps as f64 / elapsed.as_secs_f64());
    println!(
        "| most worker connections open at once | {max_connections} (bound {}) |",
        containers * pool_size
    );
    Ok(())
}

/// `bench load URL TOKEN`: 30 s of `job-status` and then of `create-campaign` at concurrency 32
/// against a running `local serve`, from this separate process.
async fn load(base: &str, token: &str) -> anyhow::Result<()> {
    let http = shared::tls::http_client()?
        .pool_max_idle_per_host(64)
        .build()?;
    let auth = format!("Bearer {token}");
    let campaign: Value = http
        .post(format!("{base}/campaigns"))
        .header("authorization", &auth)
        .json(&json!({"name": "Load", "searchType": "keyword"}))
        .send()
        .await?
        .json()
        .await?;
    let started: Value = http
        .post(format!("{base}/scraping/tiktok"))
        .header("authorization", &auth)
        .json(&json!({"campaignId": campaign["id"], "keywords": ["nike"], "targetResults": 50}))
        .send()
        .await?
        .json()
        .await?;
    let job = started["jobId"].as_str().unwrap_or_default().to_owned();
    for _ in 0..120 {
        let status: Value = http
            .get(format!("{base}/jobs/{job}?limit=1"))
            .header("authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        if status["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!("\n## Load on local serve from a separate process: concurrency 32, 30 s per route\n");
    println!("| route | requests | errors | requests/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    for (name, method, path, body) in [
        (
            "GET /jobs/{jobId}?limit=50",
            "GET",
            format!("/jobs/{job}?limit=50"),
            None,
        ),
        (
            "POST /campaigns",
            "POST",
            "/campaigns".to_owned(),
            Some(json!({"name": "Load test", "searchType": "keyword"})),
        ),
    ] {
        let deadline = Instant::now() + Duration::from_secs(30);
        let workers = (0..32).map(|_| {
            let (http, auth, url, body, method) = (
                http.clone(),
                auth.clone(),
                format!("{base}{path}"),
                body.clone(),
                method.to_owned(),
            );
            tokio::spawn(async move {
                let (mut times, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let mut req = http
                        .request(method.parse().unwrap(), &url)
                        .header("authorization", &auth);
                    if let Some(b) = &body {
                        req = req.json(b);
                    }
                    match req.send().await {
                        Ok(res) if res.status().is_success() => {
                            let _ = res.bytes().await;
                            times.push(ms(t.elapsed()));
                        }
                        _ => errors += 1,
                    }
                }
                (times, errors)
            })
        });
        let started = Instant::now();
        let (mut all, mut errors) = (Vec::new(), 0);
        for w in futures::future::join_all(workers).await {
            let (t, e) = w?;
            all.extend(t);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let n = all.len();
        println!(
            "| {name} | {n} | {errors} | {:.0} | {:.2} | {:.2} |",
            n as f64 / elapsed,
            percentile(&mut all, 0.5),
            percentile(&mut all, 0.99)
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, base, token] = args.as_slice() {
        if mode == "load" {
            return load(base, token).await;
        }
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    println!("# Gemz benchmarks\n\nbinaries: {}", bin_dir().display());
    // BENCH_ONLY=cold,warm,step,e2e runs a subset (all by default).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let run = |part: &str| only.is_empty() || only.split(',').any(|p| p.trim() == part);
    let env = Env::new().await;
    // The benchmarks start many searches for one user: spending limits are not what they measure.
    env.db
        .client()
        .await
        .batch_execute(
            "UPDATE system_configurations SET value = '100' WHERE key = 'max_running_searches_trial';
             UPDATE system_configurations SET value = '100000000' WHERE key = 'period_credits_trial';",
        )
        .await?;
    if run("cold") {
        cold_starts(&env, runs).await?;
    }
    if run("warm") {
        warm_job_status(&env, 2000).await?;
    }
    if run("step") {
        tiktok_step(&env, runs).await?;
    }
    if run("e2e") {
        end_to_end(&env, 50, 5).await?;
    }
    if run("export") {
        exports(&env, runs.min(5)).await?;
    }
    if run("latency") {
        println!("\n## A 1,000-creator TikTok keyword search against the latency model\n");
        println!("search pages 1.5-2.1 s, look-ups 0.8-1.2 s (testkit::LatencyModel::creator_api); {MAX_CONCURRENCY} worker containers, batches of up to {BATCH_SIZE}, a pool of 2 each");
        println!();
        println!("| continuation delay | search completed s | all enriched s | search pages | chain limit s (pages x 1.8 s) | completed / chain | enriched / chain | first 25 visible s | creators | credits | floor (a page per 28 + a look-up each) | credits / floor | worker DB connections (max) |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for delay in [0, 2] {
            latency_search(&env, delay).await?;
        }
    }
    Ok(())
}

/// The event source mapping of `process-scraping` in template.yaml: records per batch, and
/// containers polling at once.
const BATCH_SIZE: i32 = 5;
const MAX_CONCURRENCY: usize = 10;

/// One 1,000-creator TikTok keyword search through the real queue and database, the creator API
/// answering with its measured latencies and deep pages: what a user waits, and what it costs.
/// The worker runs as the event source mapping would run it: `MAX_CONCURRENCY` containers, each
/// with its own pool of two connections, each taking batches of up to `BATCH_SIZE` records.
async fn latency_search(env: &Env, delay_secs: u64) -> anyhow::Result<()> {
    let replay = testkit::Replay::start_with(testkit::ReplayOptions {
        latency: Some(testkit::LatencyModel::creator_api()),
        deep_pages: Some(60),
    })
    .await;
    let test_queue = std::sync::Arc::new(TestQueue::new(5).await);
    let client = env.db.client().await;
    client
        .batch_execute(&format!(
            "UPDATE system_configurations SET value = '{delay_secs}' WHERE key = 'continuation_delay';
             UPDATE system_configurations SET value = '200' WHERE key = 'max_api_calls_tiktok_keyword';
             UPDATE system_configurations SET value = '1000000' WHERE key = 'credits_per_search_trial';"
        ))
        .await?;
    let queue = SqsQueue::new(test_queue.client.clone(), &test_queue.url);
    let app = format!("gemz-bench-worker-{delay_secs}");
    let separator = if env.db.url.contains('?') { '&' } else { '?' };
    let database = shared::config::DatabaseConfig {
        url: format!("{}{separator}application_name={app}", env.db.url),
        pool_size: 2,
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
        acquire_timeout: Duration::from_secs(5),
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut containers = Vec::new();
    for _ in 0..MAX_CONCURRENCY {
        let worker = Worker {
            pool: db::pool(&database)?,
            queue: queue.clone(),
            api: CreatorApi::new(
                &CreatorApiConfig {
                    base_url: replay.base_url().into(),
                    api_key: None,
                    timeout: Duration::from_secs(20),
                },
                "bench",
            )?,
            settings: SettingsCache::new(Duration::ZERO),
            max_receive_count: 5,
            lease: Duration::from_secs(90),
        };
        let (test_queue, stop) = (test_queue.clone(), stop.clone());
        containers.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
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
    let start = start_scraping::State {
        pool: env.db.pool.clone(),
        queue,
        settings: SettingsCache::new(Duration::ZERO),
    };
    let req = ApiRequest::new("POST", "/scraping/{platform}")
        .user(USER)
        .path_param("platform", "tiktok")
        .json(json!({"campaignId": KEYWORD_CAMPAIGN, "keywords": ["airpods pro"], "targetResults": 1000}));
    let t = Instant::now();
    let res = start_scraping::handler(&start, req.build()).await;
    anyhow::ensure!(res.status() == 202, "start failed: {}", res.status());
    let job: uuid::Uuid = testkit::body_json(&res)["jobId"]
        .as_str()
        .and_then(|j| j.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no job id"))?;
    let (mut first_25, mut chain_done, mut connections) = (None, None, 0i64);
    let (creators, credits) = loop {
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
            break (found, credits);
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(1_800),
            "the search did not finish"
        );
    };
    let wall = t.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for container in containers {
        let _ = container.await;
    }
    let pages = replay.calls("/v1/tiktok/search/keyword");
    let chain = pages as f64 * 1.8;
    let searched = chain_done.map_or(f64::NAN, |d| d.as_secs_f64());
    // The floor: a page per ~28 creators, and a look-up per creator (keyword pages carry
    // no bios).
    let floor = (creators as usize).div_ceil(28) + creators as usize;
    println!(
        "| {delay_secs} s | {searched:.1} | {wall:.1} | {pages} | {chain:.1} | {:.2} | {:.2} | {:.1} | {creators} | {credits} | {floor} | {:.2} | {connections} |",
        searched / chain,
        wall / chain,
        first_25.map_or(f64::NAN, |d| d.as_secs_f64()),
        f64::from(credits) / floor as f64,
    );
    Ok(())
}

/// Campaigns of 1,000 and 10,000 creators exported by the compiled `export-campaign-creators`
/// under the Runtime API emulator: the first invocation and the process's peak RSS. The larger
/// file goes to the S3 emulator (more than an inline answer may hold); memory should not grow
/// with the export.
async fn exports(env: &Env, runs: usize) -> anyhow::Result<()> {
    println!("\n## Campaign exports ({runs} runs each)\n");
    println!("| creators | stored JSON MB | first invocation p50 ms | peak RSS MB |");
    println!("|---|---|---|---|");
    for total in [1_000i32, 10_000] {
        export_once(env, runs, total).await?;
    }
    Ok(())
}

async fn export_once(env: &Env, runs: usize, total: i32) -> anyhow::Result<()> {
    let per_job = total / 2;
    let client = env.db.client().await;
    let campaign: uuid::Uuid = client
        .query_one(
            "INSERT INTO campaigns (user_id, name, search_type) VALUES ($1, 'Export bench', 'keyword') RETURNING id",
            &[&USER],
        )
        .await?
        .get(0);
    for search in 0..2 {
        let job: uuid::Uuid = client
            .query_one(
                "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results,
                     status, processed_results, processed_runs, timeout_at, completed_at)
                 VALUES ($1, $2, 'TikTok', 'keyword', '[\"bench\"]', 1000, 'completed', $3, 1, now(), now())
                 RETURNING id",
                &[&USER, &campaign, &per_job],
            )
            .await?
            .get(0);
        // Creator-sized rows: a 300-character bio, a video with its caption and statistics.
        client
            .execute(
                "INSERT INTO scraping_results (job_id, step, position, creator_key, creators)
                 SELECT $1, 0, n, 'c' || ($2 * $3 + n), jsonb_build_object(
                     'platform', 'TikTok', 'hashtags', '[\"bench\", \"export\"]'::jsonb,
                     'foundBy', jsonb_build_object('keyword', 'bench'),
                     'creator', jsonb_build_object('name', 'Creator ' || n, 'uniqueId', 'c' || ($2 * $3 + n),
                         'followers', 1000 + n, 'avatarUrl', null, 'profilePicUrl', null,
                         'bio', repeat('Creator bio with words. ', 12) || n, 'emails', jsonb_build_array('c' || n || '@example.com'),
                         'verified', false, 'profileUrl', 'https://www.tiktok.com/@c' || n),
                     'video', jsonb_build_object('description', repeat('A caption #bench ', 6), 'url', 'https://www.tiktok.com/@c' || n || '/video/' || n,
                         'statistics', jsonb_build_object('likes', n, 'comments', 1, 'shares', 2, 'views', 10 * n)),
                     'publishedAt', 1751484088)
                 FROM generate_series(0, $3 - 1) AS n",
                &[&job, &search, &per_job],
            )
            .await?;
    }
    let mut event = event("export-campaign-creators");
    let path = format!("/campaigns/{campaign}/creators.csv");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["pathParameters"]["campaignId"] = json!(campaign.to_string());
    let (mut firsts, mut rss) = (Vec::new(), 0u64);
    for _ in 0..runs {
        let (_, first, peak, answer) =
            cold_start_answer(env, "export-campaign-creators", &event).await?;
        // Inline up to 4 MB, a link beyond: anything else is a failed export, not a figure.
        let expected = if total > 5_000 { 303 } else { 200 };
        anyhow::ensure!(
            answer["statusCode"] == expected,
            "the export answered {}, not {expected}",
            answer["statusCode"]
        );
        firsts.push(ms(first));
        rss = rss.max(peak);
    }
    let bytes: i64 = client
        .query_one(
            "SELECT sum(octet_length(creators::text))::bigint FROM scraping_results r
               JOIN scraping_jobs j ON j.id = r.job_id WHERE j.campaign_id = $1",
            &[&campaign],
        )
        .await?
        .get(0);
    println!(
        "| {total} | {:.1} | {:.0} | {:.1} |",
        bytes as f64 / 1e6,
        percentile(&mut firsts, 0.5),
        rss as f64 / 1024.0
    );
    Ok(())
}
