//! What the Gemz functions share.
//!
//! - [`config`]: every setting, read once from the environment.
//! - [`db`]: the connection pool, migrations, and one module of queries per table.
//! - [`http`]: API Gateway HTTP API adapters: caller identity, strict JSON bodies, the one error type.
//! - [`domain`]: validated request types and business rules (campaigns, onboarding, searches).
//! - [`pipeline`]: the background search: creator API client, per-platform steps, the job queue.
//! - [`telemetry`]: structured logs.

pub mod admin;
pub mod aws_http;
pub mod config;
pub mod db;
pub mod domain;
pub mod email;
pub mod export;
pub mod http;
pub mod pipeline;
pub mod runtime;
pub mod telemetry;
pub mod tls;
pub mod usage;

pub use config::Config;
