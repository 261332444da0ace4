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

mod error;
mod request;
mod respond;

pub mod admin;
pub mod usage;
pub mod views;

pub use error::{idempotency_key_reused, ApiError, FieldError, Result};
pub use request::{
    body_fingerprint, claim, email_claim, idempotency_key, json_body, path_param, path_uuid,
    query_int, user_id, verified_email, EmailClaim, MAX_BODY_BYTES,
};
pub use respond::{
    empty_response, json_response, replayed_response, respond, respond_export, respond_public,
    within_round_trip, EXPORT_DEADLINE, REQUEST_DEADLINE, ROUND_TRIP_DEADLINE,
};
