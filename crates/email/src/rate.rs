//! The send rate cap, shared by every clone of a sender.

use std::{sync::Mutex, time::Duration};

use tokio::time::Instant;

/// The send rate cap: one call every `interval`, across every clone of the sender (so across a
/// container's invocations too).
#[derive(Debug)]
pub(crate) struct RateCap {
    interval: Duration,
    /// When the next call may start.
    next: Mutex<Option<Instant>>,
}

impl RateCap {
    pub(crate) fn new(per_second: f64) -> Self {
        let per_second = if per_second.is_finite() && per_second > 0.0 {
            per_second
        } else {
            DEFAULT_RATE
        };
        Self {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: Mutex::new(None),
        }
    }

    /// Takes the next free start time, unless it is after `latest`.
    pub(crate) fn reserve(&self, latest: Option<Instant>) -> Option<Instant> {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let start = next.map_or_else(Instant::now, |n| n.max(Instant::now()));
        if latest.is_some_and(|latest| start > latest) {
            return None;
        }
        *next = Some(start + self.interval);
        Some(start)
    }
}

/// `SES_MAX_SEND_RATE`: the most calls a second, [`DEFAULT_RATE`] when unset; an error when it
/// is not a positive number.
pub fn rate_from_env() -> Result<f64, String> {
    match std::env::var("SES_MAX_SEND_RATE") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite() && *r > 0.0)
            .ok_or_else(|| format!("SES_MAX_SEND_RATE must be a positive number, not {v:?}")),
        _ => Ok(DEFAULT_RATE),
    }
}

/// Emails a second when `SES_MAX_SEND_RATE` does not say: SES's sandbox rate; a production
/// account's is on its sending-quota page and goes in that variable.
pub const DEFAULT_RATE: f64 = 14.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_cap_spaces_calls_and_refuses_a_turn_after_the_latest_start() {
        let cap = RateCap::new(10.0);
        let first = cap.reserve(None).unwrap();
        let second = cap.reserve(None).unwrap();
        assert_eq!(second - first, Duration::from_millis(100));
        assert_eq!(cap.reserve(Some(second)), None, "the third turn is later");
        let third = cap.reserve(None).unwrap();
        assert_eq!(
            third - second,
            Duration::from_millis(100),
            "a refused turn is not taken"
        );
    }
}
