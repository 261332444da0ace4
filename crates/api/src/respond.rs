//! Answering a request: every route runs inside [`respond`] (or its export and public
//! variants), which owns the caller, the span, the deadline and the error mapping.

use lambda_http::{
    http::{header, StatusCode},
    Body, Request, RequestExt, Response,
};
use serde::Serialize;
use std::future::Future;
use tracing::Instrument;

use crate::{request::user_id, ApiError, Result};

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

/// An answer replayed for a repeated idempotent request (marked `Idempotent-Replayed: true`).
pub fn replayed_response(status: u16, body: &serde_json::Value) -> Response<Body> {
    let mut response = json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
    response.headers_mut().insert(
        "idempotent-replayed",
        header::HeaderValue::from_static("true"),
    );
    response
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
