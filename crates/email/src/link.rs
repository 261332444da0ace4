//! One-click unsubscribe links: `GET /email/unsubscribe?token=...`, public, so the token itself is
//! the proof. It is an HMAC-SHA256, under the deployment's link secret, over the user and the list,
//! so it cannot be forged, nor altered to name another user or list.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ring::hmac;

/// A mailing list a user can leave. There is one today: every reminder email.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Reminders,
}

impl List {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reminders => "reminders",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        (s == "reminders").then_some(Self::Reminders)
    }
}

/// Signs and checks unsubscribe tokens.
#[derive(Clone)]
pub struct LinkSigner {
    key: hmac::Key,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

/// The MAC's input: a version and the fields, separated by a byte no field may contain.
fn signed_text(user_id: &str, list: List) -> String {
    format!("gemz-unsubscribe-v1\n{}\n{user_id}", list.as_str())
}

impl LinkSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// `user.list.mac`, each part URL-safe.
    pub fn token(&self, user_id: &str, list: List) -> String {
        let tag = hmac::sign(&self.key, signed_text(user_id, list).as_bytes());
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(user_id),
            list.as_str(),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    /// The user and list a token was made for, if this deployment made it (constant-time check).
    pub fn verify(&self, token: &str) -> Option<(String, List)> {
        let mut parts = token.trim().split('.');
        let (user, list, tag) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || token.len() > 1_024 {
            return None;
        }
        let user = String::from_utf8(URL_SAFE_NO_PAD.decode(user).ok()?).ok()?;
        if user.is_empty() || user.contains('\n') {
            return None;
        }
        let list = List::parse(list)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        hmac::verify(&self.key, signed_text(&user, list).as_bytes(), &tag).ok()?;
        Some((user, list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_user_and_list_and_nothing_else_verifies() {
        let signer = LinkSigner::new(b"secret");
        let token = signer.token("user_a", List::Reminders);
        assert_eq!(
            signer.verify(&token),
            Some(("user_a".to_owned(), List::Reminders))
        );
        // Another user's id with the first user's MAC.
        let (_, rest) = token.split_once('.').unwrap();
        let swapped = format!("{}.{rest}", URL_SAFE_NO_PAD.encode("user_b"));
        assert_eq!(signer.verify(&swapped), None);
        // Another deployment's secret.
        assert_eq!(LinkSigner::new(b"other").verify(&token), None);
        // A flipped character of the MAC, a truncated token, garbage.
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(signer.verify(&String::from_utf8(flipped).unwrap()), None);
        assert_eq!(signer.verify(&token[..token.len() - 4]), None);
        for bad in ["", "...", "a.b.c.d", "dXNlcg.newsletter.AAAA"] {
            assert_eq!(signer.verify(bad), None, "{bad}");
        }
    }
}
