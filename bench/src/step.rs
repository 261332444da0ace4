//! One TikTok keyword step: whole through the compiled worker, the page's parsing alone, and its
//! parts timed in process.

use std::time::{Duration, Instant};

use domain::search::{Platform, SearchTarget};
use local::{
    harness::{event, KEYWORD_CAMPAIGN, USER},
    runtime_api::{spawn_function, Invocation, RuntimeApi},
};
use pipeline::{
    creator_api::CreatorApi,
    search::{enrich, fetch_page, SearchSpec},
};
use queue::{JobQueue, SqsQueue, StepMessage};
use serde_json::{json, Value};

use crate::{
    env::{bin_dir, creator_api, peak_rss_kb, Env},
    report::{ms, percentile, table},
};

pub async fn tiktok_step(env: &Env, runs: usize) -> anyhow::Result<()> {
    let (mut samples, rss) = steps_through_runtime_api(env, runs).await?;
    let (mut parse, page_bytes) = parse_alone(runs)?;
    println!("\n## One TikTok keyword step ({:.1} MB page; fetch, parse, enrich look-ups, persist, enqueue), {runs} runs\n", page_bytes as f64 / 1e6);
    table(&["measured", "p50 ms"]);
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

/// `runs` first steps of new searches through one compiled worker: their times, and the worker's
/// peak RSS (kB) after them.
async fn steps_through_runtime_api(env: &Env, runs: usize) -> anyhow::Result<(Vec<f64>, u64)> {
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
    Ok((samples, rss))
}

/// Parsing the 2 MB page alone, `runs` times; and the page's size.
fn parse_alone(runs: usize) -> anyhow::Result<(Vec<f64>, usize)> {
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
    Ok((parse, raw.len()))
}

/// The times of each part of a step, one sample per run.
#[derive(Default)]
struct Parts {
    fetch: Vec<f64>,
    enrich: Vec<f64>,
    commit: Vec<f64>,
    send: Vec<f64>,
}

/// The parts of one step, timed in process: fetch + parse, enrichment look-ups, the commit, the send.
async fn step_breakdown(env: &Env, runs: usize) -> anyhow::Result<()> {
    let api = creator_api(env.replay.base_url(), Duration::from_secs(10))?;
    let queue = SqsQueue::new(env.queue.client.clone(), &env.queue.url);
    let mut parts = Parts::default();
    for _ in 0..runs {
        one_step_in_parts(env, &api, &queue, &mut parts).await?;
    }
    println!();
    table(&["part of the step (in process)", "p50 ms"]);
    for (part, samples) in [
        (
            "fetch the 2 MB page from the replay and parse it",
            &mut parts.fetch,
        ),
        (
            "profile look-ups for authors without a bio (5 at a time)",
            &mut parts.enrich,
        ),
        ("commit the creators (one statement)", &mut parts.commit),
        ("send the next step to the SQS emulator", &mut parts.send),
    ] {
        println!("| {part} | {:.2} |", percentile(samples, 0.5));
    }
    Ok(())
}

async fn one_step_in_parts(
    env: &Env,
    api: &CreatorApi,
    queue: &SqsQueue,
    parts: &mut Parts,
) -> anyhow::Result<()> {
    let spec = SearchSpec {
        platform: Platform::TikTok,
        target: SearchTarget::Keywords(vec!["airpods pro".into()]),
        region: None,
        batch_size: 10,
    };
    let job = env.db.seed_job(USER, "processing", 0).await;
    let t = Instant::now();
    let mut page = fetch_page(api, &spec, None).await?;
    parts.fetch.push(ms(t.elapsed()));
    let t = Instant::now();
    enrich(api, &mut page.creators, 5).await;
    parts.enrich.push(ms(t.elapsed()));
    let t = Instant::now();
    let mut client = env.db.pool.get().await?;
    let tx = client.transaction().await?;
    db::results::insert(&tx, job, 0, 0, &page.creators, &[]).await?;
    tx.commit().await?;
    parts.commit.push(ms(t.elapsed()));
    let t = Instant::now();
    let next = StepMessage {
        job_id: job,
        step: 1,
    };
    queue.send(&next, Duration::ZERO).await?;
    parts.send.push(ms(t.elapsed()));
    Ok(())
}
