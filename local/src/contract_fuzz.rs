//! `local contract-fuzz` (what `scripts/contract-fuzz` runs): schemathesis (coverage, fuzzing
//! and stateful phases, every check) against `local serve`, with `openapi.yaml` as the contract
//! and `scripts/schemathesis.toml` as its settings. A 5xx, an answer outside the description, a
//! schema-valid request refused or a schema-violating one accepted fails the run.
//!
//! - `ST_MAX_EXAMPLES` (default 30): generated cases per operation and phase.
//! - `ST_SEED` (default 1): the generator's seed; fixed so a CI run is reproducible.

use std::{path::Path, process::Stdio};

use crate::{
    served::{self, Served},
    services, signals, step,
    up::{self, Options, Stack},
};

const SCHEMATHESIS: &str = "4.32.5";

/// Installs the schemathesis this is written for when `st` is missing or another version.
fn ensure_schemathesis() -> anyhow::Result<()> {
    let version = std::process::Command::new("st")
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !version.contains(SCHEMATHESIS) {
        services::pip_install(
            &format!("schemathesis=={SCHEMATHESIS}"),
            &format!("schemathesis {SCHEMATHESIS}"),
        )?;
    }
    Ok(())
}

/// Runs the fuzz from the checkout `root`; returns schemathesis's exit status.
pub async fn run(root: &Path, state_dir: &Path) -> anyhow::Result<i32> {
    ensure_schemathesis()?;
    let mut stop = Box::pin(signals::first()?);
    let stack = tokio::select! {
        stack = Stack::start(state_dir, Options::default()) => stack?,
        stop = &mut stop => return Ok(stop.exit_code()),
    };
    let database = format!("gemz_fuzz_{}", std::process::id());
    let log = state_dir.join("contract-fuzz-serve.log");
    step(&format!(
        "local serve (database {database}, the creator API replayed)"
    ));
    let started = Served::start(
        &stack,
        &database,
        &log,
        &[("ADMIN_USER_IDS", "fuzz_admin"), ("RUST_LOG", "error")],
    );
    let served = tokio::select! {
        served = started => served?,
        stop = &mut stop => return Ok(stop.exit_code()),
    };
    let fuzz = async {
        let token = served.token("fuzz_admin")?;
        // The fuzzing user completes onboarding, so searches start and the job routes are reached.
        served::onboard(&served.url, &token).await?;
        step("schemathesis: coverage, fuzzing, stateful");
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        let status = tokio::process::Command::new("st")
            .current_dir(root)
            .args([
                "--config-file",
                "scripts/schemathesis.toml",
                "run",
                "openapi.yaml",
            ])
            .args(["--url", &served.url])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args(["--phases", "coverage,fuzzing,stateful"])
            .args(["--max-examples", &var("ST_MAX_EXAMPLES", "30")])
            .args(["--seed", &var("ST_SEED", "1")])
            .args(["--workers", "1", "--no-color"])
            .kill_on_drop(true)
            .status()
            .await?;
        anyhow::Ok(up::exit_code(status))
    };
    let outcome = tokio::select! {
        outcome = fuzz => outcome,
        stop = &mut stop => Ok(stop.exit_code()),
    };
    if !matches!(outcome, Ok(0)) {
        // The server's errors (5xx causes are logged, never answered).
        for line in served.errors(20) {
            eprintln!("{line}");
        }
    }
    served.stop().await?;
    drop(stack);
    outcome
}
