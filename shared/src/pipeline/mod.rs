//! The background search: a job advances one step per SQS message.
//!
//! - [`api`]: the creator API client and the classification of its failures.
//! - [`parse`]: tolerant parsers of the API's responses.
//! - [`platforms`]: one module per platform behind one interface.
//! - [`search`]: the keyword and similar drivers over the platforms, the typed cursor, enrichment.
//! - [`queue`]: the job queue (SQS) behind a small trait.
//! - [`worker`]: one step of a job: claim, fetch, commit, enqueue the next.

pub mod api;
pub mod parse;
pub mod platforms;
pub mod queue;
pub mod search;
pub mod worker;
