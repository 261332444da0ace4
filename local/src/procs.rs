//! The servers `local` starts, recorded so that none outlives it.
//!
//! Each server started (moto's server, a private PostgreSQL cluster, PgBouncer) leaves a small
//! file in `<state dir>/children/` while it runs: `moto-PID`, `postgres-PID` or `pgbouncer-PID`,
//! holding the server's folder (empty for moto) on its first line and the pid of the `local`
//! that started it on the second. A clean stop removes the file. A run that was killed (SIGKILL,
//! a crash) leaves its files behind, and the next start calls [`reap_leftovers`], which stops
//! what they name and deletes their folders, unless the process that started them is still
//! running (an outer `local up` whose command runs another `local`, say).
//!
//! Private clusters and PgBouncer's folders live in the system's temporary folder, never in the
//! checkout: `initdb`, `postgres` and `pgbouncer` refuse to run as root, so as root they run as
//! the `postgres` user, which cannot reach a checkout under a private (0700) folder such as
//! root's home.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{bail, Context};

/// The folder of the records, created when absent.
fn children_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("children")
}

/// A running server's record; removed by [`Record::remove`] once the server is stopped.
#[derive(Debug)]
pub struct Record(PathBuf);

impl Record {
    /// Records a server: `kind` is `moto`, `postgres` or `pgbouncer`; `note` its folder. This
    /// process is recorded as its owner.
    pub fn write(state_dir: &Path, kind: &str, pid: u32, note: &str) -> anyhow::Result<Self> {
        let dir = children_dir(state_dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("Failed to create {}", dir.display()))?;
        let path = dir.join(format!("{kind}-{pid}"));
        std::fs::write(&path, format!("{note}\n{}\n", std::process::id()))
            .with_context(|| format!("Failed to write {}", path.display()))?;
        Ok(Self(path))
    }

    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The servers recorded under `state_dir` as `(kind, pid, note)`.
pub fn recorded(state_dir: &Path) -> Vec<(String, u32, String)> {
    records(state_dir)
        .into_iter()
        .map(|(kind, pid, note, _)| (kind, pid, note))
        .collect()
}

/// `(kind, pid, note, owner)` of every record.
fn records(state_dir: &Path) -> Vec<(String, u32, String, Option<u32>)> {
    let Ok(entries) = std::fs::read_dir(children_dir(state_dir)) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let (kind, pid) = name.rsplit_once('-')?;
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let mut lines = text.lines();
            let note = lines.next().unwrap_or_default().trim().to_owned();
            let owner = lines.next().and_then(|l| l.trim().parse().ok());
            Some((kind.to_owned(), pid.parse().ok()?, note, owner))
        })
        .collect()
}

/// Whether `pid` runs a program whose command line contains `marker` (so a recycled pid that
/// now belongs to something else is never signalled).
pub fn runs(pid: u32, marker: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmd| {
            let text = String::from_utf8_lossy(&cmd).replace('\0', " ");
            text.contains(marker)
        })
        .unwrap_or(false)
}

/// Whether `pid` runs (a zombie does not: it has exited, only its parent's wait is missing).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Sends `signal` (a name such as `TERM`) to `pid`, then waits up to `grace` for it to exit and
/// kills it if it has not.
pub fn stop_pid(pid: u32, signal: &str, grace: Duration) {
    let _ = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status();
    let until = Instant::now() + grace;
    while alive(pid) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(pid) {
        let _ = Command::new("kill")
            .args(["-KILL".to_owned(), pid.to_string()])
            .status();
    }
}

/// Stops every server a killed earlier run left behind, and deletes its folders.
pub fn reap_leftovers(state_dir: &Path) {
    for (kind, pid, note, owner) in records(state_dir) {
        if owner.is_some_and(|o| o != std::process::id() && alive(o)) {
            // Started by a run that is still going (`local up` running `local serve`, say).
            continue;
        }
        let marker = match kind.as_str() {
            "moto" => "moto.server",
            "postgres" => "postgres",
            "pgbouncer" => "pgbouncer",
            _ => continue,
        };
        if runs(pid, marker) {
            eprintln!("stopping {kind} (pid {pid}) left by an earlier run");
            // SIGQUIT is PostgreSQL's immediate shutdown; moto and PgBouncer stop on SIGTERM.
            let signal = if kind == "postgres" { "QUIT" } else { "TERM" };
            stop_pid(pid, signal, Duration::from_secs(10));
        }
        // Both folder names (`gemz-pg-…`, `gemz-pgbouncer-…`) start so: nothing else is deleted.
        if note.contains("gemz-pg") {
            let _ = std::fs::remove_dir_all(&note);
        }
        let _ = std::fs::remove_file(children_dir(state_dir).join(format!("{kind}-{pid}")));
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

/// `program` as the user PostgreSQL's tools accept: `postgres` when we are root.
pub fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A new, empty folder for a private PostgreSQL cluster (see [`server_dir`]).
pub fn cluster_dir() -> anyhow::Result<PathBuf> {
    server_dir("gemz-pg")
}

/// A new, empty folder `<prefix>-<random>` for a server's files, owned by whoever runs the server
/// and reachable by them (the `postgres` user when we are root): under `$TMPDIR` when they can
/// traverse it, else under `/tmp`.
pub fn server_dir(prefix: &str) -> anyhow::Result<PathBuf> {
    let name = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
    let tmp = std::env::temp_dir();
    let root = is_root();
    let base = if !root
        || Command::new("runuser")
            .args(["-u", "postgres", "--", "test", "-w"])
            .arg(&tmp)
            .status()
            .is_ok_and(|s| s.success())
    {
        tmp
    } else {
        PathBuf::from("/tmp")
    };
    let dir = base.join(name);
    std::fs::create_dir(&dir).with_context(|| format!("Failed to create {}", dir.display()))?;
    if root {
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(&dir);
            bail!("Failed to give {} to the postgres user", dir.display());
        }
    }
    Ok(dir)
}

/// `program` as a server tied to this process: the kernel sends it SIGTERM when the thread that
/// started it exits, however that happens (`setpriv --pdeathsig`; the records cover what this
/// cannot), and as root it runs as the `postgres` user. `setpriv` execs `program`, so the child's
/// pid is the server's.
pub fn tied_server(program: &Path) -> Command {
    let mut c = Command::new("setpriv");
    if is_root() {
        c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]);
    }
    c.arg("--pdeathsig=TERM").arg(program);
    c
}
