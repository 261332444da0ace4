//! The ScrapeCreators HTTP client: one per container, reused across invocations.

use std::time::Duration;

use serde::de::DeserializeOwned;

use shared::config::CreatorApiConfig;

/// Why a call to the creator API failed, classified by what the pipeline should do about it.
#[derive(Debug, thiserror::Error)]
pub enum ApiCallError {
    /// 429: retry later.
    #[error("rate limited by the creator API")]
    RateLimited,
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
            Self::RateLimited | Self::Server(_) | Self::Network(_) | Self::Malformed(_)
        )
    }

    /// What a user is told when this error ends their search.
    pub fn user_message(&self) -> &'static str {
        match self {
            Self::RateLimited => "The creator search service is over capacity right now. We retried several times; please start the search again in a few minutes.",
            Self::Server(_) | Self::Network(_) | Self::Malformed(_) => "The creator search service did not answer correctly after several attempts. Please start the search again later.",
            Self::Unauthorized(_) => "The creator search service rejected our credentials. Our team has been alerted; please try again later.",
            Self::NotFound | Self::Rejected(_) => "The creator search service could not process this search.",
        }
    }
}

/// Client of the creator API. Every call that reaches the API is a paid credit; each client
/// counts its own ([`CreatorApi::metered`] gives one step its own count).
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

    /// Calls that reached the API through this client (answered or not: a timeout after the
    /// request was sent may have been billed). A connection that was never made is not counted.
    pub fn calls(&self) -> u32 {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Takes `n` calls off the count once they are charged (committed), so that what is left is
    /// what a later failure still has to charge.
    pub fn settle(&self, n: u32) {
        self.calls.fetch_sub(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// `GET {base}{path}?{query}`, parsed as `T`.
    #[tracing::instrument(skip(self), err(level = "warn"))]
    pub async fn get<T: DeserializeOwned>(
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
        if !matches!(&sent, Err(e) if e.is_connect()) {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        let response = sent.map_err(|e| ApiCallError::Network(without_url(e)))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => {}
            401 | 403 => return Err(ApiCallError::Unauthorized(status)),
            404 => return Err(ApiCallError::NotFound),
            429 => return Err(ApiCallError::RateLimited),
            500..=599 => return Err(ApiCallError::Server(status)),
            _ => return Err(ApiCallError::Rejected(status)),
        }
        let bytes = read_capped(response, MAX_ANSWER_BYTES).await?;
        serde_json::from_slice(&bytes).map_err(|e| ApiCallError::Malformed(e.to_string()))
    }
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
