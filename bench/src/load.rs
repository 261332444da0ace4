//! `bench load URL TOKEN`: 30 s of `job-status` and then of `create-campaign` at concurrency 32
//! against a running `local serve`, from this separate process.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::report::{ms, percentile, section, table};

const CONCURRENCY: usize = 32;
const PER_ROUTE: Duration = Duration::from_secs(30);

/// One route under load: the request every client sends in a loop.
#[derive(Clone)]
struct Target {
    http: reqwest::Client,
    auth: String,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
}

pub async fn load(base: &str, token: &str) -> anyhow::Result<()> {
    let http = shared::tls::http_client()?
        .pool_max_idle_per_host(64)
        .build()?;
    let auth = format!("Bearer {token}");
    let job = finished_search(&http, base, &auth).await?;
    section("Load on local serve from a separate process: concurrency 32, 30 s per route");
    table(&[
        "route",
        "requests",
        "errors",
        "requests/s",
        "p50 ms",
        "p99 ms",
    ]);
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
        let target = Target {
            http: http.clone(),
            auth: auth.clone(),
            method: method.parse()?,
            url: format!("{base}{path}"),
            body,
        };
        load_route(name, target).await?;
    }
    Ok(())
}

/// A search of 50 creators, waited for (up to a minute): the job the status route reads. The
/// token's user completes onboarding first, which searching needs.
async fn finished_search(http: &reqwest::Client, base: &str, auth: &str) -> anyhow::Result<String> {
    onboard(http, base, auth).await?;
    let campaign: Value = http
        .post(format!("{base}/campaigns"))
        .header("authorization", auth)
        .json(&json!({"name": "Load", "searchType": "keyword"}))
        .send()
        .await?
        .json()
        .await?;
    let started: Value = http
        .post(format!("{base}/scraping/tiktok"))
        .header("authorization", auth)
        .json(&json!({"campaignId": campaign["id"], "keywords": ["nike"], "targetResults": 50}))
        .send()
        .await?
        .json()
        .await?;
    let job = started["jobId"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!job.is_empty(), "the search did not start: {started}");
    for _ in 0..120 {
        let status: Value = http
            .get(format!("{base}/jobs/{job}?limit=1"))
            .header("authorization", auth)
            .send()
            .await?
            .json()
            .await?;
        if status["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(job)
}

/// The three onboarding steps, unless the user has completed them already.
async fn onboard(http: &reqwest::Client, base: &str, auth: &str) -> anyhow::Result<()> {
    let status = http
        .get(format!("{base}/onboarding/status"))
        .header("authorization", auth)
        .send()
        .await?;
    if status.status().is_success()
        && status.json::<Value>().await?["onboardingStep"] == "completed"
    {
        return Ok(());
    }
    for (step, body) in [
        (
            "step-1",
            json!({"fullName": "Load", "businessName": "Load test"}),
        ),
        (
            "step-2",
            json!({"brandDescription": "A business that measures the API under a steady load of requests."}),
        ),
        ("complete", json!({})),
    ] {
        let res = http
            .patch(format!("{base}/onboarding/{step}"))
            .header("authorization", auth)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            res.status().is_success(),
            "PATCH /onboarding/{step}: {}",
            res.status()
        );
    }
    Ok(())
}

/// `CONCURRENCY` clients sending `target` for `PER_ROUTE`, and the route's row of the table.
async fn load_route(name: &str, target: Target) -> anyhow::Result<()> {
    let deadline = Instant::now() + PER_ROUTE;
    let clients = (0..CONCURRENCY).map(|_| tokio::spawn(client(target.clone(), deadline)));
    let started = Instant::now();
    let (mut all, mut errors) = (Vec::new(), 0);
    for c in futures::future::join_all(clients).await {
        let (t, e) = c?;
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
    Ok(())
}

/// One client's loop until `deadline`: the times of its successful requests, and its errors.
async fn client(target: Target, deadline: Instant) -> (Vec<f64>, u64) {
    let (mut times, mut errors) = (Vec::new(), 0u64);
    while Instant::now() < deadline {
        let t = Instant::now();
        let mut req = target
            .http
            .request(target.method.clone(), &target.url)
            .header("authorization", &target.auth);
        if let Some(b) = &target.body {
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
}
