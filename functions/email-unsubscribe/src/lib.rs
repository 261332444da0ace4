//! `GET /email/unsubscribe?token=...` (the link in every reminder) and `POST` on the same address
//! (the one-click unsubscribe of RFC 8058 that mail clients send for `List-Unsubscribe-Post`).
//! Public: no login; the signed token is the proof, and names the one user it unsubscribes.
//! Answers a small HTML page; a missing, forged or altered token changes nothing and gets 400
//! (an HTML page for browsers, the JSON error otherwise).

use api::ApiError;
use db::emails;
use email::link::LinkSigner;
use lambda_http::{
    http::{header, StatusCode},
    Body, Request, RequestExt as _, Response,
};

/// Built once per container.
pub struct State {
    pub pool: db::Pool,
    pub links: LinkSigner,
}

pub async fn handler(state: &State, req: Request) -> Response<Body> {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    api::respond_public(req, |req| async move {
        let token = req
            .query_string_parameters_ref()
            .and_then(|q| q.first("token"))
            .unwrap_or_default()
            .to_owned();
        let Some((user, _list)) = state.links.verify(&token) else {
            tracing::warn!("an unsubscribe link that does not verify");
            if wants_html {
                return Ok(page(
                    StatusCode::BAD_REQUEST,
                    "This link is not valid",
                    "The unsubscribe link is incomplete or has been altered. Use the link of the latest email you received.",
                ));
            }
            return Err(ApiError::invalid(
                "token",
                "is not a valid unsubscribe token",
            ));
        };
        let client = state.pool.get().await?;
        let known = emails::unsubscribe_reminders(&client, &user).await?;
        tracing::info!(user_id = %user, known, "unsubscribed from reminders");
        Ok(page(
            StatusCode::OK,
            "You are unsubscribed",
            "You will receive no more reminder emails from Gemz. Emails about your account itself are not affected.",
        ))
    })
    .await
}

/// The page: static words only, nothing taken from the request.
fn page(status: StatusCode, title: &str, message: &str) -> Response<Body> {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title} - Gemz</title></head>\
         <body style=\"font-family:Helvetica,Arial,sans-serif;max-width:520px;margin:64px auto;padding:0 16px;color:#1d1d24\">\
         <h1 style=\"font-size:22px\">{title}</h1><p>{message}</p></body></html>"
    );
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(html))
        .expect("a static response is valid")
}
