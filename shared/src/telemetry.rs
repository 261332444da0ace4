//! Structured logs: JSON lines in Lambda (CloudWatch indexes the fields), readable text elsewhere.
//!
//! The Lambda runtime opens a span per invocation carrying `requestId`; handlers add `user_id`,
//! `job_id` and `message_id` spans, so every line names what it belongs to.

use tracing_subscriber::{filter::Targets, fmt, prelude::*};

/// Installs the global subscriber. `RUST_LOG` filters by target and level (`info`,
/// `warn,shared=debug`; default `info`); `LOG_FORMAT=json|text` overrides the format chosen from
/// the environment. `Targets` rather than `EnvFilter`: the same directives without span-field
/// matching, and without linking a regex engine into every function.
pub fn init() {
    let filter: Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let json = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => in_lambda,
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(true)
                    .without_time()
                    .with_target(false),
            )
            .try_init()
    } else {
        registry
            .with(fmt::layer().with_ansi(!in_lambda).with_target(false))
            .try_init()
    };
    // A second call (tests, the local server) keeps the first subscriber.
    drop(result);
}
