//! The product on a developer machine, as it runs on AWS.
//!
//! - [`services`]: PostgreSQL, the SQS emulator and the creator API, started when absent.
//! - [`gateway`]: the HTTP API with the JWT authorizer, dispatching to the functions' handlers.
//! - [`auth`]: local tokens, checked like API Gateway's JWT authorizer.
//! - [`poller`]: the SQS event source mapping and the sweeper's schedule.
//! - [`harness`]: the seeded world the compiled functions run in for tests and benchmarks.
//! - [`runtime_api`]: the Lambda Runtime API, to run the compiled function binaries.

pub mod app;
pub mod auth;
pub mod exports;
pub mod gateway;
pub mod harness;
pub mod invoke;
pub mod mail;
pub mod poller;
pub mod procs;
pub mod rie;
pub mod routes;
pub mod runtime_api;
pub mod services;
pub mod template;
