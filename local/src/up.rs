//! `local up [--pgbouncer] [--drop-test-databases] [--] COMMAND [ARGS...]`: brings up what
//! COMMAND needs and is missing, runs it with their addresses in its environment, stops what was
//! started, and exits with COMMAND's status.
//!
//! - PostgreSQL: `DATABASE_URL` as given, else the server on 127.0.0.1:5432, else a private
//!   cluster ([`Postgres::start`]). COMMAND gets `DATABASE_URL` and `TEST_DATABASE_URL`.
//! - moto's server (SQS, SES v2, S3): `AWS_ENDPOINT_URL_SQS` as given, else started. COMMAND gets
//!   `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_SESV2`, `AWS_ENDPOINT_URL_S3`, `AWS_REGION` and
//!   dummy keys (each one already set is kept).
//! - `--pgbouncer`: PgBouncer in session mode in front of that PostgreSQL (`PGBOUNCER_URL` as
//!   given, else started); COMMAND gets `PGBOUNCER_URL`, and when it ends the transactions
//!   PgBouncer carried for test databases are printed.
//! - `--drop-test-databases`: first drops the test databases an interrupted run left.
//!
//! A `local up` inside another one finds everything in its environment and starts nothing.
//! SIGINT, SIGTERM and SIGHUP are passed on to COMMAND; what was started stops once it exits.

use std::{os::unix::process::ExitStatusExt, path::Path};

use anyhow::{bail, Context};

use crate::{
    procs,
    services::{self, Moto, PgBouncer, Postgres},
    signals,
};

pub const USAGE: &str = "local up [--pgbouncer] [--drop-test-databases] [--] COMMAND [ARGS...]";

/// What to bring up besides PostgreSQL and moto.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub pgbouncer: bool,
    pub drop_test_databases: bool,
}

/// The options and the command of `local up`'s arguments.
pub fn parse(args: &[String]) -> anyhow::Result<(Options, &[String])> {
    let mut options = Options::default();
    let mut rest = args;
    while let Some((first, tail)) = rest.split_first() {
        match first.as_str() {
            "--pgbouncer" => options.pgbouncer = true,
            "--drop-test-databases" => options.drop_test_databases = true,
            "--" => {
                rest = tail;
                break;
            }
            flag if flag.starts_with('-') => bail!("unknown option {flag}: {USAGE}"),
            _ => break,
        }
        rest = tail;
    }
    if rest.is_empty() {
        bail!("no command: {USAGE}");
    }
    Ok((options, rest))
}

/// The servers a command runs against, stopped on drop (PgBouncer first, PostgreSQL last).
pub struct Stack {
    env: Vec<(String, String)>,
    database_url: String,
    pgbouncer: Option<PgBouncer>,
    _moto: Option<Moto>,
    _postgres: Postgres,
}

fn var_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

impl Stack {
    /// Stops what a killed earlier run left under `state_dir`, then brings up what is missing.
    pub async fn start(state_dir: &Path, options: Options) -> anyhow::Result<Self> {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("Failed to create {}", state_dir.display()))?;
        procs::reap_leftovers(state_dir);
        let postgres = Postgres::start(state_dir).await?;
        let database_url = postgres.url.clone();
        if options.drop_test_databases {
            let dropped = services::drop_test_databases(&database_url).await?;
            if dropped > 0 {
                eprintln!("PostgreSQL: dropped {dropped} test databases left by an earlier run");
            }
        }
        let (endpoint, moto) = Moto::unless_given(state_dir).await?;
        let mut env = vec![
            ("DATABASE_URL".to_owned(), database_url.clone()),
            ("TEST_DATABASE_URL".to_owned(), database_url.clone()),
            ("AWS_REGION".to_owned(), var_or("AWS_REGION", "us-east-1")),
            ("AWS_ENDPOINT_URL_SQS".to_owned(), endpoint.clone()),
            // The same server speaks SES v2 (the emails) and S3 (large exports).
            (
                "AWS_ENDPOINT_URL_SESV2".to_owned(),
                var_or("AWS_ENDPOINT_URL_SESV2", &endpoint),
            ),
            (
                "AWS_ENDPOINT_URL_S3".to_owned(),
                var_or("AWS_ENDPOINT_URL_S3", &endpoint),
            ),
            (
                "AWS_ACCESS_KEY_ID".to_owned(),
                var_or("AWS_ACCESS_KEY_ID", "test"),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                var_or("AWS_SECRET_ACCESS_KEY", "test"),
            ),
        ];
        let mut pgbouncer = None;
        if options.pgbouncer {
            let url = match std::env::var("PGBOUNCER_URL") {
                Ok(url) => {
                    eprintln!("PgBouncer: using PGBOUNCER_URL");
                    url
                }
                Err(_) => {
                    let started = PgBouncer::start(state_dir, &database_url).await?;
                    let url = started.url.clone();
                    pgbouncer = Some(started);
                    url
                }
            };
            env.push(("PGBOUNCER_URL".to_owned(), url));
        }
        Ok(Self {
            env,
            database_url,
            pgbouncer,
            _moto: moto,
            _postgres: postgres,
        })
    }

    /// The variables a command gets: the servers' addresses and the dummy AWS keys.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// The database `local serve` would use (`gemz` of the server, or `DATABASE_URL`).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Prints what a PgBouncer this started carried for the test databases.
    pub async fn report_pgbouncer(&self) {
        let Some(bouncer) = &self.pgbouncer else {
            return;
        };
        match bouncer.test_database_totals().await {
            Ok((transactions, databases)) => crate::step(&format!(
                "PgBouncer carried {transactions} transactions for {databases} test databases"
            )),
            Err(e) => eprintln!("PgBouncer's totals could not be read: {e:#}"),
        }
    }
}

/// The exit status a shell would report for `status`.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// `local up`: returns the command's exit status once everything started is stopped.
pub async fn run(state_dir: &Path, args: &[String]) -> anyhow::Result<i32> {
    let (options, command) = parse(args)?;
    // Installed before anything starts, so a signal that arrives meanwhile still stops it all.
    let mut signals = signals::Listener::new()?;
    let stack = tokio::select! {
        stack = Stack::start(state_dir, options) => stack?,
        stop = signals.next() => return Ok(stop.exit_code()),
    };
    let mut child = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .envs(stack.env().iter().map(|(k, v)| (k, v)))
        .spawn()
        .with_context(|| format!("Failed to run {}", command[0]))?;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            stop = signals.next() => {
                if let Some(pid) = child.id() {
                    signals::send(pid, stop);
                }
            }
        }
    };
    stack.report_pgbouncer().await;
    drop(stack);
    Ok(exit_code(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_come_before_the_command_and_a_double_dash_ends_them() {
        let given = args(&["--pgbouncer", "--", "cargo", "--version"]);
        let (options, command) = parse(&given).unwrap();
        assert!(options.pgbouncer && !options.drop_test_databases);
        assert_eq!(command, &given[2..]);

        let given = args(&["--drop-test-databases", "env", "--pgbouncer"]);
        let (options, command) = parse(&given).unwrap();
        assert!(!options.pgbouncer && options.drop_test_databases);
        assert_eq!(command, &given[1..]);

        assert!(parse(&args(&["--pgbouncer"])).is_err());
        assert!(parse(&args(&["--pgbouncers", "--", "env"])).is_err());
        assert!(parse(&args(&[])).is_err());
    }
}
