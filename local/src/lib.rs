//! The product on a developer machine, as it runs on AWS.
//!
//! - [`services`]: PostgreSQL, the SQS emulator and PgBouncer, started (and installed) when absent.
//! - [`procs`]: the records of the servers started, so that none outlives a killed run.
//! - [`up`]: those servers around any command (`local up`), and for the commands below.
//! - [`gateway`]: the HTTP API with the JWT authorizer, dispatching to the functions' handlers.
//! - [`auth`]: local tokens, checked like API Gateway's JWT authorizer.
//! - [`poller`]: the SQS event source mapping and the sweeper's schedule.
//! - [`harness`]: the seeded world the compiled functions run in for tests and benchmarks.
//! - [`runtime_api`]: the Lambda Runtime API, to run the compiled function binaries.
//! - [`served`]: `local serve` in a process of its own, for [`contract_fuzz`] and [`benchmarks`].
//! - [`artifacts`]: the deploy artifacts, every event through its arm64 binary.
//! - [`packages`]: the packages whose tests also run through PgBouncer.

pub mod app;
pub mod artifacts;
pub mod auth;
pub mod benchmarks;
pub mod contract_fuzz;
pub mod exports;
pub mod gateway;
pub mod harness;
pub mod invoke;
pub mod mail;
pub mod packages;
pub mod poller;
pub mod procs;
pub mod rie;
pub mod routes;
pub mod runtime_api;
pub mod served;
pub mod services;
pub mod signals;
pub mod template;
pub mod up;

/// Announces a step of a long command, as the scripts do (`==> ...` on stderr).
pub fn step(message: &str) {
    eprintln!("\x1b[1m==>\x1b[0m {message}");
}
