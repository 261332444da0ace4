//! An HTTP proxy in front of a slow provider: every request is forwarded at once (the provider
//! acts on it, as SES accepts an email), and the answer is held for a fixed delay before it goes
//! back, as from a provider that answers slowly. A client that gives up meanwhile has still had
//! its request acted on. The next answers can also be replaced by chosen errors (the provider's
//! HTTP edge answering throttling or a spent quota), after which requests are forwarded again.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};

/// An error answered instead of forwarding: status, AWS error code (`x-amzn-errortype`), message.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Refusal {
    pub fn new(status: u16, code: &str, message: &str) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

struct Shared {
    upstream: String,
    delay: Mutex<Duration>,
    refusals: Mutex<VecDeque<Refusal>>,
    forwarded: AtomicUsize,
    refused: AtomicUsize,
    http: reqwest::Client,
}

/// The proxy; it stops when dropped.
pub struct DelayProxy {
    pub base_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DelayProxy {
    /// Listens on a free loopback port; forwards to `upstream` (`http://host:port`) and holds each
    /// answer for `delay`.
    pub async fn start(upstream: &str, delay: Duration) -> Self {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            delay: Mutex::new(delay),
            refusals: Mutex::new(VecDeque::new()),
            forwarded: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            http: shared::tls::http_client()
                .and_then(|b| Ok(b.build()?))
                .expect("an HTTP client"),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the delaying proxy");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url,
            shared,
            task,
        }
    }

    /// Answers the next requests with `refusals`, in order, before forwarding again.
    pub fn refuse_next(&self, refusals: impl IntoIterator<Item = Refusal>) {
        self.shared.refusals.lock().unwrap().extend(refusals);
    }

    pub fn set_delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Requests forwarded to the upstream so far.
    pub fn forwarded(&self) -> usize {
        self.shared.forwarded.load(Ordering::SeqCst)
    }

    /// Requests answered with a refusal so far.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = *shared.delay.lock().unwrap();
    let refusal = shared.refusals.lock().unwrap().pop_front();
    if let Some(refusal) = refusal {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(delay).await;
        return refused(&refusal);
    }
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = shared
        .http
        .request(method, format!("{}{path}", shared.upstream));
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    shared.forwarded.fetch_add(1, Ordering::SeqCst);
    // Forwarded at once, so the upstream acts on it even if the client stops waiting.
    let answer = request.body(body).send().await;
    tokio::time::sleep(delay).await;
    let Ok(answer) = answer else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

fn refused(refusal: &Refusal) -> Response {
    (
        StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST),
        [
            ("x-amzn-errortype", refusal.code.clone()),
            ("content-type", "application/json".to_owned()),
        ],
        serde_json::json!({ "message": refusal.message }).to_string(),
    )
        .into_response()
}
