//! What every Gemz function links: configuration, start-up, logs, TLS and the warm-container
//! database pool. Code that only some functions use lives in crates of its own beside this one
//! (`crates/`): the domain rules, the queries, the HTTP edge, the queue, the search pipeline, the
//! emails and the exports.
//!
//! - [`config`]: every setting, read once from the environment.
//! - [`db`]: the per-container connection pool and what tells an outage from a bad query.
//! - [`runtime`]: start-up and the Lambda loop of an HTTP function.
//! - [`telemetry`]: structured logs.
//! - [`tls`]: rustls with ring, for the database and every HTTPS client.

pub mod config;
pub mod db;
pub mod runtime;
pub mod telemetry;
pub mod tls;

pub use config::Config;
