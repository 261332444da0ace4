//! What the functions talk to, brought up for a local run and stopped when dropped:
//! PostgreSQL (`DATABASE_URL`, a server on 127.0.0.1:5432, or a private cluster), the SQS
//! emulator (`AWS_ENDPOINT_URL_SQS`, a real queue from `JOBS_QUEUE_URL`, or moto's server), and
//! the creator API (`SCRAPECREATORS_BASE_URL`, the real API with `SCRAPECREATORS_API_KEY`, or the
//! built-in replay of the recorded responses).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::Duration,
};

use anyhow::{bail, Context};
use aws_sdk_sqs::{
    config::{Credentials, Region},
    types::QueueAttributeName,
};
use queue::SqsQueue;
use serde_json::json;

use crate::procs::{self, as_postgres, Record};

/// A PostgreSQL server to use; a private cluster is stopped and deleted on drop.
pub struct Postgres {
    pub url: String,
    cluster: Option<Cluster>,
}

struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    state_dir: PathBuf,
    /// The running postmaster's record (see [`procs`]).
    record: Mutex<Option<Record>>,
}

impl Cluster {
    fn start(&self) -> anyhow::Result<()> {
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        let ok = as_postgres(&self.bin.join("pg_ctl"))
            .args([
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-w",
            ])
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1",
                self.port,
                self.dir.display()
            ))
            .arg("start")
            .stdout(Stdio::null())
            .status()?
            .success();
        if !ok {
            bail!(
                "the private PostgreSQL cluster did not start (see {})",
                log.display()
            );
        }
        let pid: u32 = std::fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse().ok())
            .context("the private PostgreSQL cluster wrote no postmaster.pid")?;
        let record = Record::write(
            &self.state_dir,
            "postgres",
            pid,
            &self.dir.to_string_lossy(),
        )?;
        if let Some(old) = self.record.lock().expect("record lock").replace(record) {
            old.remove();
        }
        Ok(())
    }

    fn stop(&self) -> anyhow::Result<()> {
        let data = self.dir.join("data");
        let ok = as_postgres(&self.bin.join("pg_ctl"))
            .args(["-D", &data.to_string_lossy(), "-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .status()?
            .success();
        if !ok {
            bail!("the private PostgreSQL cluster did not stop");
        }
        if let Some(record) = self.record.lock().expect("record lock").take() {
            record.remove();
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
        eprintln!("stopped the private PostgreSQL cluster");
    }
}

async fn accepts(url: &str) -> bool {
    let connect = tokio_postgres::connect(url, tokio_postgres::NoTls);
    match tokio::time::timeout(Duration::from_secs(3), connect).await {
        Ok(Ok((client, conn))) => {
            tokio::spawn(conn);
            client.simple_query("SELECT 1").await.is_ok()
        }
        _ => false,
    }
}

impl Postgres {
    /// `DATABASE_URL` as given; else the `gemz` database (created if absent) of the server on
    /// 127.0.0.1:5432; else (or with `GEMZ_PRIVATE_PG=1`) a private cluster in the state folder.
    pub async fn start(state_dir: &Path) -> anyhow::Result<Self> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            eprintln!("PostgreSQL: using DATABASE_URL");
            return Ok(Self { url, cluster: None });
        }
        let local = "postgres://postgres@127.0.0.1:5432/postgres";
        if std::env::var_os("GEMZ_PRIVATE_PG").is_none() && accepts(local).await {
            eprintln!("PostgreSQL: using the server on 127.0.0.1:5432, database gemz");
            return Ok(Self {
                url: ensure_database(local, "gemz").await?,
                cluster: None,
            });
        }
        Self::private(state_dir).await
    }

    /// A private cluster on a free port, in a new folder of the temporary folder (see
    /// [`procs::cluster_dir`]), recorded under `state_dir` until it is stopped.
    pub async fn private(state_dir: &Path) -> anyhow::Result<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").exists())
            .max()
            .context("No PostgreSQL server found: set DATABASE_URL, start one on 127.0.0.1:5432, or install the server (apt-get install postgresql; scripts/run does this)")?;
        let dir = procs::cluster_dir()?;
        let port = free_port()?;
        let data = dir.join("data");
        let ok = as_postgres(&bin.join("initdb"))
            .args([
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "-A",
                "trust",
            ])
            .stdout(Stdio::null())
            .status()?
            .success();
        if !ok {
            let _ = std::fs::remove_dir_all(&dir);
            bail!("initdb failed in {}", dir.display());
        }
        let cluster = Cluster {
            dir: dir.clone(),
            bin,
            port,
            state_dir: state_dir.to_owned(),
            record: Mutex::new(None),
        };
        cluster.start()?;
        eprintln!("PostgreSQL: started a private cluster on 127.0.0.1:{port}");
        let admin = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Ok(Self {
            url: ensure_database(&admin, "gemz").await?,
            cluster: Some(cluster),
        })
    }

    /// Stops a private cluster (fast shutdown: open connections are closed), for fault tests.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.cluster
            .as_ref()
            .context("not a private cluster")?
            .stop()
    }

    /// Starts a stopped private cluster again on the same port.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.cluster
            .as_ref()
            .context("not a private cluster")?
            .start()
    }

    pub fn is_private(&self) -> bool {
        self.cluster.is_some()
    }
}

async fn ensure_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
    }
    Ok(format!(
        "{}/{name}",
        admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(admin_url)
    ))
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The jobs queue; moto's server is stopped on drop.
pub struct Sqs {
    pub queue: SqsQueue,
    pub dlq_url: String,
    /// The SQS endpoint in use (empty for the real SQS of `JOBS_QUEUE_URL`).
    pub endpoint: String,
    moto: Option<(Child, Record)>,
}

impl Drop for Sqs {
    fn drop(&mut self) {
        if let Some((mut child, record)) = self.moto.take() {
            let _ = child.kill();
            let _ = child.wait();
            record.remove();
            eprintln!("stopped the SQS emulator");
        }
    }
}

/// moto's server, started so that the kernel stops it when its parent dies, however that
/// happens (`PR_SET_PDEATHSIG`; the records in [`procs`] cover what this cannot).
const MOTO_LAUNCHER: &str = "import ctypes, os, runpy, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
sys.argv = ['moto.server'] + sys.argv[2:]
runpy.run_module('moto.server', run_name='__main__')";

/// The template's queue settings: visibility timeout 360 s, retention 4 days, redrive to the
/// dead-letter queue after 5 deliveries.
pub const VISIBILITY_TIMEOUT: &str = "360";
pub const MAX_RECEIVE_COUNT: u32 = 5;

impl Sqs {
    pub async fn start(state_dir: &Path) -> anyhow::Result<Self> {
        if let (Ok(url), Err(_)) = (
            std::env::var("JOBS_QUEUE_URL"),
            std::env::var("AWS_ENDPOINT_URL_SQS"),
        ) {
            eprintln!("SQS: using the queue {url}");
            let queue = SqsQueue::from_env(url).await;
            return Ok(Self {
                queue,
                dlq_url: String::new(),
                endpoint: String::new(),
                moto: None,
            });
        }
        let (endpoint, moto) = match std::env::var("AWS_ENDPOINT_URL_SQS") {
            Ok(endpoint) => {
                eprintln!("SQS: using {endpoint}");
                (endpoint, None)
            }
            Err(_) => {
                let port = free_port()?;
                let log = std::fs::File::create(state_dir.join("moto.log"))?;
                let child = Command::new("python3")
                    .args(["-c", MOTO_LAUNCHER, &std::process::id().to_string()])
                    .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                    .stdout(log.try_clone()?)
                    .stderr(log)
                    .spawn()
                    .context("Failed to start moto's server: pip install 'moto[server]' (scripts/run does this)")?;
                let record = Record::write(state_dir, "moto", child.id(), "")?;
                let endpoint = format!("http://127.0.0.1:{port}");
                eprintln!("SQS: started moto's server on {endpoint}");
                (endpoint, Some((child, record)))
            }
        };
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .http_client(aws_http::client())
            .region(Region::new(
                std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
            ))
            .credentials_provider(Credentials::new("local", "local", None, None, "local"))
            .endpoint_url(&endpoint)
            .build();
        let client = aws_sdk_sqs::Client::from_conf(config);
        let mut sqs = Self {
            queue: SqsQueue::new(client.clone(), ""),
            dlq_url: String::new(),
            endpoint: endpoint.clone(),
            moto,
        };
        // moto needs a moment to listen.
        let mut last_err = None;
        for _ in 0..100 {
            match create_queues(&client).await {
                Ok((url, dlq)) => {
                    sqs.queue = SqsQueue::new(client, url);
                    sqs.dlq_url = dlq;
                    return Ok(sqs);
                }
                Err(e) => last_err = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("SQS did not answer")))
    }
}

async fn create_queues(client: &aws_sdk_sqs::Client) -> anyhow::Result<(String, String)> {
    let dlq = client
        .create_queue()
        .queue_name("gemz-jobs-dlq")
        .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
        .send()
        .await?;
    let dlq_url = dlq.queue_url.context("no queue url")?;
    let arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .context("no queue arn")?;
    let redrive =
        json!({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVE_COUNT}).to_string();
    let queue = client
        .create_queue()
        .queue_name("gemz-jobs")
        .attributes(QueueAttributeName::VisibilityTimeout, VISIBILITY_TIMEOUT)
        .attributes(QueueAttributeName::MessageRetentionPeriod, "345600")
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await?;
    Ok((queue.queue_url.context("no queue url")?, dlq_url))
}
