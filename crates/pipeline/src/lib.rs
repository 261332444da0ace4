//! The background search: a job advances one step per SQS message.
//!
//! - [`creator_api`]: the creator API client and the classification of its failures.
//! - [`parse`]: tolerant parsers of the API's responses.
//! - [`platforms`]: one module per platform behind one interface.
//! - [`search`]: the keyword and similar drivers over the platforms, the typed cursor, enrichment.
//! - [`worker`]: the jobs queue's messages: one step of a job (claim, fetch, commit, enqueue the
//!   next), the enrichment of its creators, and the repair of sends a crash lost.
//!
//! The job queue (SQS) is the `queue` crate: the start and the sweeper send steps without
//! linking the search.

pub mod creator_api;
pub mod parse;
pub mod platforms;
pub mod search;
pub mod worker;
