//! Who is an admin: a user flagged `user_profiles.is_admin`, or one named by the deployment
//! (`ADMIN_USER_IDS`, or `ADMIN_EMAILS` matched against the `email` claim of a token whose
//! `email_verified` claim is true). The environment lists let a new deployment have its first
//! admin before any row is flagged. Addresses are compared in ASCII lower case only
//! ([`crate::address::comparable`]): no trimming, no Unicode case folding, and an address that is
//! not plain ASCII never matches.

use crate::address;

/// The admins the deployment names, from comma-separated lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admins {
    pub user_ids: Vec<String>,
    /// In [`address::comparable`] form; entries that are not addresses are left out.
    pub emails: Vec<String>,
}

fn list(raw: &str) -> impl Iterator<Item = String> + '_ {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Admins {
    pub fn new(user_ids: &str, emails: &str) -> Self {
        Self {
            user_ids: list(user_ids).collect(),
            emails: list(emails)
                .filter_map(|e| address::comparable(&e))
                .collect(),
        }
    }

    /// Whether the deployment names this caller (their flag is checked in the database).
    /// `verified_email` must be an address its owner has verified (the caller's `email` claim
    /// only when `email_verified` is true).
    pub fn names(&self, user_id: &str, verified_email: Option<&str>) -> bool {
        self.user_ids.iter().any(|u| u == user_id)
            || verified_email.is_some_and(|e| self.names_email(e))
    }

    /// Whether `email` (verified by its owner) is one the deployment names.
    pub fn names_email(&self, email: &str) -> bool {
        address::comparable(email).is_some_and(|e| self.emails.contains(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_exactly_and_emails_ignore_ascii_case_only() {
        let admins = Admins::new(" user_1 ,, user_2", "Ops@Example.com , not-an-address");
        assert_eq!(admins.emails, ["ops@example.com"]);
        assert!(admins.names("user_2", None));
        assert!(!admins.names("user_3", None));
        assert!(!admins.names("USER_1", None));
        assert!(admins.names("anyone", Some("ops@example.COM")));
        assert!(!admins.names("anyone", Some("ops@example.org")));
        assert!(!admins.names("anyone", Some("ops@example.com ")));
        assert!(!admins.names("anyone", Some(" ops@example.com")));
        assert!(!Admins::default().names("user_1", Some("")));
    }

    #[test]
    fn the_kelvin_sign_is_not_a_k() {
        let admins = Admins::new("", "kate@gemz.io");
        assert!(admins.names("anyone", Some("KATE@gemz.io")));
        assert!(!admins.names("anyone", Some("\u{212A}ate@gemz.io")));
        assert!(!admins.names("anyone", Some("\u{212A}ATE@GEMZ.IO")));
    }
}
