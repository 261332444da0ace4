//! The ScrapeCreators HTTP client: one per container, reused across invocations.
//!
//! **What a call costs.** A credit is a call the API served: an answer (2xx, also when its body
//! turns out malformed) or a 404 ("no such account", "no results"), as credit-metered APIs of its
//! kind bill. A refusal (429), a server error (5xx) and a rejected key (401/403) cost nothing; a
//! call that never reached the API (no connection) costs nothing. A call that timed out or lost
//! its connection after the request was sent is counted: the API may well have served (and billed)
//! it, and the count must never be less than the bill.

use std::time::Duration;

use serde::de::DeserializeOwned;

use shared::config::CreatorApiConfig;

/// Why a call to the creator API failed, classified by what the pipeline should do about it.
#[derive(Debug, thiserror::Error)]
pub enum ApiCallError {
    /// 429: the API refused the call (too many at once); try again after `retry_after` (its
    /// `Retry-After`, when it gave one). Not billed.
    #[error("refused by the creator API (429)")]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx: retry later.
    #[error("creator API answered {0}")]
    Server(u16),
    /// Connection failure or timeout: retry later.
    #[error("creator API unreachable: {0}")]
    Network(String),
    /// A body that is not the JSON we expect: retry later (it is usually a truncated answer).
    #[error("creator API answered malformed JSON: {0}")]
    Malformed(String),
    /// 401/403: the API key is wrong; retrying cannot help.
    #[error("creator API rejected the API key ({0})")]
    Unauthorized(u16),
    /// 404: no such account or no results.
    #[error("creator API answered 404")]
    NotFound,
    /// Any other 4xx: our request is wrong; retrying cannot help.
    #[error("creator API rejected the request ({0})")]
    Rejected(u16),
}

impl ApiCallError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Server(_) | Self::Network(_) | Self::Malformed(_)
        )
    }

    /// The API refused the call (429): it was not served, and asks to be tried again later.
    pub fn refused(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => Some(
                retry_after
                    .unwrap_or(DEFAULT_RETRY_AFTER)
                    .max(MIN_RETRY_AFTER),
            ),
            _ => None,
        }
    }

    /// Whether the API served the call, so that it is billed (see the module's opening).
    fn billed(status: u16) -> bool {
        matches!(status, 200..=299 | 404)
    }

    /// What a user is told when this error ends their search.
    pub fn user_message(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "The creator search service is over capacity right now. We retried several times; please start the search again in a few minutes.",
            Self::Server(_) | Self::Network(_) | Self::Malformed(_) => "The creator search service did not answer correctly after several attempts. Please start the search again later.",
            Self::Unauthorized(_) => "The creator search service rejected our credentials. Our team has been alerted; please try again later.",
            Self::NotFound | Self::Rejected(_) => "The creator search service could not process this search.",
        }
    }
}

/// How long to wait after a refusal that names no `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(2);
/// The shortest wait after a refusal, whatever `Retry-After` says.
const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);
/// The longest `Retry-After` taken as given (an SQS message is delayed 15 minutes at most).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(900);

/// Client of the creator API. Every call the API bills (see the module's opening) is a paid
/// credit; each client counts its own ([`CreatorApi::metered`] gives one step its own count).
#[derive(Clone, Debug)]
pub struct CreatorApi {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    calls: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl CreatorApi {
    pub fn new(config: &CreatorApiConfig, api_key: &str) -> anyhow::Result<Self> {
        let http = shared::tls::http_client()?
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(5))
            // The API key travels in a header: a redirect could hand it to another host, and
            // the API has no reason to redirect. A 3xx is a rejected request.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent("gemz-serverless")
            .build()?;
        Ok(Self {
            http,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            calls: Default::default(),
        })
    }

    /// The same client with a count of its own, starting at zero.
    pub fn metered(&self) -> Self {
        Self {
            calls: Default::default(),
            ..self.clone()
        }
    }

    /// Calls through this client that the API bills: served answers and 404s, and calls whose
    /// outcome is unknown (a timeout after the request was sent). Refusals (429), server errors
    /// and calls that never reached the API are not counted.
    pub fn calls(&self) -> u32 {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Takes `n` calls off the count once they are charged (committed), so that what is left is
    /// what a later failure still has to charge.
    pub fn settle(&self, n: u32) {
        self.calls.fetch_sub(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// `GET {base}{path}?{query}`, parsed as `T`. The query carries the user's search terms and
    /// handles: it is never logged, nor is the URL.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiCallError> {
        let result = self.call(path, query).await;
        if let Err(e) = &result {
            log_failure(path, e);
        }
        result
    }

    async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiCallError> {
        let url = reqwest::Url::parse_with_params(&format!("{}{path}", self.base_url), query)
            .map_err(|e| ApiCallError::Network(format!("bad URL: {e}")))?;
        let sent = self
            .http
            .get(url)
            .header("x-api-key", &self.api_key)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                // Sent but not answered in time (or the connection dropped mid-call): the API may
                // have served it. A connection never made reached nothing.
                if !e.is_connect() {
                    self.count();
                }
                return Err(ApiCallError::Network(without_url(e)));
            }
        };
        let status = response.status().as_u16();
        if ApiCallError::billed(status) {
            self.count();
        }
        match status {
            200..=299 => {}
            401 | 403 => return Err(ApiCallError::Unauthorized(status)),
            404 => return Err(ApiCallError::NotFound),
            429 => {
                return Err(ApiCallError::RateLimited {
                    retry_after: retry_after(response.headers()),
                })
            }
            500..=599 => return Err(ApiCallError::Server(status)),
            _ => return Err(ApiCallError::Rejected(status)),
        }
        let bytes = read_capped(response, MAX_ANSWER_BYTES).await?;
        // The parser's message may quote the answer (a bio, a handle): only where it broke.
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiCallError::Malformed(format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }

    fn count(&self) {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A failed call, by the endpoint alone: a 404 is an answer ("no results"), a refusal is expected
/// under the API's rate limit, the rest is worth a warning.
fn log_failure(path: &str, e: &ApiCallError) {
    match e {
        ApiCallError::NotFound => tracing::debug!(path, "creator API answered 404"),
        ApiCallError::RateLimited { retry_after } => {
            tracing::info!(path, retry_after = ?retry_after, "creator API refused the call (429)")
        }
        other => tracing::warn!(path, error = %other, "creator API call failed"),
    }
}

/// A 429's `Retry-After` in seconds (the API's form; an HTTP date is not used by it), at most
/// [`MAX_RETRY_AFTER`].
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// The largest answer read: the recorded keyword pages are ~2.4 MB; an answer past this is a
/// fault (or an attack) and is not buffered.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// The body, refused once it passes `limit` bytes (announced or as read).
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ApiCallError> {
    let too_large = || ApiCallError::Malformed(format!("an answer over {limit} bytes"));
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ApiCallError::Network(without_url(e)))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's errors print the URL, which carries search terms; logs keep the kind only.
fn without_url(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    format!("{kind}: {}", e.without_url())
}
