//! `bench` — measures the release binaries and the pipeline and prints every figure.
//!
//! Needs PostgreSQL and the SQS emulator (`scripts/bench` brings both up and builds the release
//! binaries). Figures are medians and percentiles over repeated runs; nothing here asserts a
//! timing. `BENCHMARKS.md` records a run and explains the figures.
//!
//! The function binaries run under `local::runtime_api`, the local Runtime API, not under AWS's
//! emulator (`local::rie`) as in the runtime harness test: it times the cold start to the first
//! `/next` poll, reads the function's own peak RSS, and puts no emulator process between the
//! bench and a warm invocation; and the figures compared across commits are all taken under it.
//! The top of `local/src/runtime_api.rs` says more.

mod cold;
mod e2e;
mod env;
mod export;
mod latency;
mod load;
mod report;
mod step;
mod warm;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, base, token] = args.as_slice() {
        if mode == "load" {
            return load::load(base, token).await;
        }
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    println!(
        "# Gemz benchmarks\n\nbinaries: {}",
        env::bin_dir().display()
    );
    // BENCH_ONLY=cold,warm,step,e2e runs a subset (all by default).
    let run = |part: &str| env::chosen("BENCH_ONLY", part);
    let env = env::start().await;
    if run("cold") {
        cold::cold_starts(&env, runs).await?;
    }
    if run("warm") {
        warm::warm_job_status(&env, 2000).await?;
    }
    if run("step") {
        step::tiktok_step(&env, runs).await?;
    }
    if run("e2e") {
        e2e::end_to_end(&env, 50, 5).await?;
    }
    if run("export") {
        export::exports(&env, runs.min(5)).await?;
    }
    if run("latency") {
        latency::latency_searches(&env).await?;
    }
    Ok(())
}
