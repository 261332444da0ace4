//! PostgreSQL: migrations and the queries, one module per table. The pool itself is
//! `shared::db`, re-exported here so a function names one crate for its database.
//!
//! Every query module takes a `&impl GenericClient` (a pooled client or a transaction), so the
//! caller decides what runs in one transaction.

pub mod admins;
pub mod billing;
pub mod campaigns;
pub mod emails;
pub mod enrichment;
pub mod idempotency;
pub mod jobs;
pub mod profiles;
pub mod refunds;
pub mod results;
pub mod settings;
mod stored;

pub use shared::db::*;

pub mod migrate;
mod superseded;

pub use migrate::migrate;
