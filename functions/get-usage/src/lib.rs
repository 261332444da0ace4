//! `GET /usage` — the caller's plan, trial, subscription, credits of the billing period and
//! running searches against their limits. Works for expired trials too.

use lambda_http::{http::StatusCode, Body, Request, Response};
use shared::{http, usage};

pub async fn handler(state: &usage::State, req: Request) -> Response<Body> {
    http::respond(req, |user, _| async move {
        let usage = usage::usage(state, &user).await?;
        Ok(http::json_response(StatusCode::OK, &usage))
    })
    .await
}
