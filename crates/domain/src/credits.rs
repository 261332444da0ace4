//! The one credit rule: who may start a search, and whether a search may still spend. Every
//! path that decides it calls these functions — the start (`start-scraping`), the worker before
//! a page and at its commit, the enrichment before its look-ups — and the caps bound into the
//! database's charge-before-call statement come from the same [`PlanLimits`].
//!
//! A credit is one creator-API call. A search spends from two budgets at once: its own cap
//! ([`PlanLimits::credits_per_search`]) and its user's budget for the billing period
//! ([`PlanLimits::period_credits`]).

use crate::Refusal;

/// A plan's limits, as the operator set them (settings `limits.*_<plan>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanLimits {
    /// Searches a user may have queued or running at once.
    pub max_running: i64,
    /// Credits a user may spend per billing period.
    pub period_credits: i64,
    /// Credits one search may spend.
    pub credits_per_search: i64,
}

/// When a user at their limit of running searches is told to try again: about the time a step
/// takes, so a finished search frees its place.
pub const RUNNING_RETRY_AFTER_SECS: u64 = 30;

/// Why a start is refused by the credit rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRefusal {
    /// As many searches run as the plan allows at once: try again later.
    TooManyRunning { running: i64, max_running: i64 },
    /// The period's budget is spent.
    CreditsSpent { budget: i64 },
}

/// What a search and its user have spent, counting creators whose look-up is charged but not
/// yet made (`reserved`) as spent: they will be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    /// Credits the search has spent.
    pub search: i64,
    /// Credits the user has spent this billing period (all searches).
    pub period: i64,
    /// Credits committed but not yet charged (pending look-ups of this search).
    pub reserved: i64,
}

/// May a user with `running` searches and `period_spent` credits this period start one more?
pub fn may_start(limits: &PlanLimits, running: i64, period_spent: i64) -> Result<(), StartRefusal> {
    if running >= limits.max_running {
        return Err(StartRefusal::TooManyRunning {
            running,
            max_running: limits.max_running,
        });
    }
    if period_spent >= limits.period_credits {
        return Err(StartRefusal::CreditsSpent {
            budget: limits.period_credits,
        });
    }
    Ok(())
}

/// May a search that has spent `spent` make one more call?
pub fn may_spend(limits: &PlanLimits, spent: Spent) -> bool {
    spent.search + spent.reserved < limits.credits_per_search
        && spent.period + spent.reserved < limits.period_credits
}

impl From<StartRefusal> for Refusal {
    fn from(refusal: StartRefusal) -> Self {
        match refusal {
            StartRefusal::TooManyRunning {
                running,
                max_running,
            } => Refusal::TryLater {
                code: "too_many_running_searches",
                message: format!(
                    "{running} searches are running; your plan allows {max_running} at once"
                ),
                retry_after_secs: RUNNING_RETRY_AFTER_SECS,
            },
            StartRefusal::CreditsSpent { budget } => Refusal::PaymentRequired {
                code: "credit_limit_reached",
                message: format!(
                    "This billing period's {budget} credits are spent; they renew with the next period"
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PlanLimits = PlanLimits {
        max_running: 3,
        period_credits: 100,
        credits_per_search: 40,
    };

    #[test]
    fn a_start_is_refused_at_the_running_limit_and_at_a_spent_budget() {
        let cases = [
            // (running, period spent, expected)
            (0, 0, Ok(())),
            (2, 99, Ok(())),
            (
                3,
                0,
                Err(StartRefusal::TooManyRunning {
                    running: 3,
                    max_running: 3,
                }),
            ),
            (
                4,
                0,
                Err(StartRefusal::TooManyRunning {
                    running: 4,
                    max_running: 3,
                }),
            ),
            (0, 100, Err(StartRefusal::CreditsSpent { budget: 100 })),
            (0, 150, Err(StartRefusal::CreditsSpent { budget: 100 })),
            // Both spent: the running limit is named first (it clears sooner).
            (
                3,
                100,
                Err(StartRefusal::TooManyRunning {
                    running: 3,
                    max_running: 3,
                }),
            ),
        ];
        let failures: Vec<_> = cases
            .iter()
            .filter(|(running, spent, expected)| may_start(&LIMITS, *running, *spent) != *expected)
            .collect();
        assert!(failures.is_empty(), "failing cases: {failures:?}");
    }

    #[test]
    fn a_search_spends_while_both_budgets_have_room_counting_reserved_credits() {
        let spent = |search, period, reserved| Spent {
            search,
            period,
            reserved,
        };
        let cases = [
            (spent(0, 0, 0), true),
            (spent(39, 39, 0), true),
            (spent(40, 40, 0), false),  // the search's cap
            (spent(10, 100, 0), false), // the period's budget
            (spent(30, 30, 9), true),   // 39 of 40 once the reserved are made
            (spent(30, 30, 10), false), // 40 of 40
            (spent(0, 95, 5), false),   // the period's budget with the reserved
            (spent(0, 94, 5), true),
        ];
        let failures: Vec<_> = cases
            .iter()
            .filter(|(s, expected)| may_spend(&LIMITS, *s) != *expected)
            .collect();
        assert!(failures.is_empty(), "failing cases: {failures:?}");
    }

    #[test]
    fn refusals_carry_their_codes() {
        let busy: Refusal = StartRefusal::TooManyRunning {
            running: 3,
            max_running: 3,
        }
        .into();
        assert_eq!(busy.code(), "too_many_running_searches");
        let spent: Refusal = StartRefusal::CreditsSpent { budget: 100 }.into();
        assert_eq!(spent.code(), "credit_limit_reached");
    }
}
