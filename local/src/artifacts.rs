//! `local artifacts` (what `scripts/check-artifacts` runs once `sam build` made the arm64
//! artifacts): prints their sizes, then runs every event of `events/` through its function's
//! built `bootstrap` under AWS's Runtime Interface Emulator and qemu (`local rie FUNCTION EVENT
//! --arm64`, one process each, against one PostgreSQL and one moto brought up for all). Each
//! event goes to the function whose API route is its `routeKey`, else to the one whose binary
//! names the file ([`template::function_for_event`]). Fails when an event has no function or its
//! function fails; each run's answer and log are kept in the state folder.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use anyhow::Context;

use crate::{
    signals, step, template,
    up::{Options, Stack},
};

/// `(event file, the function's binary)` for every `events/*.json`, in name order.
pub fn events(root: &Path) -> anyhow::Result<Vec<(PathBuf, Option<String>)>> {
    let functions = template::functions(&root.join("template.yaml"))?;
    let dir = root.join("events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("Failed to read {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("Failed to read {}", path.display()))?;
            let event: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let function =
                template::function_for_event(&functions, stem, &event).map(|f| f.binary.clone());
            Ok((path, function))
        })
        .collect()
}

/// The sizes of `sam build`'s artifacts, one line each.
fn print_sizes(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root.join(".aws-sam/build")) else {
        return;
    };
    let mut sizes: Vec<(String, u64)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let size = std::fs::metadata(e.path().join("bootstrap")).ok()?.len();
            Some((e.file_name().to_string_lossy().into_owned(), size))
        })
        .collect();
    sizes.sort();
    for (function, size) in sizes {
        println!("{function:<32} {:6.2} MB", size as f64 / 1e6);
    }
}

/// Prints `FUNCTION EVENT` for every event (`-` for one no function takes): `local artifacts
/// --list`.
pub fn list(root: &Path) -> anyhow::Result<()> {
    for (event, function) in events(root)? {
        let event = event.strip_prefix(root).unwrap_or(&event);
        println!("{} {}", function.as_deref().unwrap_or("-"), event.display());
    }
    Ok(())
}

/// Runs every event from the checkout `root`; returns 0 when all passed, else 1.
pub async fn run(root: &Path, state_dir: &Path) -> anyhow::Result<i32> {
    let events = events(root)?;
    let mut stop = Box::pin(signals::first()?);
    let stack = tokio::select! {
        stack = Stack::start(state_dir, Options::default()) => stack?,
        stop = &mut stop => return Ok(stop.exit_code()),
    };
    step("artifact sizes (arm64, stripped)");
    print_sizes(root);
    let exe = std::env::current_exe()?;
    let mut failed = 0;
    for (event, function) in events {
        let Some(function) = function else {
            eprintln!(
                "no function for {}",
                event.strip_prefix(root).unwrap_or(&event).display()
            );
            failed = 1;
            continue;
        };
        let name = event.file_stem().unwrap_or_default().to_string_lossy();
        let answer = state_dir.join(format!("artifact-{name}.json"));
        let log = state_dir.join(format!("artifact-{name}.log"));
        let shown = event.strip_prefix(root).unwrap_or(&event).display();
        step(&format!("{function} <- {shown} (arm64 under qemu)"));
        let invocation = tokio::process::Command::new(&exe)
            .current_dir(root)
            .arg("rie")
            .arg(&function)
            .arg(&event)
            .arg("--arm64")
            .envs(stack.env().iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&answer)?)
            .stderr(std::fs::File::create(&log)?)
            .kill_on_drop(true)
            .status();
        let status = tokio::select! {
            status = invocation => status?,
            stop = &mut stop => return Ok(stop.exit_code()),
        };
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        if status.success() {
            for line in lines.iter().filter(|l| l.starts_with("REPORT")) {
                println!("{line}");
            }
        } else {
            for line in &lines[lines.len().saturating_sub(30)..] {
                eprintln!("{line}");
            }
            failed = 1;
        }
    }
    drop(stack);
    Ok(failed)
}
