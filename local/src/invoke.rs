//! `local rie FUNCTION [EVENT] [--arm64]` (what `scripts/invoke` runs): `sam local invoke` without
//! Docker. The function's binary runs under AWS's Runtime Interface Emulator with the environment
//! `template.yaml` gives it, made local: this machine's PostgreSQL (migrated, the event files' ids
//! seeded), the jobs queue (moto unless `AWS_ENDPOINT_URL_SQS` or `JOBS_QUEUE_URL` is set) and the
//! creator API (replayed unless `SCRAPECREATORS_BASE_URL` or `SCRAPECREATORS_API_KEY` is set).
//! `--arm64` runs the artifact `sam build` made (`.aws-sam/build/<Function>/bootstrap`) under qemu:
//! the exact binary that deploys.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{bail, Context};
use serde_json::Value;

use crate::{
    harness,
    rie::{self, Answer, Rie},
    runtime_api::bin_dir,
    services, template,
};

/// The event file for `function`: `EVENT` as given (a path, or a name in `events/`), else
/// `events/<function>.json`, else the first `events/<function>-*.json`.
fn event_path(root: &Path, function: &str, given: Option<&str>) -> anyhow::Result<PathBuf> {
    let events = root.join("events");
    if let Some(given) = given {
        for candidate in [
            PathBuf::from(given),
            events.join(given),
            events.join(format!("{given}.json")),
        ] {
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        bail!("no event file {given}");
    }
    let own = events.join(format!("{function}.json"));
    if own.is_file() {
        return Ok(own);
    }
    let mut variants: Vec<PathBuf> = std::fs::read_dir(&events)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{function}-")) && n.ends_with(".json"))
        })
        .collect();
    variants.sort();
    variants
        .into_iter()
        .next()
        .with_context(|| format!("no event for {function} in {}", events.display()))
}

/// Runs the invocation; returns the process's exit code (1 when the function failed).
pub async fn run(root: &Path, state_dir: &Path, args: &[String]) -> anyhow::Result<i32> {
    let arm64 = args.iter().any(|a| a == "--arm64");
    let positional: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let (function, event) = match positional.as_slice() {
        [function] => (*function, None),
        [function, event] => (*function, Some(*event)),
        _ => bail!("usage: local rie FUNCTION [EVENT] [--arm64]"),
    };
    let def = template::function(&root.join("template.yaml"), function)?;
    let event_file = event_path(root, function, event)?;
    let event: Value = serde_json::from_str(&std::fs::read_to_string(&event_file)?)
        .with_context(|| format!("{} is not JSON", event_file.display()))?;
    let program = if arm64 {
        let bootstrap = root
            .join(".aws-sam/build")
            .join(&def.logical_id)
            .join("bootstrap");
        anyhow::ensure!(
            bootstrap.is_file(),
            "{} is missing: run `sam build` first",
            bootstrap.display()
        );
        rie::arm64_program(&bootstrap)?
    } else {
        let binary = bin_dir().join(function);
        anyhow::ensure!(
            binary.is_file(),
            "{} is missing: cargo build -p {function}",
            binary.display()
        );
        vec![binary.to_string_lossy().into_owned()]
    };

    let postgres = services::Postgres::start(state_dir).await?;
    let sqs = services::Sqs::start(state_dir).await?;
    {
        let pool = db::pool(&testkit::TestDb::config(&postgres.url, 1))?;
        let mut client = pool
            .get()
            .await
            .context("Failed to connect to PostgreSQL")?;
        db::migrate(&mut client).await?;
        harness::seed_event_ids(&client).await?;
    }
    let (base_url, key, _replay) = match (
        std::env::var("SCRAPECREATORS_BASE_URL"),
        std::env::var("SCRAPECREATORS_API_KEY"),
    ) {
        (Ok(url), key) => (url, key.unwrap_or_else(|_| "local".into()), None),
        (Err(_), Ok(key)) => ("https://api.scrapecreators.com".to_owned(), key, None),
        (Err(_), Err(_)) => {
            let replay = testkit::Replay::start().await;
            (
                replay.base_url().to_owned(),
                "local".to_owned(),
                Some(replay),
            )
        }
    };
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let local: BTreeMap<String, String> = [
        ("DATABASE_URL", postgres.url.clone()),
        ("SCRAPECREATORS_API_KEY", key),
        ("JOBS_QUEUE_URL", sqs.queue.url().to_owned()),
        ("DEAD_LETTER_QUEUE_URL", sqs.dlq_url.clone()),
        ("RUST_LOG", var("RUST_LOG", "info")),
        ("ADMIN_USER_IDS", var("ADMIN_USER_IDS", "")),
        ("ADMIN_EMAILS", var("ADMIN_EMAILS", "")),
        ("SSL_CERT_FILE", harness::ca_bundle()),
        (
            "EMAIL_LINK_KEY",
            var("EMAIL_LINK_KEY", harness::LINK_SECRET),
        ),
        (
            "STRIPE_WEBHOOK_KEY",
            var("STRIPE_WEBHOOK_KEY", crate::app::LOCAL_STRIPE_WEBHOOK_KEY),
        ),
        ("EMAIL_FROM", var("EMAIL_FROM", crate::mail::LOCAL_FROM)),
        ("SES_CONFIGURATION_SET", var("SES_CONFIGURATION_SET", "")),
        (
            "PUBLIC_API_URL",
            var("PUBLIC_API_URL", "http://127.0.0.1:3000"),
        ),
        ("APP_URL", var("APP_URL", "http://127.0.0.1:5173")),
        (
            "EXPORTS_BUCKET",
            var("EXPORTS_BUCKET", crate::exports::BUCKET),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut env = def.local_environment(&local)?;
    env.push(("SCRAPECREATORS_BASE_URL".into(), base_url));
    for name in [
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_SESV2",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        if let Ok(v) = std::env::var(name) {
            env.push((name.into(), v));
        }
    }
    if std::env::var_os("AWS_ENDPOINT_URL_S3").is_none() && !sqs.endpoint.is_empty() {
        let bucket = var("EXPORTS_BUCKET", crate::exports::BUCKET);
        crate::exports::ensure_bucket(&bucket, &sqs.endpoint).await?;
        env.push(("AWS_ENDPOINT_URL_S3".into(), sqs.endpoint.clone()));
    }
    if std::env::var_os("AWS_ENDPOINT_URL_SESV2").is_none() && !sqs.endpoint.is_empty() {
        // moto's server speaks SES v2 too; the sender's domain must be verified there.
        crate::mail::verify_sender(&sqs.endpoint, crate::mail::LOCAL_FROM).await?;
        env.push(("AWS_ENDPOINT_URL_SESV2".into(), sqs.endpoint.clone()));
    }
    if std::env::var_os("AWS_ENDPOINT_URL_SQS").is_none()
        && std::env::var_os("JOBS_QUEUE_URL").is_none()
    {
        env.push(("AWS_ENDPOINT_URL_SQS".into(), sqs.endpoint.clone()));
        env.push(("AWS_ACCESS_KEY_ID".into(), "local".into()));
        env.push(("AWS_SECRET_ACCESS_KEY".into(), "local".into()));
    }

    eprintln!(
        "invoking {function} ({}) with {}",
        if arm64 {
            "arm64 artifact under qemu"
        } else {
            "x86_64 binary"
        },
        event_file.display()
    );
    let rie = Rie::start(
        &program,
        &env,
        function,
        Duration::from_secs(def.timeout_secs),
        def.memory_mb,
    )
    .await?;
    let answer = rie.invoke(&event).await?;
    // The emulator's lines and the function's logs, as `sam local invoke` shows them.
    for line in rie.log() {
        eprintln!("{line}");
    }
    drop(rie);
    match answer {
        Answer::Response(value) => {
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(0)
        }
        Answer::FunctionError(value) => {
            println!("{}", serde_json::to_string_pretty(&value)?);
            eprintln!("{function} failed");
            Ok(1)
        }
        Answer::InitError(reason) => {
            eprintln!("{function} failed its cold start: {reason}");
            Ok(1)
        }
    }
}
