//! Bearer tokens checked like API Gateway's JWT authorizer: signature, expiry, issuer, audience.
//! Locally the tokens are HS256, signed with a key kept in `.local/jwt-secret` (or
//! `LOCAL_JWT_SECRET`), and minted by `local token USER_ID`.

use std::{collections::HashMap, path::Path};

use anyhow::Context;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ISSUER: &str = "gemz-local";
pub const AUDIENCE: &str = "gemz";
/// The shortest `LOCAL_JWT_SECRET` accepted: an HS256 key shorter than its 32-byte output is
/// weaker than the signature.
pub const MIN_SECRET_LEN: usize = 32;

#[derive(Clone)]
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    /// What the Clerk JWT template adds (`"email": "{{user.primary_email_address}}"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// With it, as the template carries it (`"email_verified": "{{user.email_verified}}"`): an
    /// address given to `local token --email` stands for a verified one.
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

impl Auth {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The key from `LOCAL_JWT_SECRET` (at least [`MIN_SECRET_LEN`] bytes), else from `dir/jwt-secret`, created on first use.
    pub fn from_env_or_file(dir: &Path) -> anyhow::Result<Self> {
        Self::from_secret_or_file(std::env::var_os("LOCAL_JWT_SECRET"), dir)
    }

    /// The key `secret` when given, else the one in `dir/jwt-secret`.
    fn from_secret_or_file(secret: Option<std::ffi::OsString>, dir: &Path) -> anyhow::Result<Self> {
        if let Some(secret) = secret {
            let secret = secret
                .into_string()
                .map_err(|_| anyhow::anyhow!("LOCAL_JWT_SECRET is not UTF-8"))?;
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_LEN,
                "LOCAL_JWT_SECRET must be at least {MIN_SECRET_LEN} bytes long (an empty or short \
                 key lets anyone mint tokens); unset it to use a generated one"
            );
            return Ok(Self::new(secret.as_bytes()));
        }
        let path = dir.join("jwt-secret");
        if !path.exists() {
            std::fs::create_dir_all(dir)?;
            let secret = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            std::fs::write(&path, secret)
                .with_context(|| format!("Failed to write {}", path.display()))?;
        }
        let secret =
            std::fs::read(&path).with_context(|| format!("Failed to read {}", path.display()))?;
        Ok(Self::new(&secret))
    }

    /// A token for `user_id`, valid for `hours`.
    pub fn mint(&self, user_id: &str, hours: i64) -> anyhow::Result<String> {
        self.mint_with_email(user_id, None, hours)
    }

    /// A token for `user_id` with an `email` claim, valid for `hours`.
    pub fn mint_with_email(
        &self,
        user_id: &str,
        email: Option<&str>,
        hours: i64,
    ) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + hours * 3600,
            email: email.map(str::to_owned),
            email_verified: email.map(|_| true),
        };
        Ok(encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a valid `Authorization: Bearer` header, as strings (as API Gateway passes
    /// them to the function); `None` for a missing, malformed, forged or expired token.
    pub fn verify(&self, authorization: Option<&str>) -> Option<HashMap<String, String>> {
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        let data =
            decode::<HashMap<String, Value>>(token, &self.decoding, &self.validation).ok()?;
        Some(
            data.claims
                .into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, text)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_empty_or_short_secret_is_refused() {
        let dir = std::env::temp_dir();
        for bad in ["", "short"] {
            let Err(err) = super::Auth::from_secret_or_file(Some(bad.into()), &dir) else {
                panic!("{bad:?} was accepted");
            };
            assert!(err.to_string().contains("at least 32 bytes"), "{err}");
        }
        let good = "k".repeat(super::MIN_SECRET_LEN);
        assert!(super::Auth::from_secret_or_file(Some(good.into()), &dir).is_ok());
    }

    use super::*;

    #[test]
    fn a_minted_token_verifies_and_a_forged_or_expired_one_does_not() {
        let auth = Auth::new(b"secret");
        let token = auth.mint("user_1", 1).unwrap();
        let claims = auth.verify(Some(&format!("Bearer {token}"))).unwrap();
        assert_eq!(claims["sub"], "user_1");
        assert_eq!(claims["iss"], ISSUER);

        let other = Auth::new(b"another secret").mint("user_1", 1).unwrap();
        assert!(auth.verify(Some(&format!("Bearer {other}"))).is_none());
        let expired = auth.mint("user_1", -1).unwrap();
        assert!(auth.verify(Some(&format!("Bearer {expired}"))).is_none());
        assert!(
            auth.verify(Some(&token)).is_none(),
            "the Bearer scheme is required"
        );
        assert!(auth.verify(None).is_none());
        let unsigned = format!("{}.", token.rsplit_once('.').unwrap().0);
        assert!(auth.verify(Some(&format!("Bearer {unsigned}"))).is_none());
    }
}
