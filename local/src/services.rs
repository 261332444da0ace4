//! What the functions talk to, brought up for a local run and stopped when dropped:
//! PostgreSQL (`DATABASE_URL`, a server on 127.0.0.1:5432, or a private cluster), the SQS
//! emulator (`AWS_ENDPOINT_URL_SQS`, a real queue from `JOBS_QUEUE_URL`, or moto's server, which
//! also plays SES v2 and S3), and PgBouncer in front of PostgreSQL for the pooled test pass.
//! What a fresh machine lacks is installed on first use: PostgreSQL's server and PgBouncer from
//! Debian's packages, moto from PyPI. Every server started is recorded (see [`procs`]).

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

/// Runs an installer, quietly; fails naming `what` when it fails.
fn install(what: &str, command: &mut Command) -> anyhow::Result<()> {
    let ok = command
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("Failed to run the installer of {what}"))?
        .success();
    anyhow::ensure!(ok, "Failed to install {what}");
    Ok(())
}

/// Installs a Debian package.
fn apt_get_install(package: &str, what: &str) -> anyhow::Result<()> {
    eprintln!("installing {what} (Debian package {package})");
    install(what, Command::new("apt-get").args(["update", "-qq"]))?;
    install(
        what,
        Command::new("apt-get").args(["install", "-y", "-qq", package]),
    )
}

/// Installs a Python package (`spec` as pip takes it) for this machine's `python3`.
pub fn pip_install(spec: &str, what: &str) -> anyhow::Result<()> {
    eprintln!("installing {what} (PyPI)");
    install(
        what,
        Command::new("python3").args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            spec,
        ]),
    )
}

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
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off",
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

/// The newest PostgreSQL server's binaries installed (Debian's layout).
fn server_bin() -> Option<PathBuf> {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .max_by_key(|p| {
            // `9.6` < `15`: by the major version's number, not its text.
            p.parent()
                .and_then(|v| {
                    v.file_name()?
                        .to_str()?
                        .split('.')
                        .next()?
                        .parse::<u32>()
                        .ok()
                })
                .unwrap_or(0)
        })
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
    /// [`procs::cluster_dir`]), recorded under `state_dir` until it is stopped. The server is
    /// installed (`apt-get install postgresql`) when absent.
    pub async fn private(state_dir: &Path) -> anyhow::Result<Self> {
        let bin = match server_bin() {
            Some(bin) => bin,
            None => {
                apt_get_install("postgresql", "PostgreSQL's server")?;
                server_bin().context("No PostgreSQL server found: set DATABASE_URL, start one on 127.0.0.1:5432, or install the server (apt-get install postgresql)")?
            }
        };
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

/// `url` with its database replaced by `name` (a query string is kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[authority..].find('/') {
        Some(i) => &base[..authority + i],
        None => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("Failed to connect to {url}"))?;
    tokio::spawn(conn);
    Ok(client)
}

/// Creates the database `name` on `url`'s server (dropping one left by an earlier run) and
/// returns its URL.
pub async fn create_database(url: &str, name: &str) -> anyhow::Result<String> {
    let client = connect(url).await?;
    // Two statements: CREATE DATABASE cannot run in the transaction a batch of them makes.
    for statement in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        client
            .batch_execute(&statement)
            .await
            .with_context(|| format!("Failed to create the database {name}"))?;
    }
    Ok(with_database(url, name))
}

/// Drops the database `name` on `url`'s server, closing its connections.
pub async fn drop_database(url: &str, name: &str) -> anyhow::Result<()> {
    connect(url)
        .await?
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .with_context(|| format!("Failed to drop the database {name}"))
}

/// Drops the test databases (`gemz_test_…`, see `testkit::TestDb`) an interrupted earlier run
/// left on `url`'s server; returns how many. One with a connection open is a running test's
/// (another checkout's, on a shared server) and is kept.
pub async fn drop_test_databases(url: &str) -> anyhow::Result<usize> {
    let client = connect(url).await?;
    let names: Vec<String> = client
        .query(
            r"SELECT datname FROM pg_database d WHERE datname LIKE 'gemz\_test\_%'
              AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
            &[],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut dropped = 0;
    for name in &names {
        // Without FORCE: one a test connected to meanwhile stays.
        if client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .is_ok()
        {
            dropped += 1;
        }
    }
    Ok(dropped)
}

async fn ensure_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let client = connect(admin_url).await?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
    }
    Ok(with_database(admin_url, name))
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// moto's server, started so that the kernel stops it when its parent dies, however that
/// happens (`PR_SET_PDEATHSIG`; the records in [`procs`] cover what this cannot).
const MOTO_LAUNCHER: &str = "import ctypes, os, runpy, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
sys.argv = ['moto.server'] + sys.argv[2:]
runpy.run_module('moto.server', run_name='__main__')";

/// moto's server (SQS, SES v2 and S3 on one port), stopped on drop.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    child: Child,
    record: Record,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.record.remove();
        eprintln!("stopped the SQS emulator");
    }
}

impl Moto {
    /// The emulator `AWS_ENDPOINT_URL_SQS` names, else one started here (kept alive by the
    /// returned handle).
    pub async fn unless_given(state_dir: &Path) -> anyhow::Result<(String, Option<Self>)> {
        match std::env::var("AWS_ENDPOINT_URL_SQS") {
            Ok(endpoint) => {
                eprintln!("SQS: using {endpoint}");
                Ok((endpoint, None))
            }
            Err(_) => {
                let moto = Self::start(state_dir).await?;
                Ok((moto.endpoint.clone(), Some(moto)))
            }
        }
    }

    /// Starts moto's server on a free port (installing `moto[server]` when this machine's
    /// `python3` lacks it) and waits until it answers. Its log is `<state dir>/moto.log`.
    pub async fn start(state_dir: &Path) -> anyhow::Result<Self> {
        let installed = Command::new("python3")
            .args(["-c", "import moto.server, flask_cors"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            pip_install("moto[server]>=5,<6", "moto[server]")?;
        }
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("Failed to create {}", state_dir.display()))?;
        let port = free_port()?;
        let log_path = state_dir.join("moto.log");
        let log = std::fs::File::create(&log_path)?;
        let mut child = Command::new("python3")
            .args(["-c", MOTO_LAUNCHER, &std::process::id().to_string()])
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("Failed to start moto's server (python3 -m moto.server)")?;
        let record = match Record::write(state_dir, "moto", child.id(), "") {
            Ok(record) => record,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let moto = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            record,
        };
        let http = shared::tls::http_client()?.build()?;
        let probe = format!("{}/moto-api/", moto.endpoint);
        for _ in 0..300 {
            if http.get(&probe).send().await.is_ok() {
                eprintln!("SQS: started moto's server on {}", moto.endpoint);
                return Ok(moto);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        bail!("moto's server did not start on {}:\n{log}", moto.endpoint)
    }
}

/// The jobs queue; moto's server, when started for it, is stopped on drop.
pub struct Sqs {
    pub queue: SqsQueue,
    pub dlq_url: String,
    /// The SQS endpoint in use (empty for the real SQS of `JOBS_QUEUE_URL`).
    pub endpoint: String,
    _moto: Option<Moto>,
}

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
                _moto: None,
            });
        }
        let (endpoint, moto) = Moto::unless_given(state_dir).await?;
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
            _moto: moto,
        };
        // A given endpoint may need a moment to listen.
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

/// Debian's PgBouncer (1.18 on bookworm) in session mode in front of a PostgreSQL server,
/// trusting local clients, on a free port; stopped (and its folder deleted) on drop.
pub struct PgBouncer {
    /// The same database as the URL it was started for, through the pooler.
    pub url: String,
    child: Child,
    record: Record,
    dir: PathBuf,
}

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

impl Drop for PgBouncer {
    fn drop(&mut self) {
        procs::stop_pid(self.child.id(), "TERM", Duration::from_secs(10));
        let _ = self.child.wait();
        self.record.remove();
        let _ = std::fs::remove_dir_all(&self.dir);
        eprintln!("stopped PgBouncer");
    }
}

impl PgBouncer {
    /// Starts PgBouncer (installed when absent) in front of `database_url`'s server, recorded
    /// under `state_dir`; waits until it carries a query to that database.
    pub async fn start(state_dir: &Path, database_url: &str) -> anyhow::Result<Self> {
        if !Path::new(PGBOUNCER).exists() {
            apt_get_install("pgbouncer", "PgBouncer")?;
        }
        let target: tokio_postgres::Config = database_url
            .parse()
            .context("DATABASE_URL is not a PostgreSQL URL")?;
        let host = match target.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            Some(tokio_postgres::config::Host::Unix(dir)) => dir.to_string_lossy().into_owned(),
            None => "127.0.0.1".to_owned(),
        };
        let port = target.get_ports().first().copied().unwrap_or(5432);
        let user = target.get_user().unwrap_or("postgres").to_owned();
        let database = target.get_dbname().unwrap_or("postgres").to_owned();
        let listen = free_port()?;
        let dir = procs::server_dir("gemz-pgbouncer")?;
        let log = dir.join("pgbouncer.log");
        let users = dir.join("users.txt");
        let ini = dir.join("pgbouncer.ini");
        let written = std::fs::write(&users, format!("\"{user}\" \"\"\n")).and_then(|()| {
            std::fs::write(
                &ini,
                format!(
                    "[databases]\n\
                     * = host={host} port={port}\n\
                     [pgbouncer]\n\
                     listen_addr = 127.0.0.1\n\
                     listen_port = {listen}\n\
                     unix_socket_dir =\n\
                     auth_type = trust\n\
                     auth_file = {users}\n\
                     pool_mode = session\n\
                     admin_users = {user}\n\
                     max_client_conn = 1000\n\
                     default_pool_size = 100\n\
                     logfile = {log}\n",
                    users = users.display(),
                    log = log.display(),
                ),
            )
        });
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e).context("Failed to write PgBouncer's configuration");
        }
        let version = Command::new(PGBOUNCER)
            .arg("--version")
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default();
        let child = procs::tied_server(Path::new(PGBOUNCER))
            .arg(&ini)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e).context("Failed to start PgBouncer");
            }
        };
        let record = match Record::write(state_dir, "pgbouncer", child.id(), &dir.to_string_lossy())
        {
            Ok(record) => record,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let url = format!("postgres://{user}@127.0.0.1:{listen}/{database}");
        let bouncer = Self {
            url,
            child,
            record,
            dir,
        };
        for _ in 0..100 {
            if accepts(&bouncer.url).await {
                eprintln!("PgBouncer: started {version} in session mode on 127.0.0.1:{listen}");
                return Ok(bouncer);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        bail!("PgBouncer did not start on 127.0.0.1:{listen}:\n{log}")
    }

    /// What it carried for the test databases (`gemz_test_…`): transactions, and databases.
    pub async fn test_database_totals(&self) -> anyhow::Result<(u64, usize)> {
        let client = connect(&with_database(&self.url, "pgbouncer")).await?;
        let mut totals = (0, 0);
        for message in client.simple_query("SHOW STATS_TOTALS").await? {
            if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
                if row.get(0).is_some_and(|db| db.starts_with("gemz_test_")) {
                    totals.0 += row.get(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
                    totals.1 += 1;
                }
            }
        }
        Ok(totals)
    }
}
