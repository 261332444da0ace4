//! Cold start, first invocation, binary size and peak RSS of every function binary.

use std::time::{Duration, Instant};

use local::{
    harness::{event, JOB, USER},
    runtime_api::{spawn_function, Invocation, RuntimeApi},
};
use serde_json::{json, Value};

use crate::{
    env::{bin_dir, chosen, peak_rss_kb, Env},
    report::{ms, percentile, section, table},
};

/// Each function and the event file of its first invocation.
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

/// One start of a function binary under the local Runtime API and its first invocation.
pub struct ColdStart {
    /// From the spawn to the first `/next` poll.
    pub cold: Duration,
    /// From queueing the first event to the function's answer.
    pub first: Duration,
    pub peak_rss_kb: u64,
    pub answer: Value,
}

/// Starts `function`, invokes it once with `first_event`, and stops it.
pub async fn cold_start(
    env: &Env,
    function: &str,
    first_event: &Value,
) -> anyhow::Result<ColdStart> {
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
    let peak_rss_kb = child.id().and_then(peak_rss_kb).unwrap_or(0);
    let _ = child.kill().await;
    Ok(ColdStart {
        cold,
        first,
        peak_rss_kb,
        answer,
    })
}

/// Every function (or those `BENCH_FUNCTIONS=a,b` names), `runs` starts each.
pub async fn cold_starts(env: &Env, runs: usize) -> anyhow::Result<()> {
    section(&format!(
        "Cold start, first invocation, size, peak RSS (release, {runs} runs each)"
    ));
    table(&[
        "function",
        "binary MB",
        "cold start p50 ms",
        "first invocation p50 ms",
        "peak RSS MB",
    ]);
    for (function, event_name) in FUNCTIONS
        .iter()
        .filter(|(f, _)| chosen("BENCH_FUNCTIONS", f))
    {
        measure(env, function, &first_event(function, event_name), runs).await?;
    }
    Ok(())
}

fn first_event(function: &str, event_name: &str) -> Value {
    let mut first_event = event(event_name);
    if function == "cancel-job" {
        // Cancelling is a state change; time reading the same job through the DELETE route.
        first_event["routeKey"] = json!("DELETE /jobs/{jobId}");
        first_event["requestContext"]["http"]["method"] = json!("DELETE");
    }
    first_event
}

/// `runs` cold starts of `function`, and its row of the table.
async fn measure(
    env: &Env,
    function: &str,
    first_event: &Value,
    runs: usize,
) -> anyhow::Result<()> {
    let (mut colds, mut firsts, mut rss) = (Vec::new(), Vec::new(), 0u64);
    for _ in 0..runs {
        prepare(env, function).await?;
        let start = cold_start(env, function, first_event).await?;
        colds.push(ms(start.cold));
        firsts.push(ms(start.first));
        rss = rss.max(start.peak_rss_kb);
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
    Ok(())
}

/// What the first invocation of `function` should find, the same on every run.
async fn prepare(env: &Env, function: &str) -> anyhow::Result<()> {
    match function {
        "process-scraping" | "cancel-job" => reset_job(env).await,
        "send-emails" => one_email_due(env).await,
        _ => Ok(()),
    }
}

/// The event files' job pending again, with no results.
async fn reset_job(env: &Env) -> anyhow::Result<()> {
    let job = uuid::Uuid::parse_str(JOB)?;
    let client = env.db.client().await;
    client
        .execute(
            "UPDATE scraping_jobs SET status = 'pending', processed_runs = 0, processed_results = 0, progress = 0,
                completed_at = NULL, cursor = '{}', lease_token = NULL, lease_expires_at = NULL WHERE id = $1",
            &[&job],
        )
        .await?;
    client
        .execute("DELETE FROM scraping_results WHERE job_id = $1", &[&job])
        .await?;
    Ok(())
}

/// One email due, so the first invocation claims, renders and sends it (moto's SES).
async fn one_email_due(env: &Env) -> anyhow::Result<()> {
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
    Ok(())
}
