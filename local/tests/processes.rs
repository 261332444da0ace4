//! `local serve` as a process: where its private servers live, and that none outlives it.
//!
//! Each test runs the real binary with a private PostgreSQL cluster (`GEMZ_PRIVATE_PG=1`) and its
//! own moto server, its state folder inside a 0700 folder (as a clone in root's home or in a
//! `mktemp -d` folder would be), and reads the records the binary keeps of what it started.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use local::procs;

/// A folder with mode 0700 holding the state folder, removed on drop.
struct PrivateFolder(PathBuf);

impl PrivateFolder {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("gemz-private-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap();
        assert!(Command::new("chmod")
            .arg("700")
            .arg(&dir)
            .status()
            .unwrap()
            .success());
        Self(dir)
    }

    fn state(&self) -> PathBuf {
        self.0.join("checkout/.local")
    }
}

impl Drop for PrivateFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// `local serve` started with `program` (the binary, or a wrapper that runs it), answering on
/// `port` once its stderr says so.
fn serve(program: &mut Command, state: &Path, port: u16) -> Child {
    let mut child = program
        .env("GEMZ_STATE_DIR", state)
        .env("GEMZ_PRIVATE_PG", "1")
        .env("PORT", port.to_string())
        .env("LOCAL_JWT_SECRET", "processes")
        .env_remove("DATABASE_URL")
        .env_remove("AWS_ENDPOINT_URL_SQS")
        .env_remove("JOBS_QUEUE_URL")
        .env_remove("SCRAPECREATORS_BASE_URL")
        .env_remove("SCRAPECREATORS_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("local serve starts");
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[local serve] {line}");
            if line.starts_with("HTTP API:") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(120)).is_err() {
        let _ = child.kill();
        panic!("local serve did not start");
    }
    child
}

fn local_binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_local"));
    command.arg("serve");
    command
}

fn signal(child: &Child, name: &str) {
    assert!(Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap()
        .success());
}

fn wait_exit(child: &mut Child) {
    let until = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < until, "local serve did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The servers `local serve` recorded, with the ports they listen on.
fn started(state: &Path) -> Vec<(String, u32, String)> {
    let recorded = procs::recorded(state);
    let kinds: Vec<&str> = recorded.iter().map(|(k, _, _)| k.as_str()).collect();
    assert!(
        kinds.contains(&"moto") && kinds.contains(&"postgres"),
        "{recorded:?}"
    );
    recorded
}

fn assert_gone(servers: &[(String, u32, String)], http_port: u16) {
    let until = Instant::now() + Duration::from_secs(15);
    while servers.iter().any(|(_, pid, _)| alive(*pid)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    for (kind, pid, note) in servers {
        assert!(!alive(*pid), "{kind} (pid {pid}) outlived local serve");
        if kind == "postgres" {
            assert!(
                !Path::new(note).exists(),
                "the cluster folder {note} is left"
            );
            assert!(
                !note.contains("checkout"),
                "the cluster lived in the checkout: {note}"
            );
        }
    }
    assert!(port_is_free(http_port));
}

#[test]
fn local_serve_stopped_by_sigterm_or_sighup_leaves_no_process_no_port_and_no_cluster() {
    for sig in ["TERM", "HUP"] {
        let folder = PrivateFolder::new();
        let port = free_port();
        let mut serve = serve(&mut local_binary(), &folder.state(), port);
        let servers = started(&folder.state());
        signal(&serve, sig);
        wait_exit(&mut serve);
        assert_gone(&servers, port);
        assert!(
            procs::recorded(&folder.state()).is_empty(),
            "records left after SIG{sig}"
        );
    }
}

#[test]
fn a_killed_local_serve_leaves_nothing_once_the_next_one_starts() {
    let folder = PrivateFolder::new();
    let port = free_port();
    let mut first = serve(&mut local_binary(), &folder.state(), port);
    let servers = started(&folder.state());
    signal(&first, "KILL");
    first.wait().unwrap();

    let mut second = serve(&mut local_binary(), &folder.state(), port);
    for (kind, pid, _) in &servers {
        assert!(
            !alive(*pid),
            "{kind} (pid {pid}) of the killed run is still running"
        );
    }
    let current = started(&folder.state());
    assert!(current.iter().all(|s| !servers.contains(s)), "{current:?}");
    signal(&second, "TERM");
    wait_exit(&mut second);
    assert_gone(&servers, port);
    assert_gone(&current, port);
}

/// As an ordinary user: initdb and postgres run as that user, in a folder it owns. The SQS
/// emulator comes from `AWS_ENDPOINT_URL_SQS` here (the user may not reach this machine's
/// Python) and the creator API is not called, so only the cluster is started; skipped when not root or without a `nobody` user.
#[test]
fn local_serve_runs_and_stops_as_an_ordinary_user() {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        .trim_ascii()
        == b"0";
    let Ok(sqs) = std::env::var("AWS_ENDPOINT_URL_SQS") else {
        eprintln!("skipped: needs AWS_ENDPOINT_URL_SQS");
        return;
    };
    if !is_root
        || !Command::new("id")
            .arg("nobody")
            .output()
            .unwrap()
            .status
            .success()
    {
        eprintln!("skipped: needs root and a `nobody` user");
        return;
    }
    let home = std::env::temp_dir().join(format!("gemz-nobody-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&home).unwrap();
    let binary = home.join("local");
    std::fs::copy(env!("CARGO_BIN_EXE_local"), &binary).unwrap();
    assert!(Command::new("chown")
        .args(["-R", "nobody"])
        .arg(&home)
        .status()
        .unwrap()
        .success());
    let state = home.join(".local");
    let port = free_port();
    let mut command = Command::new("runuser");
    command
        .args([
            "-u",
            "nobody",
            "--",
            "env",
            &format!("AWS_ENDPOINT_URL_SQS={sqs}"),
        ])
        // The replay reads the fixtures from the checkout, which may be private to root.
        .arg("SCRAPECREATORS_BASE_URL=http://127.0.0.1:9")
        .env("TMPDIR", &home)
        .arg(&binary)
        .arg("serve");
    let mut child = serve(&mut command, &state, port);
    let recorded = procs::recorded(&state);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let (kind, _, dir) = &recorded[0];
    assert_eq!(kind, "postgres");
    let owner = Command::new("stat")
        .args(["-c", "%U"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(owner.stdout.trim_ascii(), b"nobody", "{dir}");
    // runuser passes the signal on to the binary.
    signal(&child, "TERM");
    wait_exit(&mut child);
    assert_gone(&recorded, port);
    let _ = std::fs::remove_dir_all(&home);
}
