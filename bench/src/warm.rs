//! Warm `job-status` invocations of one container, and the connections it opens.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Instant,
};

use local::{
    harness::{event, USER},
    runtime_api::{spawn_function, Invocation, RuntimeApi},
};
use serde_json::json;
use testkit::ApiRequest;

use crate::{
    env::{bin_dir, peak_rss_kb, watch_backends, Env},
    report::{ms, percentile, section, table},
};

/// What `invocations` warm invocations of one compiled `job-status` gave.
struct Warm {
    samples: Vec<f64>,
    body_bytes: usize,
    peak_rss_kb: u64,
    connections: usize,
}

/// A page of 50 of a 1,000-creator job, `invocations` times through the Runtime API and as many
/// times with the handler alone.
pub async fn warm_job_status(env: &Env, invocations: usize) -> anyhow::Result<()> {
    let job = env.db.seed_job(USER, "completed", 1000).await;
    let mut warm = through_runtime_api(env, job, invocations).await?;
    let mut direct = handler_alone(env, job, invocations).await;
    section(&format!(
        "Warm job-status: 1,000-creator job, page of 50, {invocations} invocations"
    ));
    table(&["measured", "p50 ms", "p99 ms"]);
    println!(
        "| through the Runtime API (release binary) | {:.3} | {:.3} |",
        percentile(&mut warm.samples, 0.5),
        percentile(&mut warm.samples, 0.99)
    );
    println!(
        "| handler alone (in process) | {:.3} | {:.3} |",
        percentile(&mut direct, 0.5),
        percentile(&mut direct, 0.99)
    );
    println!(
        "\nresponse body {} bytes; peak RSS {:.1} MB",
        warm.body_bytes,
        warm.peak_rss_kb as f64 / 1024.0
    );
    section("Connection reuse");
    println!("{invocations} warm invocations of one job-status container opened {} database connection(s)", warm.connections);
    Ok(())
}

async fn through_runtime_api(
    env: &Env,
    job: uuid::Uuid,
    invocations: usize,
) -> anyhow::Result<Warm> {
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
    let body_bytes = match last.map(|a| a.parse()) {
        Some(Invocation::Response(v)) => v["body"].as_str().map(str::len).unwrap_or(0),
        other => anyhow::bail!("job-status failed: {other:?}"),
    };
    running.store(false, Ordering::SeqCst);
    let (pids, _) = watcher.await?;
    let peak_rss_kb = child.id().and_then(peak_rss_kb).unwrap_or(0);
    let _ = child.kill().await;
    Ok(Warm {
        samples,
        body_bytes,
        peak_rss_kb,
        connections: pids.len(),
    })
}

/// The handler alone, in this process: the same code without the Runtime API's two loopback
/// HTTP exchanges.
async fn handler_alone(env: &Env, job: uuid::Uuid, invocations: usize) -> Vec<f64> {
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
    direct
}
