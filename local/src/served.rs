//! `local serve` in a process of its own, on a database of its own, for what is measured or
//! checked from outside (the contract fuzz, the load benchmark): its own state folder and token
//! key, the creator API always replayed (no paid call is ever made from here), its output in a
//! log file. Stopped by [`Served::stop`], or on drop.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{bail, Context};
use serde_json::json;

use crate::{auth::Auth, procs, services, up::Stack};

pub struct Served {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its standard output and error.
    pub log: PathBuf,
    auth: Auth,
    child: Option<Child>,
    server_url: String,
    database: String,
    state: PathBuf,
}

impl Served {
    /// Starts `local serve` (this binary) against a new database `database` of the stack's
    /// server, with `env` added to the stack's environment, and waits until it listens.
    pub async fn start(
        stack: &Stack,
        database: &str,
        log: &Path,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let database_url = services::create_database(stack.database_url(), database).await?;
        let port = services::free_port()?;
        let state =
            std::env::temp_dir().join(format!("gemz-serve-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&state)
            .with_context(|| format!("Failed to create {}", state.display()))?;
        let secret = uuid::Uuid::new_v4().simple().to_string();
        let output = std::fs::File::create(log)
            .with_context(|| format!("Failed to create {}", log.display()))?;
        let mut served = Self {
            url: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
            auth: Auth::new(secret.as_bytes()),
            child: None,
            server_url: stack.database_url().to_owned(),
            database: database.to_owned(),
            state,
        };
        let child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .envs(stack.env().iter().map(|(k, v)| (k, v)))
            .env("DATABASE_URL", &database_url)
            .env("PORT", port.to_string())
            .env("GEMZ_STATE_DIR", &served.state)
            .env("LOCAL_JWT_SECRET", &secret)
            .env_remove("SCRAPECREATORS_API_KEY")
            .env_remove("SCRAPECREATORS_BASE_URL")
            .env_remove("JOBS_QUEUE_URL")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .context("Failed to start local serve")?;
        served.child = Some(child);
        for _ in 0..600 {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.lines().any(|l| l.starts_with("HTTP API")) {
                return Ok(served);
            }
            if let Some(status) = served.child.as_mut().and_then(|c| c.try_wait().ok()?) {
                bail!("local serve exited ({status}) before it listened:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "local serve did not listen within 60 s (see {})",
            log.display()
        )
    }

    /// A bearer token for `user` that this server accepts.
    pub fn token(&self, user: &str) -> anyhow::Result<String> {
        self.auth.mint(user, 24)
    }

    /// The lines of its log that name an error or a panic (a 5xx's cause is logged, never
    /// answered), at most `limit`.
    pub fn errors(&self, limit: usize) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                let l = l.to_lowercase();
                l.contains("error") || l.contains("panick")
            })
            .take(limit)
            .map(str::to_owned)
            .collect()
    }

    fn halt(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM, as a service manager would send: it stops what it started.
            procs::stop_pid(child.id(), "TERM", Duration::from_secs(30));
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.state);
    }

    /// Stops the server and drops its database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.halt();
        services::drop_database(&self.server_url, &self.database).await
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The onboarding of the user `token` names, as the app's three screens send it: afterwards
/// their searches start and the job routes are reached (`local onboard`, and the fuzzing user of
/// `local contract-fuzz`).
pub async fn onboard(base_url: &str, token: &str) -> anyhow::Result<()> {
    let http = shared::tls::http_client()?.build()?;
    let steps = [
        (
            "step-1",
            json!({"fullName": "Local User", "businessName": "Local Business"}),
        ),
        (
            "step-2",
            json!({"brandDescription": "A business that tests every route of the API with generated requests."}),
        ),
        ("complete", json!({})),
    ];
    for (step, body) in steps {
        let response = http
            .patch(format!("{base_url}/onboarding/{step}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("PATCH {base_url}/onboarding/{step}"))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            bail!("PATCH /onboarding/{step}: {status} {text}");
        }
    }
    Ok(())
}
