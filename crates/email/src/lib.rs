//! Sending the onboarding and trial emails (the rules of who gets what are in
//! [`domain::email`], the schedule's rows in [`db::emails`]).
//!
//! - [`render`]: subject, text and HTML from the compiled templates.
//! - [`ses`]: the MIME message and Amazon SES v2, under a send rate cap ([`rate`]).
//! - [`failure`]: what a failed send means, as a reason code and what to do next.
//! - [`link`]: signed one-click unsubscribe links.

pub mod failure;
pub mod link;
pub mod rate;
pub mod render;
pub mod ses;
