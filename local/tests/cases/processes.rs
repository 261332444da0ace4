//! `local serve` and `local up` as processes: where their private servers live, and that none
//! outlives them.
//!
//! Each test runs the real binary with a private PostgreSQL cluster (`GEMZ_PRIVATE_PG=1`) and its
//! own moto server (and PgBouncer, for `local up`, when installed), its state folder inside a 0700
//! folder (as a clone in root's home or in a `mktemp -d` folder would be), and reads the records
//! the binary keeps of what it started.

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
        .env("LOCAL_JWT_SECRET", "processes-test-key-at-least-32-bytes")
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

/// `local up` with nothing given: it starts a private cluster and moto (and PgBouncer when
/// installed), none of the addresses inherited from the test's own environment.
fn local_up(state: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_local"));
    command
        .arg("up")
        .args(args)
        .env("GEMZ_STATE_DIR", state)
        .env("GEMZ_PRIVATE_PG", "1");
    for name in [
        "DATABASE_URL",
        "TEST_DATABASE_URL",
        "PGBOUNCER_URL",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_SESV2",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        command.env_remove(name);
    }
    command
}

fn pgbouncer_installed() -> bool {
    Path::new("/usr/sbin/pgbouncer").exists()
}

/// `kind-PID` file names of the records, as `ls` printed them, as `(kind, pid)`.
fn parse_records(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .filter_map(|l| {
            let (kind, pid) = l.trim().rsplit_once('-')?;
            Some((kind.to_owned(), pid.parse().ok()?))
        })
        .collect()
}

#[test]
fn local_up_gives_its_command_the_servers_and_its_exit_status_and_a_nested_one_starts_nothing() {
    let folder = PrivateFolder::new();
    let state = folder.state();
    let env_file = folder.0.join("env");
    let records_file = folder.0.join("records");
    let pgbouncer = pgbouncer_installed();
    let flags: &[&str] = if pgbouncer { &["--pgbouncer"] } else { &[] };
    // The command is another `local up`, which finds everything in its environment.
    let script = format!(
        "env > '{}'; ls '{}/children' > '{}'; exit 3",
        env_file.display(),
        state.display(),
        records_file.display()
    );
    let mut args = flags.to_vec();
    args.extend(["--", env!("CARGO_BIN_EXE_local"), "up"]);
    args.extend(flags);
    args.extend(["--", "sh", "-c", &script]);
    let status = local_up(&state, &args).status().unwrap();
    assert_eq!(status.code(), Some(3), "the command's status is passed on");

    let env = std::fs::read_to_string(&env_file).unwrap();
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} is not in the command's environment:\n{env}"))
            .to_owned()
    };
    let database = var("DATABASE_URL");
    assert!(database.starts_with("postgres://postgres@127.0.0.1:"));
    assert_ne!(database, "postgres://postgres@127.0.0.1:5432/gemz");
    assert_eq!(var("TEST_DATABASE_URL"), database);
    let sqs = var("AWS_ENDPOINT_URL_SQS");
    assert!(sqs.starts_with("http://127.0.0.1:"), "{sqs}");
    assert_eq!(var("AWS_ENDPOINT_URL_SESV2"), sqs);
    assert_eq!(var("AWS_ENDPOINT_URL_S3"), sqs);
    assert_eq!(var("AWS_ACCESS_KEY_ID"), "test");
    if pgbouncer {
        assert_ne!(var("PGBOUNCER_URL"), database);
    }

    // One of each, all started by the outer run, and none left running.
    let mut recorded = parse_records(&std::fs::read_to_string(&records_file).unwrap());
    recorded.sort();
    let kinds: Vec<&str> = recorded.iter().map(|(k, _)| k.as_str()).collect();
    let mut expected = vec!["moto", "postgres"];
    if pgbouncer {
        expected.insert(1, "pgbouncer");
    }
    assert_eq!(kinds, expected, "{recorded:?}");
    let servers: Vec<(String, u32, String)> = recorded
        .into_iter()
        .map(|(kind, pid)| (kind, pid, String::new()))
        .collect();
    assert_gone(&servers, free_port());
    assert!(procs::recorded(&state).is_empty());
}

#[test]
fn local_up_passes_sigterm_to_its_command_and_stops_what_it_started() {
    let folder = PrivateFolder::new();
    let state = folder.state();
    let marker = folder.0.join("running");
    let script = format!("touch '{}'; exec sleep 600", marker.display());
    let mut up = local_up(&state, &["--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The command runs once everything is up.
    let until = Instant::now() + Duration::from_secs(120);
    while !marker.exists() {
        assert!(Instant::now() < until, "local up did not run its command");
        std::thread::sleep(Duration::from_millis(100));
    }
    let servers = started(&state);
    signal(&up, "TERM");
    wait_exit(&mut up);
    assert_eq!(
        up.wait().unwrap().code(),
        Some(143),
        "the command ended by SIGTERM"
    );
    assert_gone(&servers, free_port());
    assert!(procs::recorded(&state).is_empty());
}

#[test]
fn a_killed_local_up_leaves_nothing_once_the_next_one_starts() {
    let folder = PrivateFolder::new();
    let state = folder.state();
    let pid_file = folder.0.join("command-pid");
    let script = format!("echo $$ > '{}'; exec sleep 600", pid_file.display());
    let flags: &[&str] = if pgbouncer_installed() {
        &["--pgbouncer", "--"]
    } else {
        &["--"]
    };
    let mut args = flags.to_vec();
    args.extend(["sh", "-c", &script]);
    let mut first = local_up(&state, &args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(120);
    let command: u32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            break pid;
        }
        assert!(Instant::now() < until, "local up did not run its command");
        std::thread::sleep(Duration::from_millis(100));
    };
    let servers = procs::recorded(&state);
    signal(&first, "KILL");
    first.wait().unwrap();
    // The command outlives a killed `local up`, as any orphan would; it is not a server.
    procs::stop_pid(command, "KILL", Duration::from_secs(5));

    let status = local_up(&state, &["true"]).status().unwrap();
    assert!(status.success());
    assert_gone(&servers, free_port());
    for (kind, _, note) in &servers {
        if kind != "moto" {
            assert!(!Path::new(note).exists(), "{kind}'s folder {note} is left");
        }
    }
    assert!(procs::recorded(&state).is_empty());
}
