//! The local gateway on a loopback port (real HTTP, real JWT check) over the database and queue a
//! test gives it, and a client holding tokens for two users.
//!
//! Shared by the contract and the reliability tests.

use std::{sync::Arc, time::Duration};

use local::{app::App, auth::Auth};
use pipeline::creator_api::CreatorApi;
use serde_json::Value;
use shared::config::Config;
use testkit::{Replay, TestQueue};

/// The users the tokens are minted for; `user_a` is an admin (`ADMIN_USER_IDS`).
pub const USER_A: &str = "user_a";
pub const USER_B: &str = "user_b";

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    /// Bearer tokens of `USER_A` and `USER_B`.
    pub a: String,
    pub b: String,
    pub app: Arc<App>,
}

/// Serves the gateway over `pool` (a database at `db_url`), `queue`, and the creator API `replay`.
pub async fn serve(db_url: &str, pool: db::Pool, queue: &TestQueue, replay: &Replay) -> Api {
    let config = Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(db_url.to_owned()),
        "SCRAPECREATORS_BASE_URL" => Some(replay.base_url().to_owned()),
        "ADMIN_USER_IDS" => Some(USER_A.to_owned()),
        _ => None,
    })
    .unwrap();
    let api = CreatorApi::new(&config.creator_api, "k").unwrap();
    let app = App::new(&config, pool, queue.queue(), None, api);
    let auth = Auth::new(b"local-tests");
    let (a, b) = (auth.mint(USER_A, 1).unwrap(), auth.mint(USER_B, 1).unwrap());
    let router = local::gateway::router(Arc::clone(&app), auth);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Api {
        base,
        http: shared::tls::http_client().unwrap().build().unwrap(),
        a,
        b,
        app,
    }
}

/// What the gateway answered.
pub struct Reply {
    pub status: u16,
    /// The media type, without parameters (`text/csv`, not `text/csv; charset=utf-8`).
    pub media_type: String,
    pub text: String,
}

impl Api {
    /// Sends `body` (with its `content_type`) to `path`, as the bearer of `token` if any.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .timeout(Duration::from_secs(10));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let media_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_owned();
        Reply {
            status: res.status().as_u16(),
            media_type,
            text: res.text().await.unwrap(),
        }
    }

    /// [`request`](Self::request) as `token`'s bearer: the status and the body's text.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (u16, String) {
        let reply = self
            .request(method, path, Some(token), content_type, body)
            .await;
        (reply.status, reply.text)
    }

    /// Sends `body` as JSON; the status and the body parsed (`null` when it is not JSON).
    pub async fn json(&self, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
        let (status, text) = self
            .send(
                method,
                path,
                token,
                Some("application/json"),
                Some(body.to_string().into_bytes()),
            )
            .await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}
