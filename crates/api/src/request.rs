//! Reading a request: the caller, strict JSON bodies, path and query parameters, the
//! `Idempotency-Key`.

use lambda_http::{http::header, request::RequestContext, Body, Request, RequestExt};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::{ApiError, FieldError, Result};

/// Largest request body accepted. Every body of this API is a small JSON object.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The caller's Clerk user id: the `sub` claim the API Gateway JWT authorizer verified.
pub fn user_id(req: &Request) -> Result<String> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return Err(ApiError::Unauthorized);
    };
    ctx.authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .and_then(|jwt| jwt.claims.get("sub"))
        .map(|sub| sub.trim())
        .filter(|sub| !sub.is_empty() && sub.len() <= 255 && !sub.chars().any(char::is_control))
        .map(str::to_owned)
        .ok_or(ApiError::Unauthorized)
}

/// A verified claim of the caller's token other than `sub` (such as `email`), when present, exactly
/// as the token has it (nothing trimmed: a value is compared or checked as it was signed).
pub fn claim(req: &Request, name: &str) -> Option<String> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return None;
    };
    ctx.authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .and_then(|jwt| jwt.claims.get(name))
        .filter(|v| !v.is_empty())
        .cloned()
}

/// The caller's `email` claim when it is an address ([`domain::address::parse`]; anything else is
/// treated as no claim), with what the token says of its verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailClaim {
    pub address: String,
    /// The `email_verified` claim (API Gateway passes claims as text: `true` is verified, any
    /// other value is not); `None` when the token has no such claim.
    pub verified: Option<bool>,
}

/// The caller's `email` claim as an [`EmailClaim`]; `None` without one, or when it is not an
/// address.
pub fn email_claim(req: &Request) -> Option<EmailClaim> {
    let address = domain::address::parse(&claim(req, "email")?)?.to_owned();
    let verified = claim(req, "email_verified").map(|v| v == "true");
    Some(EmailClaim { address, verified })
}

/// The caller's address only when the token says its owner verified it: what admin matching
/// reads.
pub fn verified_email(req: &Request) -> Option<String> {
    email_claim(req)
        .filter(|c| c.verified == Some(true))
        .map(|c| c.address)
}

/// Parses the body as `T`: 415 for a non-JSON content type, 413 past [`MAX_BODY_BYTES`], 400 for
/// malformed JSON, wrong types or unknown fields (types deny unknown fields), with the serde
/// message as detail. An absent body is parsed as `{}`, so missing fields are named.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or_default().trim();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    // Every body of this API is a JSON object; serde would also read a struct from an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadRequest {
            code: "invalid_body",
            message: "The request body is not valid for this route".into(),
            details: vec![FieldError::new("body", "must be a JSON object")],
        });
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest {
        code: "invalid_body",
        message: "The request body is not valid for this route".into(),
        details: vec![FieldError::new("body", e.to_string())],
    })
}

/// The `Idempotency-Key` header: 1–255 visible ASCII characters; `None` when absent.
pub fn idempotency_key(req: &Request) -> Result<Option<String>> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(ApiError::BadRequest {
            code: "invalid_idempotency_key",
            message: "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            details: vec![FieldError::new(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )],
        });
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// The request body in a canonical form (keys sorted, no spacing), so that a retry of the same
/// request is recognised however its JSON was spelled.
pub fn body_fingerprint(req: &Request) -> String {
    let bytes: &[u8] = match req.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    serde_json::from_slice::<serde_json::Value>(bytes)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned())
}

/// A path parameter that must be a UUID: 400 when it is not one.
pub fn path_uuid(req: &Request, name: &str) -> Result<Uuid> {
    let params = req.path_parameters_ref();
    let raw = params.and_then(|p| p.first(name)).unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::invalid(name, "must be a UUID"))
}

/// A path parameter as text (400 when absent).
pub fn path_param(req: &Request, name: &str) -> Result<String> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_owned)
        .ok_or_else(|| ApiError::invalid(name, "is required"))
}

/// An optional integer query parameter within `min..=max`; 400 when present and not such a number.
pub fn query_int(req: &Request, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
    let params = req.query_string_parameters_ref();
    let Some(raw) = params.and_then(|p| p.first(name)) else {
        return Ok(None);
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::invalid(
            name,
            format!("must be a whole number from {min} to {max}"),
        )),
    }
}
