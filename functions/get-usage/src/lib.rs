//! `GET /usage` — the caller's plan, trial, subscription, credits of the billing period and
//! running searches against their limits. Works for expired trials too.

use api::usage;
use lambda_http::{http::StatusCode, Body, Request, Response};

pub async fn handler(state: &usage::State, req: Request) -> Response<Body> {
    api::respond(req, |user, _| async move {
        let usage = usage::usage(state, &user).await?;
        Ok(api::json_response(StatusCode::OK, &usage))
    })
    .await
}
