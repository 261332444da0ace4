//! Test support shared by the functions' test suites.
//!
//! - `TestApp` (feature `app`): the application with a database of its own, one method per
//!   HTTP route.
//! - [`TestDb`]: a freshly created and migrated database per test, dropped afterwards.
//! - [`ApiRequest`]: API Gateway HTTP API v2 events, authorizer claims included, parsed by
//!   `lambda_http` exactly as in Lambda.
//! - [`Replay`]: the creator API replayed from recorded real responses, with injectable faults.
//! - [`TestQueue`]: a queue and dead-letter queue in the SQS emulator, delivered as `SqsEvent`s.
//! - [`ses`]: SES v2 in the same emulator: the verified sender, what was sent, injected errors.
//! - [`tls`]: a TLS server on loopback with a certificate authority of its own.

#[cfg(feature = "app")]
pub mod app;
pub mod chaos;
pub mod db;
pub mod delay;
mod events;
pub mod freeze;
pub mod replay;
pub mod ses;
pub mod sqs;
pub mod tls;

#[cfg(feature = "app")]
pub use app::{TestApp, TestResponse};
pub use chaos::{Chaos, ChaosQueue};
pub use db::{admin_url, TestDb};
pub use events::{body_json, ApiRequest};
pub use freeze::FreezeProxy;
pub use replay::{Fault, Latency, LatencyModel, Replay, ReplayOptions};
pub use sqs::TestQueue;
