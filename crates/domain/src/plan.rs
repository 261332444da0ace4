//! The plans a user can be on. Their limits are settings (`limits.*_<plan>`), read as
//! [`crate::credits::PlanLimits`]; the `plans` table holds the same three rows (a test keeps
//! them equal). A stored plan this enum does not name fails the read instead of defaulting.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// The 7-day trial, before any subscription.
    Trial,
    Starter,
    Pro,
}

impl Plan {
    pub const ALL: [Plan; 3] = [Plan::Trial, Plan::Starter, Plan::Pro];

    /// The stored and displayed id (`trial`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Trial => "trial",
            Self::Starter => "starter",
            Self::Pro => "pro",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
