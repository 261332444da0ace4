//! The signals that stop a `local` command: SIGINT (Ctrl-C), SIGTERM (what `timeout`, service
//! managers and CI runners send) and SIGHUP (a closed terminal).

use std::future::Future;

use tokio::signal::unix::{signal, SignalKind};

/// A stopping signal: its number and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    pub number: i32,
    pub name: &'static str,
}

impl Stop {
    /// The exit status of a process this signal ended (as a shell reports it).
    pub fn exit_code(self) -> i32 {
        128 + self.number
    }
}

/// Resolves on the first stopping signal. The handlers are installed when this is called, not
/// when the future is first polled, so a signal that arrives while servers start is not lost.
pub fn first() -> anyhow::Result<impl Future<Output = Stop> + Send + 'static> {
    let mut listener = Listener::new()?;
    Ok(async move { listener.next().await })
}

/// Every stopping signal, one after another (to pass each on to a child).
pub struct Listener {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Listener {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    pub async fn next(&mut self) -> Stop {
        let stop = tokio::select! {
            _ = self.int.recv() => Stop { number: 2, name: "INT" },
            _ = self.term.recv() => Stop { number: 15, name: "TERM" },
            _ = self.hup.recv() => Stop { number: 1, name: "HUP" },
        };
        eprintln!("SIG{}: stopping...", stop.name);
        stop
    }
}

/// Sends `stop` to `pid`.
pub fn send(pid: u32, stop: Stop) {
    let _ = std::process::Command::new("kill")
        .args([format!("-{}", stop.name), pid.to_string()])
        .status();
}
