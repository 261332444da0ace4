//! A local implementation of the Lambda Runtime API (`/2018-06-01/runtime/...`), so the real
//! compiled function binaries can be run and fed events as Lambda (and `sam local invoke`) would,
//! without Docker.
//!
//! The tests run the binaries under AWS's own emulator instead (`rie`, the RIE), the closer copy
//! of Lambda. The benchmarks (`bench`) keep this one, because it measures what they report and
//! nothing else: it notes when a function first polls `/next` (the end of its cold start; the
//! RIE starts the function only on the first invocation and reports just its own Init
//! Duration), the function is its child (peak RSS read from /proc), and a warm invocation is the
//! two loopback exchanges Lambda's API costs, with no emulator process in between (and none of
//! `Rie::invoke`'s 100 ms wait for log lines). It needs no install either (the RIE ships in
//! aws-sam-cli), and the cold-start figures in `BENCHMARKS.md`, compared across commits, are all
//! taken under it: moving the bench to the RIE would change them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Mutex as AsyncMutex};

/// What an invocation ended with.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    Response(Value),
    Error(Value),
}

/// What an invocation ended with, as the bytes the function posted (the Runtime API, like
/// Lambda's, passes them on without parsing).
#[derive(Debug, Clone, PartialEq)]
pub enum RawInvocation {
    Response(Bytes),
    Error(Bytes),
}

impl RawInvocation {
    /// The answer as JSON (a body that is not JSON becomes a JSON string).
    pub fn parse(&self) -> Invocation {
        match self {
            Self::Response(body) => Invocation::Response(json_or_text(body)),
            Self::Error(body) => Invocation::Error(json_or_text(body)),
        }
    }
}

type Pending = (String, Bytes);

#[derive(Default)]
struct Shared {
    waiting: HashMap<String, oneshot::Sender<RawInvocation>>,
    first_poll: Option<Instant>,
    init_error: Option<Value>,
    polled: Arc<tokio::sync::Notify>,
}

#[derive(Clone)]
struct ApiState {
    shared: Arc<Mutex<Shared>>,
    queue: Arc<AsyncMutex<mpsc::UnboundedReceiver<Pending>>>,
}

/// The running Runtime API; stops when dropped.
pub struct RuntimeApi {
    pub addr: std::net::SocketAddr,
    sender: mpsc::UnboundedSender<Pending>,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared: Arc<Mutex<Shared>> = Arc::default();
        let state = ApiState {
            shared: shared.clone(),
            queue: Arc::new(AsyncMutex::new(receiver)),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the runtime API");
        let addr = listener.local_addr().expect("an address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            sender,
            shared,
            task,
        }
    }

    /// The value for the function's `AWS_LAMBDA_RUNTIME_API`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `event` for the next `/next` poll and waits for the function's answer.
    pub async fn invoke(&self, event: Value) -> Invocation {
        self.invoke_raw(event.to_string().into()).await.parse()
    }

    /// [`invoke`](Self::invoke) with the event already serialised, answered with the bytes the
    /// function posted: what Lambda's Runtime API does, with no JSON work of its own.
    pub async fn invoke_raw(&self, event: Bytes) -> RawInvocation {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.shared.lock().unwrap().waiting.insert(id.clone(), tx);
        self.sender
            .send((id, event))
            .expect("the runtime API is running");
        rx.await.expect("the invocation is answered")
    }

    /// When the function first asked for an event: the end of its cold start.
    pub fn first_poll(&self) -> Option<Instant> {
        self.shared.lock().unwrap().first_poll
    }

    /// Waits for the function's first `/next` poll and returns when it came.
    pub async fn wait_first_poll(&self) -> Instant {
        loop {
            let notify = {
                let shared = self.shared.lock().unwrap();
                if let Some(at) = shared.first_poll {
                    return at;
                }
                shared.polled.clone()
            };
            let notified = notify.notified();
            if let Some(at) = self.first_poll() {
                return at;
            }
            let _ = tokio::time::timeout(std::time::Duration::from_millis(5), notified).await;
        }
    }

    /// What the function reported if its initialisation failed.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.lock().unwrap().init_error.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn next(State(state): State<ApiState>) -> Response {
    let polled = {
        let mut shared = state.shared.lock().unwrap();
        shared.first_poll.get_or_insert_with(Instant::now);
        shared.polled.clone()
    };
    polled.notify_waiters();
    let Some((id, event)) = state.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = chrono::Utc::now().timestamp_millis() + 60_000;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).expect("a header value"));
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:local".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
    );
    set("content-type", "application/json".into());
    (headers, event).into_response()
}

fn finish(state: &ApiState, id: &str, outcome: RawInvocation) -> StatusCode {
    match state.shared.lock().unwrap().waiting.remove(id) {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

fn json_or_text(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&state, &id, RawInvocation::Response(body))
}

async fn error(State(state): State<ApiState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&state, &id, RawInvocation::Error(body))
}

async fn init_error(State(state): State<ApiState>, body: Bytes) -> StatusCode {
    state.shared.lock().unwrap().init_error = Some(json_or_text(&body));
    StatusCode::ACCEPTED
}

/// The environment Lambda gives a function, for a binary run under [`RuntimeApi`].
pub fn lambda_env(function: &str, runtime_api: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_owned()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Where the compiled function binaries are: `GEMZ_BIN_DIR`, else `target/debug` of this
/// workspace (or of `CARGO_TARGET_DIR`).
pub fn bin_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("GEMZ_BIN_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug")
}

/// Starts the compiled `function` under `api`, with Lambda's environment plus `env`.
pub fn spawn_function(
    bin_dir: &std::path::Path,
    function: &str,
    api: &RuntimeApi,
    env: &[(String, String)],
) -> std::io::Result<tokio::process::Child> {
    let path = bin_dir.join(function);
    if !path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{} is not built: run `cargo build --workspace --bins` first",
                path.display()
            ),
        ));
    }
    tokio::process::Command::new(path)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(lambda_env(function, &api.endpoint()))
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
}
