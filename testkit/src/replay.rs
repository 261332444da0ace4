//! A creator-API server on loopback that answers with the recorded real exchanges in
//! `fixtures/scrapecreators/`, 404 for anything not recorded, and injected faults on demand.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::Response,
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Query parameters that select a recorded answer; others (such as `region`) do not.
const KEY_PARAMS: &[&str] = &["query", "cursor", "handle", "continuationToken"];

type Key = (String, BTreeMap<String, String>);

#[derive(Deserialize)]
struct Exchange {
    request: RecordedRequest,
    response: RecordedResponse,
}

#[derive(Deserialize)]
struct RecordedRequest {
    path: String,
    #[serde(default)]
    query: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RecordedResponse {
    status: u16,
    body: Box<RawValue>,
}

/// A recorded answer.
#[derive(Clone)]
pub struct Recorded {
    pub status: u16,
    pub body: Arc<[u8]>,
}

/// The directory of the recorded exchanges shipped with the repository.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scrapecreators")
}

/// Reads every exchange under `dir` (one JSON file each). Where several files record the same
/// request (YouTube's first-page samples), the first by file name answers.
pub fn load(dir: &Path) -> std::io::Result<HashMap<Key, Recorded>> {
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(json_files(&path)?);
        }
    }
    parse_files(files)
}

fn json_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for f in std::fs::read_dir(dir)? {
        let f = f?.path();
        if f.extension().is_some_and(|e| e == "json") {
            files.push(f);
        }
    }
    Ok(files)
}

fn load_dir_files(dir: &Path) -> std::io::Result<HashMap<Key, Recorded>> {
    parse_files(json_files(dir)?)
}

fn parse_files(mut files: Vec<PathBuf>) -> std::io::Result<HashMap<Key, Recorded>> {
    files.sort();
    let mut map = HashMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let exchange: Exchange = serde_json::from_str(&text)
            .map_err(|e| std::io::Error::other(format!("{}: {e}", file.display())))?;
        let key = key(&exchange.request.path, exchange.request.query.into_iter());
        map.entry(key).or_insert_with(|| Recorded {
            status: exchange.response.status,
            body: Arc::from(exchange.response.body.get().as_bytes()),
        });
    }
    Ok(map)
}

fn key(path: &str, query: impl Iterator<Item = (String, String)>) -> Key {
    (
        path.to_owned(),
        query
            .filter(|(k, _)| KEY_PARAMS.contains(&k.as_str()))
            .collect(),
    )
}

fn shared_fixtures() -> Arc<HashMap<Key, Recorded>> {
    static FIXTURES: OnceLock<Arc<HashMap<Key, Recorded>>> = OnceLock::new();
    FIXTURES
        .get_or_init(|| Arc::new(load(&fixtures_dir()).expect("the recorded fixtures load")))
        .clone()
}

/// A failure to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status with a JSON error body.
    Status(u16),
    /// Answer 200 with a body that is not JSON.
    Malformed,
    /// Wait this long, then answer normally.
    Delay(Duration),
}

#[derive(Default)]
struct Inner {
    faults: HashMap<String, VecDeque<Fault>>,
    log: Vec<(String, BTreeMap<String, String>, u16)>,
}

struct ReplayState {
    exchanges: Arc<HashMap<Key, Recorded>>,
    api_key: Option<String>,
    inner: Mutex<Inner>,
}

/// The running replay server; stops when dropped.
pub struct Replay {
    base_url: String,
    state: Arc<ReplayState>,
    task: tokio::task::JoinHandle<()>,
}

impl Replay {
    /// Serves the repository's recorded exchanges on a free loopback port.
    pub async fn start() -> Self {
        Self::serve(shared_fixtures(), None, "127.0.0.1:0").await
    }

    /// Serves `exchanges`; with `api_key`, any other key gets the API's 401.
    pub async fn serve(
        exchanges: Arc<HashMap<Key, Recorded>>,
        api_key: Option<String>,
        addr: &str,
    ) -> Self {
        let state = Arc::new(ReplayState {
            exchanges,
            api_key,
            inner: Mutex::default(),
        });
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the replay server");
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

    /// The recordings plus the documented-shape exchanges of `fixtures/documented/` (see its
    /// README): private and deactivated TikTok accounts, a YouTube channel.
    pub async fn start_with_documented() -> Self {
        let mut all = (*shared_fixtures()).clone();
        let documented_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        for (k, v) in
            load_dir_files(&documented_dir.join("documented")).expect("documented exchanges load")
        {
            all.insert(k, v);
        }
        Self::serve(Arc::new(all), None, "127.0.0.1:0").await
    }

    /// A replay that accepts only this API key (others get 401, as the real API answers).
    pub async fn start_with_key(api_key: &str) -> Self {
        Self::serve(shared_fixtures(), Some(api_key.to_owned()), "127.0.0.1:0").await
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The next `times` requests to `path` get `fault`.
    pub fn inject(&self, path: &str, fault: Fault, times: usize) {
        let mut inner = self.state.inner.lock().unwrap();
        let queue = inner.faults.entry(path.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// How many requests were made to `path`.
    pub fn calls(&self, path: &str) -> usize {
        self.state
            .inner
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(p, _, _)| p == path)
            .count()
    }

    /// Every request so far: path, query, status answered.
    pub fn log(&self) -> Vec<(String, BTreeMap<String, String>, u16)> {
        self.state.inner.lock().unwrap().log.clone()
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn json(status: u16, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(body.into())
        .expect("a valid response")
}

async fn answer(State(state): State<Arc<ReplayState>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let query: BTreeMap<String, String> = uri.query().map(url_decode_pairs).unwrap_or_default();
    // Logged on arrival, so a request whose client gave up (a timeout) still counts.
    let (fault, index) = {
        let mut inner = state.inner.lock().unwrap();
        let fault = inner.faults.get_mut(&path).and_then(VecDeque::pop_front);
        inner.log.push((path.clone(), query.clone(), 0));
        (fault, inner.log.len() - 1)
    };
    let response = match fault {
        Some(Fault::Status(code)) => json(
            code,
            format!(r#"{{"success":false,"message":"injected {code}"}}"#),
        ),
        Some(Fault::Malformed) => json(200, "{\"search_item_list\": [{\"aweme_info\": "),
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            lookup(&state, &path, &query, &headers)
        }
        None => lookup(&state, &path, &query, &headers),
    };
    state.inner.lock().unwrap().log[index].2 = response.status().as_u16();
    response
}

fn lookup(
    state: &ReplayState,
    path: &str,
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    if let Some(expected) = &state.api_key {
        let given = headers.get("x-api-key").and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            return json(401, r#"{"success":false,"message":"Invalid API key"}"#);
        }
    }
    let key = key(path, query.clone().into_iter());
    match state.exchanges.get(&key) {
        Some(recorded) => json(recorded.status, Body::from(recorded.body.to_vec())),
        None => json(404, r#"{"success":false,"message":"not recorded"}"#),
    }
}

fn url_decode_pairs(query: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}
