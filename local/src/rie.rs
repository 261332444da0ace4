//! AWS's Lambda Runtime Interface Emulator (the piece `sam local invoke` runs inside its
//! container), running a function binary directly: `aws-lambda-rie` ships in the `aws-sam-cli`
//! package, as `samcli/local/rapid/aws-lambda-rie-{x86_64,arm64}`.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{bail, Context};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The emulator for this machine: `GEMZ_RIE`, else the one in `aws-sam-cli` (installed when
/// absent).
pub fn emulator() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("GEMZ_RIE") {
        return Ok(PathBuf::from(path));
    }
    let find = || {
        std::process::Command::new("python3")
            .args([
                "-c",
                "import os, samcli; print(os.path.dirname(samcli.__file__))",
            ])
            .stderr(std::process::Stdio::null())
            .output()
            .context("python3 is needed to find aws-sam-cli")
    };
    let mut out = find()?;
    if !out.status.success() {
        crate::services::pip_install(
            "aws-sam-cli",
            "aws-sam-cli, which ships the Runtime Interface Emulator",
        )?;
        out = find()?;
    }
    if !out.status.success() {
        bail!("aws-sam-cli is not installed (pip install aws-sam-cli)");
    }
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "x86_64",
    };
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        .join(format!("local/rapid/aws-lambda-rie-{arch}"));
    anyhow::ensure!(path.exists(), "{} is missing", path.display());
    Ok(path)
}

/// What an invocation gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The function's response.
    Response(Value),
    /// The function reported an error (`errorType`, `errorMessage`).
    FunctionError(Value),
    /// The function could not start (its cold start failed); the emulator's reason.
    InitError(String),
}

/// One function under the emulator, until dropped.
pub struct Rie {
    child: tokio::process::Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

impl Rie {
    /// Starts `program` (the function binary, or `qemu-aarch64` with its arguments) under the
    /// emulator with exactly `env` (and `PATH`), as Lambda gives a function only its own.
    pub async fn start(
        program: &[String],
        env: &[(String, String)],
        function_name: &str,
        timeout: Duration,
        memory_mb: u64,
    ) -> anyhow::Result<Self> {
        let emulator = emulator()?;
        let port = crate::services::free_port()?;
        // The Runtime API the function polls defaults to 127.0.0.1:9001: a port of its own lets
        // several emulators run at once.
        let runtime_api = crate::services::free_port()?;
        let mut child = tokio::process::Command::new(&emulator)
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{runtime_api}"))
            .args(program)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_TIMEOUT", timeout.as_secs().to_string())
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env(
                "AWS_REGION",
                std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
            )
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("Failed to start {}", emulator.display()))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().expect("log lock").push(line);
                }
            });
        }
        let rie = Self {
            child,
            url: format!("http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"),
            log,
            http: shared::tls::http_client()?
                .timeout(timeout + Duration::from_secs(30))
                .build()?,
        };
        // The emulator listens at once; the function starts on the first invocation.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(rie);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the emulator did not listen:\n{}", rie.log().join("\n"))
    }

    /// Posts `event` as one invocation.
    pub async fn invoke(&self, event: &Value) -> anyhow::Result<Answer> {
        let seen = self.log().len();
        let response = self
            .http
            .post(&self.url)
            .body(serde_json::to_vec(event)?)
            .send()
            .await
            .context("the emulator did not answer")?;
        let status = response.status();
        let body = response.bytes().await?;
        // The emulator's log lines about this invocation follow its answer closely.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let lines = self.log()[seen..].to_vec();
        if lines
            .iter()
            .any(|l| l.contains("INIT RTDONE(status: error)") || l.contains("Init failed"))
        {
            let reason = lines
                .iter()
                .find(|l| l.contains("Init failed"))
                .cloned()
                .unwrap_or_else(|| format!("the emulator answered {status}"));
            return Ok(Answer::InitError(reason));
        }
        if !status.is_success() {
            bail!("the emulator answered {status}:\n{}", lines.join("\n"));
        }
        let value: Value = serde_json::from_slice(&body)
            .with_context(|| format!("not JSON: {}", String::from_utf8_lossy(&body)))?;
        let failed = lines
            .iter()
            .any(|l| l.contains("INVOKE RTDONE(status: error"))
            || (value.get("errorType").is_some() && value.get("errorMessage").is_some());
        Ok(if failed {
            Answer::FunctionError(value)
        } else {
            Answer::Response(value)
        })
    }

    /// Everything the emulator and the function printed so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }

    /// The emulator's last `REPORT RequestId: ... Duration: ...` line.
    pub fn last_report(&self) -> Option<String> {
        self.log()
            .into_iter()
            .rev()
            .find(|l| l.starts_with("REPORT "))
    }
}

impl Drop for Rie {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// How to run a `sam build` arm64 artifact on this x86_64 machine: under qemu's user-mode
/// emulation with Debian's arm64 C library, both installed from Debian's packages when absent.
pub fn arm64_program(bootstrap: &Path) -> anyhow::Result<Vec<String>> {
    let sysroot = Path::new("/usr/aarch64-linux-gnu");
    let qemu = which("qemu-aarch64").or_else(|| which("qemu-aarch64-static"));
    if qemu.is_none() || !sysroot.join("lib").exists() {
        eprintln!("installing qemu-user and libc6-arm64-cross (Debian packages)");
        let ok = std::process::Command::new("sh")
            .args(["-c", "DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user libc6-arm64-cross >/dev/null"])
            .status()
            .is_ok_and(|s| s.success());
        anyhow::ensure!(ok, "could not install qemu-user and libc6-arm64-cross");
    }
    let qemu = which("qemu-aarch64")
        .or_else(|| which("qemu-aarch64-static"))
        .context("qemu-aarch64 is not installed")?;
    Ok(vec![
        qemu.to_string_lossy().into_owned(),
        "-L".into(),
        sysroot.to_string_lossy().into_owned(),
        bootstrap.to_string_lossy().into_owned(),
    ])
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}
