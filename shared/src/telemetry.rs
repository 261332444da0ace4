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
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref());
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

/// The runtime crates log every raw event at `trace` (bearer tokens, request bodies): whatever
/// `RUST_LOG` asks, they log at `debug` at most.
const RAW_EVENT_TARGETS: [&str; 3] = ["lambda_runtime", "lambda_runtime_api_client", "lambda_http"];

/// `RUST_LOG`'s directives (default `info`), with [`RAW_EVENT_TARGETS`] capped at `debug`.
fn filter(directives: Option<&str>) -> Targets {
    let mut filter = directives
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    for target in RAW_EVENT_TARGETS {
        if filter.would_enable(target, &tracing::Level::TRACE) {
            filter = filter.with_target(target, tracing::Level::DEBUG);
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn trace_never_reaches_the_runtime_that_logs_raw_events() {
        for directives in ["trace", "lambda_runtime=trace", "info,lambda_http=trace"] {
            let f = filter(Some(directives));
            for target in RAW_EVENT_TARGETS {
                assert!(
                    !f.would_enable(target, &Level::TRACE),
                    "{directives}: {target}"
                );
            }
        }
        let f = filter(Some("trace"));
        assert!(f.would_enable("lambda_runtime", &Level::DEBUG));
        assert!(f.would_enable("process_scraping", &Level::TRACE));
        let f = filter(None);
        assert!(!f.would_enable("lambda_runtime", &Level::DEBUG));
        assert!(f.would_enable("lambda_runtime", &Level::INFO));
    }
}
