//! Who is an admin: a user flagged `user_profiles.is_admin`, or one named by the deployment
//! (`ADMIN_USER_IDS`, or `ADMIN_EMAILS` matched against the verified `email` claim). The
//! environment lists let a new deployment have its first admin before any row is flagged.

/// The admins the deployment names, from comma-separated lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admins {
    pub user_ids: Vec<String>,
    /// Lower-cased.
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
            emails: list(emails).map(|e| e.to_lowercase()).collect(),
        }
    }

    /// Whether the deployment names this caller (their flag is checked in the database).
    pub fn names(&self, user_id: &str, email: Option<&str>) -> bool {
        self.user_ids.iter().any(|u| u == user_id)
            || email.is_some_and(|e| self.emails.contains(&e.trim().to_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_exactly_and_emails_ignore_case_and_spaces() {
        let admins = Admins::new(" user_1 ,, user_2", "Ops@Example.com ");
        assert!(admins.names("user_2", None));
        assert!(!admins.names("user_3", None));
        assert!(!admins.names("USER_1", None));
        assert!(admins.names("anyone", Some("ops@example.COM")));
        assert!(!admins.names("anyone", Some("ops@example.org")));
        assert!(!Admins::default().names("user_1", Some("")));
    }
}
