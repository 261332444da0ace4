//! SES v2 in moto's server (the same server as the SQS emulator): the verified sending identity,
//! what was sent (moto's `/moto-api/data.json`), and a proxy in front of it that answers chosen
//! requests with the provider's errors (throttling, a server error, a refusal).

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, response::IntoResponse};
use email::ses::Ses;
use serde_json::Value;

/// The tests' verified sending domain and from-address.
pub const DOMAIN: &str = "gemz.test";
pub const FROM: &str = "Gemz <hello@gemz.test>";

/// moto's endpoint: `AWS_ENDPOINT_URL_SESV2`, else the SQS emulator's (one server speaks both).
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_SESV2")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL_SQS"))
        .expect(
            "AWS_ENDPOINT_URL_SQS is not set: run the tests with scripts/test, which starts moto",
        )
}

/// A sender through `endpoint`, from `from`.
pub fn ses(endpoint: &str, from: &str) -> Ses {
    Ses::with_endpoint(
        from,
        Some("gemz-test".into()),
        Duration::from_secs(5),
        Some(endpoint.to_owned()),
    )
}

/// Verifies `identity` (a domain or an address) in moto, as SES's console would.
pub async fn verify(identity: &str) {
    let answer = ses(&endpoint(), FROM)
        .client()
        .create_email_identity()
        .email_identity(identity)
        .send()
        .await;
    if let Err(e) = answer {
        // Verified by an earlier test: moto keeps one server for the whole run.
        let text = format!("{e:?}");
        assert!(text.contains("AlreadyExists"), "verify {identity}: {text}");
    }
}

/// An email moto accepted.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message_id: String,
    pub to: String,
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub list_unsubscribe: Option<String>,
    pub list_unsubscribe_post: Option<String>,
}

/// Every email moto accepted for `address`, oldest first.
pub async fn sent_to(address: &str) -> Vec<Sent> {
    let url = format!("{}/moto-api/data.json", endpoint().trim_end_matches('/'));
    // moto builds this document from every service's live objects; while other tests change
    // them it can fail (a 500 page), so a few attempts are made.
    let mut data = Value::Null;
    for attempt in 0..20 {
        let answer = http().get(&url).send().await.expect("moto's data");
        match answer.json::<Value>().await {
            Ok(value) => {
                data = value;
                break;
            }
            Err(_) if attempt < 19 => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("moto's data is not JSON: {e}"),
        }
    }
    data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["destinations"]
                .as_array()
                .is_some_and(|d| d.iter().any(|a| a == address))
        })
        .map(parse)
        .collect()
}

fn http() -> reqwest::Client {
    shared::tls::http_client()
        .and_then(|b| Ok(b.build()?))
        .expect("an HTTP client")
}

fn parse(message: &Value) -> Sent {
    let raw = message["raw_data"].as_str().unwrap_or_default();
    let parsed = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a MIME message");
    let header = |name: &str| parsed.header_raw(name).map(|v| v.trim().to_owned());
    Sent {
        message_id: message["id"].as_str().unwrap_or_default().to_owned(),
        to: parsed
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned(),
        kind: header("X-Gemz-Email").unwrap_or_default(),
        subject: parsed.subject().unwrap_or_default().to_owned(),
        text: parsed
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        html: parsed
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        list_unsubscribe: header("List-Unsubscribe"),
        list_unsubscribe_post: header("List-Unsubscribe-Post"),
    }
}

/// An error the proxy answers instead of forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SesFault {
    /// 429 `TooManyRequestsException`.
    Throttled,
    /// 503 with no known error code.
    Unavailable,
    /// 400 `MessageRejected`.
    Rejected,
}

struct ProxyState {
    upstream: String,
    faults: Mutex<VecDeque<SesFault>>,
    requests: AtomicUsize,
    http: reqwest::Client,
}

/// A proxy in front of moto that answers the next requests with queued faults, then forwards.
pub struct SesProxy {
    pub base_url: String,
    state: Arc<ProxyState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SesProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SesProxy {
    pub async fn start(faults: &[SesFault]) -> Self {
        let state = Arc::new(ProxyState {
            upstream: endpoint().trim_end_matches('/').to_owned(),
            faults: Mutex::new(faults.iter().copied().collect()),
            requests: AtomicUsize::new(0),
            http: http(),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SES proxy");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url,
            state,
            task,
        }
    }

    /// Requests received so far, faults included.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub fn push(&self, fault: SesFault) {
        self.state.faults.lock().unwrap().push_back(fault);
    }
}

async fn forward(
    State(state): State<Arc<ProxyState>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::http::StatusCode;
    state.requests.fetch_add(1, Ordering::SeqCst);
    let fault = state.faults.lock().unwrap().pop_front();
    let error = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            [
                ("x-amzn-errortype", code.to_owned()),
                ("content-type", "application/json".to_owned()),
            ],
            serde_json::json!({"message": message}).to_string(),
        )
            .into_response()
    };
    match fault {
        Some(SesFault::Throttled) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                "Maximum sending rate exceeded.",
            )
        }
        Some(SesFault::Unavailable) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "Service unavailable",
            )
        }
        Some(SesFault::Rejected) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MessageRejected",
                "Email address is on the suppression list.",
            )
        }
        None => {}
    }
    let mut request = state.http.request(
        method,
        format!(
            "{}{}",
            state.upstream,
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
        ),
    );
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = request.body(body).send().await.expect("moto answers");
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    let mut response = axum::response::Response::new(axum::body::Body::from(bytes));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}
