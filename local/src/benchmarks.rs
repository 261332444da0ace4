//! `local bench` (what `scripts/bench` runs, from the release build): the `bench` binary beside
//! this one, with PostgreSQL and moto brought up, then (unless `BENCH_ONLY` leaves it out) a load
//! against `local serve` in a process of its own: `bench load URL TOKEN`.

use std::path::Path;

use anyhow::Context;

use crate::{
    served::Served,
    signals, step,
    up::{self, Options, Stack},
};

/// Whether `BENCH_ONLY` (a comma-separated list; all when unset) names `part`.
fn chosen(part: &str) -> bool {
    match std::env::var("BENCH_ONLY") {
        Ok(list) if !list.is_empty() => list.split(',').any(|p| p.trim() == part),
        _ => true,
    }
}

pub async fn run(state_dir: &Path) -> anyhow::Result<i32> {
    let exe = std::env::current_exe()?;
    let bin_dir = exe.parent().context("no folder of the binary")?.to_owned();
    let mut stop = Box::pin(signals::first()?);
    let stack = tokio::select! {
        stack = Stack::start(state_dir, Options::default()) => stack?,
        stop = &mut stop => return Ok(stop.exit_code()),
    };
    let bench = || {
        let mut command = tokio::process::Command::new(bin_dir.join("bench"));
        command
            .envs(stack.env().iter().map(|(k, v)| (k, v)))
            .env("GEMZ_BIN_DIR", &bin_dir)
            .kill_on_drop(true);
        command
    };
    let figures = bench().status();
    let status = tokio::select! {
        status = figures => status.context("Failed to run the bench binary (cargo build --release -p bench)")?,
        stop = &mut stop => return Ok(stop.exit_code()),
    };
    if !status.success() || !chosen("load") {
        return Ok(up::exit_code(status));
    }
    step("load: local serve in its own process");
    let log = state_dir.join("load-serve.log");
    let started = Served::start(
        &stack,
        "gemz_bench_load",
        &log,
        &[("RUST_LOG", "warn"), ("DB_POOL_SIZE", "8")],
    );
    let served = tokio::select! {
        served = started => served?,
        stop = &mut stop => return Ok(stop.exit_code()),
    };
    let token = served.token("load_user")?;
    let load = bench().args(["load", &served.url, &token]).status();
    let outcome = tokio::select! {
        status = load => status.map(up::exit_code).map_err(anyhow::Error::from),
        stop = &mut stop => Ok(stop.exit_code()),
    };
    served.stop().await?;
    drop(stack);
    outcome
}
