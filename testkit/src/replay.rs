//! A creator-API server on loopback that answers with the recorded real exchanges in
//! `fixtures/scrapecreators/`, 404 for anything not recorded, and injected faults on demand,
//! including a per-key rate limit: `429` with `Retry-After: 1` to any call arriving while a given
//! number are in flight ([`Replay::refuse_above`]), with counts of calls served and refused.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
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

/// The answer body of one recorded exchange (`file`, relative to [`fixtures_dir`]), read as `T`.
pub fn recorded_body<T: serde::de::DeserializeOwned>(file: &str) -> T {
    let path = fixtures_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let exchange: serde_json::Value = serde_json::from_str(&text).expect("a recorded exchange");
    serde_json::from_value(exchange["response"]["body"].clone()).expect("a recorded answer body")
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
    /// Answer this status with a JSON error body (429: with `Retry-After: 1`, as the API does).
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
    options: ReplayOptions,
    limit: RateLimit,
}

/// The API's rate limit per key: calls arriving while `max_in_flight` are being answered are
/// refused (0: no limit).
#[derive(Default)]
struct RateLimit {
    max_in_flight: AtomicUsize,
    in_flight: AtomicUsize,
    served: AtomicUsize,
    refused: AtomicUsize,
}

/// One call being answered under the rate limit; it leaves the count when dropped, also when
/// its client gave up mid-answer.
struct InFlight<'a>(&'a RateLimit);

impl RateLimit {
    /// A place among the calls in flight, or `None`: the call is refused.
    fn admit(&self) -> Option<InFlight<'_>> {
        let max = self.max_in_flight.load(Ordering::SeqCst);
        let admitted = self
            .in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (max == 0 || n < max).then_some(n + 1)
            })
            .is_ok();
        if admitted {
            self.served.fetch_add(1, Ordering::SeqCst);
            Some(InFlight(self))
        } else {
            self.refused.fetch_add(1, Ordering::SeqCst);
            None
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long the real API takes to answer one endpoint: `base` plus up to `jitter`.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub base: Duration,
    pub jitter: Duration,
}

/// Per-endpoint latency, so that timings mean what they would against the real API.
#[derive(Debug, Clone)]
pub struct LatencyModel {
    /// Path prefix and its latency; the first that matches applies.
    pub endpoints: Vec<(String, Latency)>,
    pub default: Latency,
}

impl LatencyModel {
    /// The original application's logs: search pages 1.4-2.9 s (median about 1.8 s), profile and
    /// channel look-ups about 1 s.
    pub fn creator_api() -> Self {
        let ms = Duration::from_millis;
        Self {
            endpoints: vec![
                (
                    "/v1/tiktok/search".into(),
                    Latency {
                        base: ms(1_500),
                        jitter: ms(600),
                    },
                ),
                (
                    "/v1/youtube/search".into(),
                    Latency {
                        base: ms(1_500),
                        jitter: ms(600),
                    },
                ),
            ],
            default: Latency {
                base: ms(800),
                jitter: ms(400),
            },
        }
    }

    fn delay(&self, path: &str, n: usize) -> Duration {
        let latency = self
            .endpoints
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map_or(self.default, |(_, l)| *l);
        // A fixed sequence, so two runs see the same delays.
        let spread = (n.wrapping_mul(2_654_435_761) % 1_000) as u32;
        latency.base + latency.jitter * spread / 1_000
    }
}

/// What a replay adds to the recordings.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    pub latency: Option<LatencyModel>,
    /// TikTok keyword searches go this many pages deep: pages past the recorded ones repeat them
    /// with distinct authors (`handle_g2` for the second round, ...), so a 1,000-creator search
    /// can run; the look-up of such an author answers its original's profile.
    pub deep_pages: Option<u64>,
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
        Self::serve_with(exchanges, api_key, addr, ReplayOptions::default()).await
    }

    /// The recordings with a latency model and deep keyword searches (see [`ReplayOptions`]).
    pub async fn start_with(options: ReplayOptions) -> Self {
        Self::serve_with(shared_fixtures(), None, "127.0.0.1:0", options).await
    }

    async fn serve_with(
        exchanges: Arc<HashMap<Key, Recorded>>,
        api_key: Option<String>,
        addr: &str,
        options: ReplayOptions,
    ) -> Self {
        let state = Arc::new(ReplayState {
            exchanges,
            api_key,
            inner: Mutex::default(),
            options,
            limit: RateLimit::default(),
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

    /// From now on, answers `429 Too Many Requests` with `Retry-After: 1` (at once, without the
    /// latency) to any call that arrives while `max_in_flight` calls are being answered, as an API
    /// rate-limited per key does; 0 lifts the limit.
    pub fn refuse_above(&self, max_in_flight: usize) {
        self.state
            .limit
            .max_in_flight
            .store(max_in_flight, Ordering::SeqCst);
    }

    /// Calls answered other than by a refusal of [`Self::refuse_above`] (what the API bills,
    /// but for injected faults).
    pub fn served(&self) -> usize {
        self.state.limit.served.load(Ordering::SeqCst)
    }

    /// Calls refused by [`Self::refuse_above`].
    pub fn refused(&self) -> usize {
        self.state.limit.refused.load(Ordering::SeqCst)
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
    let Some(_in_flight) = state.limit.admit() else {
        state.inner.lock().unwrap().log[index].2 = 429;
        return refusal();
    };
    if let Some(model) = &state.options.latency {
        tokio::time::sleep(model.delay(&path, index)).await;
    }
    let response = match fault {
        Some(Fault::Status(429)) => refusal(),
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

/// The API's answer to a call over its rate limit.
fn refusal() -> Response {
    Response::builder()
        .status(StatusCode::TOO_MANY_REQUESTS)
        .header("content-type", "application/json")
        .header("retry-after", "1")
        .body(Body::from(
            r#"{"success":false,"message":"Too many requests in flight for this API key"}"#,
        ))
        .expect("a valid response")
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
    if let Some(pages) = state.options.deep_pages {
        if let Some(answer) = deep(state, path, query, pages) {
            return answer;
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

/// A deep keyword page, or the original profile of a deep page's author (see [`ReplayOptions`]).
fn deep(
    state: &ReplayState,
    path: &str,
    query: &BTreeMap<String, String>,
    pages: u64,
) -> Option<Response> {
    const PAGE: u64 = 30;
    if path == "/v1/tiktok/profile" {
        let handle = query.get("handle")?;
        let (original, round) = handle.rsplit_once("_g")?;
        round.parse::<u64>().ok()?;
        let mut q = query.clone();
        q.insert("handle".into(), original.to_owned());
        let recorded = state.exchanges.get(&key(path, q.into_iter()))?;
        return Some(json(recorded.status, Body::from(recorded.body.to_vec())));
    }
    if path != "/v1/tiktok/search/keyword" {
        return None;
    }
    let keyword = query.get("query")?;
    let cursor: u64 = query
        .get("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let page = cursor / PAGE;
    // The recorded pages of this keyword that hold videos.
    let recorded: Vec<&Recorded> = (0..)
        .map(|n: u64| {
            let mut q = BTreeMap::new();
            q.insert("query".to_owned(), keyword.clone());
            q.insert("cursor".to_owned(), (n * PAGE).to_string());
            state.exchanges.get(&key(path, q.into_iter()))
        })
        .take_while(Option::is_some)
        .flatten()
        .filter(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|v| v["search_item_list"].as_array().map(|a| !a.is_empty()))
                .unwrap_or(false)
        })
        .collect();
    if recorded.is_empty() {
        return None;
    }
    let base = recorded[(page % recorded.len() as u64) as usize];
    let round = page / recorded.len() as u64;
    let mut body: serde_json::Value = serde_json::from_slice(&base.body).ok()?;
    if round > 0 {
        for item in body["search_item_list"].as_array_mut()? {
            if let Some(id) = item["aweme_info"]["author"]["unique_id"].as_str() {
                let distinct = format!("{id}_g{round}");
                item["aweme_info"]["author"]["unique_id"] = serde_json::Value::String(distinct);
            }
        }
    }
    let more = page + 1 < pages;
    body["has_more"] = serde_json::json!(u8::from(more));
    body["cursor"] = serde_json::json!(cursor + PAGE);
    Some(json(200, Body::from(body.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(base: &str, path_and_query: &str) -> serde_json::Value {
        let http = shared::tls::http_client().unwrap().build().unwrap();
        http.get(format!("{base}{path_and_query}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn authors(page: &serde_json::Value) -> Vec<String> {
        page["search_item_list"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| {
                i["aweme_info"]["author"]["unique_id"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }

    #[tokio::test]
    async fn deep_keyword_searches_repeat_the_recorded_pages_with_distinct_authors() {
        let replay = Replay::start_with(ReplayOptions {
            latency: None,
            deep_pages: Some(12),
        })
        .await;
        let base = replay.base_url().to_owned();
        let first = get(
            &base,
            "/v1/tiktok/search/keyword?query=airpods%20pro&cursor=0",
        )
        .await;
        let later = get(
            &base,
            "/v1/tiktok/search/keyword?query=airpods%20pro&cursor=240",
        )
        .await;
        assert_eq!(later["has_more"], 1);
        assert_eq!(later["cursor"], 270);
        let (a, b) = (authors(&first), authors(&later));
        assert!(!a.is_empty());
        assert_eq!(b, a.iter().map(|h| format!("{h}_g2")).collect::<Vec<_>>());
        let last = get(
            &base,
            "/v1/tiktok/search/keyword?query=airpods%20pro&cursor=330",
        )
        .await;
        assert_eq!(last["has_more"], 0, "twelve pages deep");
        // A deep author's look-up answers the original's profile, as recorded.
        let original = get(&base, "/v1/tiktok/profile?handle=stoolpresidente").await;
        let deep = get(&base, "/v1/tiktok/profile?handle=stoolpresidente_g3").await;
        assert_eq!(original, deep);
    }

    #[tokio::test]
    async fn calls_past_the_limit_in_flight_are_refused_with_retry_after_and_counted() {
        let replay = Replay::start_with(ReplayOptions {
            latency: Some(LatencyModel {
                endpoints: Vec::new(),
                default: Latency {
                    base: Duration::from_millis(300),
                    jitter: Duration::ZERO,
                },
            }),
            deep_pages: None,
        })
        .await;
        replay.refuse_above(2);
        let http = shared::tls::http_client().unwrap().build().unwrap();
        let url = format!(
            "{}/v1/tiktok/profile?handle=stoolpresidente",
            replay.base_url()
        );
        let calls: Vec<_> = (0..5)
            .map(|_| {
                let (http, url) = (http.clone(), url.clone());
                tokio::spawn(async move {
                    let answer = http.get(&url).send().await.unwrap();
                    let retry_after = answer.headers().get("retry-after").cloned();
                    (answer.status().as_u16(), retry_after)
                })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.unwrap());
        }
        answers.sort_by_key(|(status, _)| *status);
        let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
        assert_eq!(statuses, [200, 200, 429, 429, 429]);
        assert_eq!(answers[4].1.as_ref().unwrap(), "1", "Retry-After: 1");
        assert_eq!((replay.served(), replay.refused()), (2, 3));
        // Once the calls in flight are answered, the next one is served.
        let later = http.get(&url).send().await.unwrap();
        assert_eq!(later.status(), 200);
        assert_eq!((replay.served(), replay.refused()), (3, 3));
    }

    #[test]
    fn the_latency_model_spreads_delays_within_each_endpoints_bounds() {
        let model = LatencyModel::creator_api();
        for n in 0..200 {
            let search = model.delay("/v1/tiktok/search/keyword", n);
            assert!((1_500..=2_100).contains(&search.as_millis()), "{search:?}");
            let lookup = model.delay("/v1/tiktok/profile", n);
            assert!((800..=1_200).contains(&lookup.as_millis()), "{lookup:?}");
        }
    }
}
