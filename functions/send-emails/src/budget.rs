//! The run's time: what still fits before the invocation ends, and the bound of every database
//! call.
//!
//! A send is the one step that cannot be taken back once SES has accepted it, so the run is
//! arranged around it: an email is claimed only while a claim, a whole send (the SES timeout) and
//! the record of its outcome still fit before the invocation's deadline; the send itself starts
//! only if it can end with its record still to fit, and within its claim's lease. An invocation
//! therefore never ends between SES's acceptance and its record except by a crash or a database
//! that stops answering.

use std::{
    future::Future,
    time::{Duration, SystemTime},
};

use tokio::time::Instant;

/// The longest one database call of the sender may take (a claim, a record, the settings, a
/// connection from the pool): a server that stops answering fails the run client-side instead of
/// holding it until Lambda ends it. Above the 5 s `statement_timeout`, which a live server
/// enforces first.
pub const DB_DEADLINE: Duration = Duration::from_secs(6);

/// A claim's lease: far longer than a claim, a send and a record ([`Budget::new`] checks it),
/// so a live run never loses its claim to another run.
pub const CLAIM: Duration = Duration::from_secs(300);

/// Kept free at the end of the invocation beyond the bounds above (logs, the runtime's answer).
const SLACK: Duration = Duration::from_secs(1);

/// What still fits in this run.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// When the invocation ends; none when nothing ends it (the local stack, the tests).
    end: Option<Instant>,
    /// The longest one send may take.
    send: Duration,
}

impl Budget {
    /// A run ending at `deadline` whose sends take at most `send` (the SES timeout, capped so
    /// that a claim, a send and a record always fit in a claim's lease).
    pub fn new(deadline: Option<SystemTime>, send: Duration) -> Self {
        let now = Instant::now();
        let end = deadline.map(|d| now + d.duration_since(SystemTime::now()).unwrap_or_default());
        let most = CLAIM - 2 * DB_DEADLINE - SLACK;
        Self {
            end,
            send: send.min(most),
        }
    }

    /// Whether another email may be claimed: its claim, a whole send and its record fit.
    pub fn room_for_another(&self) -> bool {
        self.end
            .is_none_or(|end| Instant::now() + DB_DEADLINE + self.send + DB_DEADLINE + SLACK <= end)
    }

    /// By when a send of an email claimed at `claimed_at` must end: its record must still fit
    /// in the invocation and in the claim's lease.
    pub fn send_end(&self, claimed_at: Instant) -> Instant {
        let lease_end = claimed_at + CLAIM;
        let end = self.end.map_or(lease_end, |end| end.min(lease_end));
        end.checked_sub(DB_DEADLINE + SLACK).unwrap_or(end)
    }
}

/// `work` within [`DB_DEADLINE`]; running out of it is an error like the database's own.
pub async fn db<T, E>(work: impl Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    db::within(DB_DEADLINE, work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_that_would_outlive_its_claim_is_bounded_below_the_lease() {
        let budget = Budget::new(None, Duration::from_secs(3_600));
        assert!(budget.send + 2 * DB_DEADLINE < CLAIM);
        let claimed_at = Instant::now();
        assert!(budget.send_end(claimed_at) + DB_DEADLINE < claimed_at + CLAIM);
    }

    #[test]
    fn no_email_is_claimed_when_a_send_and_its_record_no_longer_fit() {
        let soon = SystemTime::now() + Duration::from_secs(20);
        assert!(!Budget::new(Some(soon), Duration::from_secs(10)).room_for_another());
        let later = SystemTime::now() + Duration::from_secs(40);
        assert!(Budget::new(Some(later), Duration::from_secs(10)).room_for_another());
        assert!(Budget::new(None, Duration::from_secs(10)).room_for_another());
    }
}
