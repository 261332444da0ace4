//! Stripe's webhook signature, as Stripe documents it ("Verify webhook signatures with your own
//! code"): the `Stripe-Signature` header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...]` (other
//! schemes such as `v0` are ignored); each `v1` is the hex HMAC-SHA256 of `"{t}.{raw body}"` keyed
//! with the endpoint's signing secret (`whsec_...`, used as it is). A request passes when any `v1`
//! matches (Stripe sends several while a secret is being rolled) and `t` is within the tolerance
//! of now. Every comparison is constant-time ([`Mac::verify_slice`]).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Stripe's default tolerance: a signed request older (or newer) than this is refused, so a
/// captured request cannot be replayed later.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a request's signature is refused. The caller answers each the same way (400); the kind
/// is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header, or one without `t` or any `v1`.
    #[error("no Stripe-Signature header with a timestamp and a v1 signature")]
    Malformed,
    /// No `v1` is the body's signature with this secret.
    #[error("no v1 signature matches the body")]
    NoMatch,
    /// Signed, but not within the tolerance of now.
    #[error("the signature's timestamp is outside the tolerance")]
    OutsideTolerance,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: i64, payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Checks `header` (the `Stripe-Signature` value) against the raw `payload` with `secret`, at
/// `now` (unix seconds). Returns the signed timestamp.
pub fn verify(
    header: &str,
    payload: &[u8],
    secret: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<i64, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" if timestamp.is_none() => timestamp = value.parse::<i64>().ok(),
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let expected = mac(secret, timestamp, payload);
    let matches = signatures.iter().any(|hex_sig| {
        hex::decode(hex_sig).is_ok_and(|sig| expected.clone().verify_slice(&sig).is_ok())
    });
    if !matches {
        return Err(SignatureError::NoMatch);
    }
    if (now - timestamp).abs() > tolerance_secs {
        return Err(SignatureError::OutsideTolerance);
    }
    Ok(timestamp)
}

/// The `Stripe-Signature` header Stripe would send for `payload` signed at `timestamp`: for the
/// tests, and for `local` to sign events it forwards.
pub fn sign(payload: &[u8], secret: &[u8], timestamp: i64) -> String {
    let signature = hex::encode(mac(secret, timestamp, payload).finalize().into_bytes());
    format!("t={timestamp},v1={signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header computed with `openssl dgst -sha256 -hmac`, not with this code.
    fn vector() -> serde_json::Value {
        serde_json::from_str(include_str!(
            "../../../testkit/fixtures/stripe/signature-vector.json"
        ))
        .unwrap()
    }

    #[test]
    fn a_signature_computed_elsewhere_verifies_and_this_code_computes_the_same() {
        let v = vector();
        let (secret, payload) = (
            v["secret"].as_str().unwrap(),
            v["payload"].as_str().unwrap(),
        );
        let t = v["timestamp"].as_i64().unwrap();
        let header = v["header"].as_str().unwrap();
        // Several v1 (the first of another secret) and a v0: any v1 may match.
        assert_eq!(
            verify(
                header,
                payload.as_bytes(),
                secret.as_bytes(),
                t + 10,
                TOLERANCE_SECS
            ),
            Ok(t)
        );
        assert_eq!(
            sign(payload.as_bytes(), secret.as_bytes(), t),
            format!("t={t},v1={}", v["v1"].as_str().unwrap())
        );
    }

    #[test]
    fn the_tolerance_holds_on_both_sides() {
        let v = vector();
        let (secret, payload) = (
            v["secret"].as_str().unwrap(),
            v["payload"].as_str().unwrap(),
        );
        let t = v["timestamp"].as_i64().unwrap();
        let header = v["header"].as_str().unwrap();
        let at = |now| {
            verify(
                header,
                payload.as_bytes(),
                secret.as_bytes(),
                now,
                TOLERANCE_SECS,
            )
        };
        assert_eq!(at(t + 300), Ok(t));
        assert_eq!(at(t - 300), Ok(t));
        assert_eq!(at(t + 301), Err(SignatureError::OutsideTolerance));
        assert_eq!(at(t - 301), Err(SignatureError::OutsideTolerance));
    }

    #[test]
    fn malformed_headers_and_other_secrets_are_refused() {
        let v = vector();
        let payload = v["payload"].as_str().unwrap().as_bytes();
        let secret = v["secret"].as_str().unwrap().as_bytes();
        let t = v["timestamp"].as_i64().unwrap();
        let check = |header: &str| verify(header, payload, secret, t, TOLERANCE_SECS);
        assert_eq!(check(""), Err(SignatureError::Malformed));
        assert_eq!(check("t=abc,v1=00"), Err(SignatureError::Malformed));
        assert_eq!(check(&format!("t={t}")), Err(SignatureError::Malformed));
        assert_eq!(
            check(&format!("t={t},v0={}", v["v1"].as_str().unwrap())),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            check(&format!("t={t},v1=nothex")),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(check(&format!("t={t},v1=")), Err(SignatureError::NoMatch));
        assert_eq!(
            verify(
                v["header"].as_str().unwrap(),
                payload,
                b"whsec_another",
                t,
                TOLERANCE_SECS
            ),
            Err(SignatureError::NoMatch)
        );
    }
}
