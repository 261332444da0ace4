//! The background search: a job advances one step per SQS message.
//!
//! - [`api`]: the creator API client and the classification of its failures.
//! - [`parse`]: tolerant parsers of the API's responses.
//! - [`creator`]: the stored creator shape, emails and hashtags.
//! - [`search`]: one page per platform and search type, and enrichment.
//! - [`queue`]: the job queue (SQS) behind a small trait.
//! - [`worker`]: one step of a job: claim, fetch, commit, enqueue the next.

pub mod api;
pub mod creator;
pub mod parse;
pub mod queue;
pub mod search;
pub mod worker;
