//! Adapters between API Gateway HTTP API (payload v2) events and the handlers.
//!
//! - [`user_id`]: the caller, from the JWT authorizer's `sub` claim.
//! - [`json_body`]: strict JSON parsing of request bodies.
//! - [`ApiError`]: the one error type; its status and code are chosen here and nowhere else, and the
//!   body is always `{"error": {"code", "message", "details"}}`.
//! - [`respond`]: runs a handler body and turns its result into a response, logging causes of 5xx.
//! - [`views`]: JSON answers shared by several routes.
//! - [`admin`]: what the admin routes share: the caller's standing, the settings' view.
//! - [`usage`]: the account's plan, credits and running searches (`GET /usage`).

pub mod admin;
pub mod usage;
pub mod views;

use lambda_http::{
    http::{header, StatusCode},
    request::RequestContext,
    Body, Request, RequestExt, Response,
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::json;
use std::future::Future;
use tracing::Instrument;
use uuid::Uuid;

/// The longest a request may take before it is answered 503. Every route but the exports does a
/// few indexed queries (milliseconds), so a database that stops answering mid-query (a frozen
/// server, a lost network path) gets the caller a clean 503 within 3 s, instead of a wait for
/// the functions' 10 s Lambda timeout and a gateway error.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_millis(2_500);

/// The exports' deadline (their Lambda timeout is 29 s): an export may read for longer, but each
/// of its database round trips is bounded by [`ROUND_TRIP_DEADLINE`].
pub const EXPORT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(25);

/// The longest one database round trip of a long request may take (an export's batch of rows).
pub const ROUND_TRIP_DEADLINE: std::time::Duration = std::time::Duration::from_millis(2_500);

/// `work` within [`ROUND_TRIP_DEADLINE`]; past it, a 503.
pub async fn within_round_trip<T, E: Into<ApiError>>(
    work: impl Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    match tokio::time::timeout(ROUND_TRIP_DEADLINE, work).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(ApiError::Unavailable(anyhow::anyhow!(
            "a database round trip exceeded {ROUND_TRIP_DEADLINE:?}"
        ))),
    }
}

/// Largest request body accepted. Every body of this API is a small JSON object.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

pub use domain::FieldError;

/// Everything a handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        details: Vec<FieldError>,
    },
    #[error("authentication required")]
    Unauthorized,
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    PaymentRequired { code: &'static str, message: String },
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<domain::Refusal> for ApiError {
    fn from(refusal: domain::Refusal) -> Self {
        use domain::Refusal;
        match refusal {
            Refusal::Invalid(details) => Self::validation(details),
            Refusal::Forbidden { code, message } => Self::Forbidden { code, message },
            Refusal::PaymentRequired { code, message } => Self::PaymentRequired { code, message },
            Refusal::Conflict { code, message } => Self::Conflict { code, message },
        }
    }
}

impl ApiError {
    /// A 400 for one invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    /// A 400 listing every invalid field.
    pub fn validation(details: Vec<FieldError>) -> Self {
        Self::BadRequest {
            code: "validation_failed",
            message: "The request has invalid fields".into(),
            details,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::PaymentRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Conflict { code, .. }
            | Self::Forbidden { code, .. }
            | Self::PaymentRequired { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::TooManyRequests { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The response. 5xx causes are logged with their whole chain and never put in the body.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        match &self {
            Self::Unavailable(cause) => tracing::warn!(error = ?cause, "answering 503"),
            Self::Internal(cause) => tracing::error!(error = ?cause, "answering 500"),
            _ => tracing::info!(
                status = status.as_u16(),
                code = self.code(),
                "request rejected"
            ),
        }
        let details = match &self {
            Self::BadRequest { details, .. } => details.clone(),
            _ => Vec::new(),
        };
        let body = json!({"error": {"code": self.code(), "message": self.to_string(), "details": details}});
        let mut response = json_response(status, &body);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        if let Self::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(*retry_after_secs),
            );
        }
        response
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(err: tokio_postgres::Error) -> Self {
        if db::is_unavailable(&err) {
            Self::Unavailable(err.into())
        } else {
            Self::Internal(err.into())
        }
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        use deadpool_postgres::PoolError;
        match err {
            PoolError::Backend(e) => e.into(),
            other @ (PoolError::Timeout(_) | PoolError::Closed) => Self::Unavailable(other.into()),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<tokio_postgres::Error>() {
            Ok(pg) => pg.into(),
            Err(other) => Self::Internal(other),
        }
    }
}

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

/// A verified claim of the caller's token other than `sub` (such as `email`), when present.
pub fn claim(req: &Request, name: &str) -> Option<String> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return None;
    };
    ctx.authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .and_then(|jwt| jwt.claims.get(name))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
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

/// An answer replayed for a repeated idempotent request (marked `Idempotent-Replayed: true`).
pub fn replayed_response(status: u16, body: &serde_json::Value) -> Response<Body> {
    let mut response = json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
    response.headers_mut().insert(
        "idempotent-replayed",
        header::HeaderValue::from_static("true"),
    );
    response
}

/// 422 for a key already used with another request.
pub fn idempotency_key_reused() -> ApiError {
    ApiError::Unprocessable {
        code: "idempotency_key_reused",
        message: "This Idempotency-Key was used with another request in the last 24 hours".into(),
    }
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

/// Answers 403 `forbidden` unless the caller is an admin: named by the deployment (by id or by
/// their verified `email` claim) or flagged in their profile. Admin routes call it first, so a
/// non-admin's request reads and changes nothing.
pub async fn require_admin(
    pool: &db::Pool,
    admins: &domain::admin::Admins,
    user: &str,
    req: &Request,
) -> Result<()> {
    if admins.names(user, claim(req, "email").as_deref()) {
        return Ok(());
    }
    let client = pool.get().await?;
    if db::admins::is_flagged(&client, user).await? {
        return Ok(());
    }
    Err(ApiError::Forbidden {
        code: "forbidden",
        message: "Only admins may use this route".into(),
    })
}

/// A JSON response.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body = serde_json::to_vec(value).expect("response values serialize");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Binary(body))
        .expect("a static response is valid")
}

/// A response without a body (204).
pub fn empty_response(status: StatusCode) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Empty)
        .expect("a static response is valid")
}

/// Runs a route: identifies the caller, opens a span with the user id, runs `route`, and maps its
/// result to a response. Every HTTP function's handler is `respond(req, |user, req| ...)`.
pub async fn respond<F, Fut>(req: Request, route: F) -> Response<Body>
where
    F: FnOnce(String, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>>>,
{
    respond_within(REQUEST_DEADLINE, req, route).await
}

/// [`respond`] with the exports' longer deadline ([`EXPORT_DEADLINE`]).
pub async fn respond_export<F, Fut>(req: Request, route: F) -> Response<Body>
where
    F: FnOnce(String, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>>>,
{
    respond_within(EXPORT_DEADLINE, req, route).await
}

async fn respond_within<F, Fut>(
    deadline: std::time::Duration,
    req: Request,
    route: F,
) -> Response<Body>
where
    F: FnOnce(String, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>>>,
{
    let request_id = request_id(&req);
    let user = match user_id(&req) {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    let span = tracing::info_span!("request", request_id = %request_id, user_id = %user, method = %req.method(), path = %req.uri().path());
    run(span, deadline, route(user, req)).await
}

/// Runs a public route (no authorizer, no user: the request proves itself, as a signed link does)
/// with the same span, deadline and error mapping as [`respond`].
pub async fn respond_public<F, Fut>(req: Request, route: F) -> Response<Body>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>>>,
{
    let request_id = request_id(&req);
    let span = tracing::info_span!("request", request_id = %request_id, method = %req.method(), path = %req.uri().path());
    run(span, REQUEST_DEADLINE, route(req)).await
}

fn request_id(req: &Request) -> String {
    req.lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default()
}

async fn run(
    span: tracing::Span,
    deadline: std::time::Duration,
    route: impl Future<Output = Result<Response<Body>>>,
) -> Response<Body> {
    async move {
        let outcome = match tokio::time::timeout(deadline, route).await {
            Ok(outcome) => outcome,
            Err(_) => Err(ApiError::Unavailable(anyhow::anyhow!(
                "request exceeded its {deadline:?} deadline"
            ))),
        };
        match outcome {
            Ok(response) => {
                tracing::info!(status = response.status().as_u16(), "request handled");
                response
            }
            Err(e) => e.into_response(),
        }
    }
    .instrument(span)
    .await
}
