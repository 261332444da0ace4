//! Email locally: `local serve` sends through moto's SES v2 (the SQS emulator's server), with the
//! sender's domain verified there, and `local mail` prints what moto accepted.

use std::path::Path;

use anyhow::Context as _;
use db::settings::SettingsCache;
use email::{link::LinkSigner, ses::Ses};
use serde_json::{json, Value};
use shared::config::Config;

use crate::app::App;

/// The local sender's address unless `EMAIL_FROM` is set (`.test` is reserved for testing).
pub const LOCAL_FROM: &str = "Gemz <hello@gemz.test>";

fn endpoint_file(state_dir: &Path) -> std::path::PathBuf {
    state_dir.join("ses-endpoint")
}

/// The email sender of `local serve`: the SES emulator at `AWS_ENDPOINT_URL_SESV2`, else at
/// `emulator` (moto's server, which also serves SQS), with the sender's domain verified there;
/// real SES when there is neither (a real queue).
pub async fn sender(
    config: &Config,
    app: &App,
    emulator: &str,
    state_dir: &Path,
    port: &str,
) -> anyhow::Result<send_emails::State> {
    let from = config.email.from.as_deref().unwrap_or(LOCAL_FROM);
    let timeout = config.email.ses_timeout;
    let set = config.email.configuration_set.clone();
    let emulator = std::env::var("AWS_ENDPOINT_URL_SESV2")
        .ok()
        .or_else(|| (!emulator.is_empty()).then(|| emulator.to_owned()));
    let ses = match emulator {
        Some(emulator) => {
            verify_sender(&emulator, from).await?;
            std::fs::write(endpoint_file(state_dir), &emulator)?;
            eprintln!("SES: {emulator}, sending as {from} (`local mail` lists what was sent)");
            Ses::with_endpoint(from, set, timeout, Some(emulator))
        }
        None => Ses::from_env(from, set, timeout),
    };
    Ok(send_emails::State {
        pool: app.pool.clone(),
        ses,
        settings: SettingsCache::from_config(config),
        links: LinkSigner::new(&crate::app::link_secret(config)),
        public_api_url: config
            .email
            .public_api_url
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{port}")),
        app_url: config.email.app_url.clone(),
    })
}

/// Verifies the domain of `from` in the SES emulator at `endpoint`, as SES's console would.
pub async fn verify_sender(endpoint: &str, from: &str) -> anyhow::Result<()> {
    let ses = Ses::with_endpoint(
        from,
        None,
        std::time::Duration::from_secs(5),
        Some(endpoint.to_owned()),
    );
    let domain = from
        .trim()
        .trim_end_matches('>')
        .rsplit_once('@')
        .map_or(from, |(_, d)| d);
    let verified = ses
        .client()
        .create_email_identity()
        .email_identity(domain)
        .send()
        .await;
    if let Err(e) = verified {
        let text = aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string();
        // A server shared with an earlier run keeps its identities.
        anyhow::ensure!(
            text.contains("AlreadyExists"),
            "Failed to verify {domain} in the SES emulator: {text}"
        );
    }
    Ok(())
}

/// One JSON line per email moto accepted: `to`, `email`, `subject`, `sentAt`.
pub async fn print(state_dir: &Path) -> anyhow::Result<()> {
    let endpoint = match std::env::var("AWS_ENDPOINT_URL_SESV2") {
        Ok(e) => e,
        Err(_) => std::fs::read_to_string(endpoint_file(state_dir))
            .context("No SES emulator known: start `local serve` (scripts/run) first")?,
    };
    let url = format!(
        "{}/moto-api/data.json",
        endpoint.trim().trim_end_matches('/')
    );
    let http = shared::tls::http_client()?.build()?;
    let data: Value = http
        .get(&url)
        .send()
        .await
        .with_context(|| format!("Failed to read {url}: is `local serve` running?"))?
        .json()
        .await?;
    for message in data["ses"]["RawMessage"].as_array().into_iter().flatten() {
        println!("{}", line(message));
    }
    Ok(())
}

fn line(message: &Value) -> Value {
    let raw = message["raw_data"].as_str().unwrap_or_default();
    let Some(parsed) = mail_parser::MessageParser::default().parse(raw.as_bytes()) else {
        return json!({"id": message["id"], "error": "not a MIME message"});
    };
    json!({
        "to": parsed.to().and_then(|a| a.first()).and_then(|a| a.address()),
        "email": parsed.header_raw("X-Gemz-Email").map(str::trim),
        "subject": parsed.subject(),
        "sentAt": parsed.date().map(|d| d.to_rfc3339()),
        "messageId": message["id"],
    })
}
