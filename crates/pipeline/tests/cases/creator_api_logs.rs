//! What the creator-API client logs about a failed call: the endpoint and the kind of failure,
//! never the user's search terms or handles (the query), and a warning only for failures that
//! need one (a 404 is an answer, a refusal is expected under the API's rate limit).

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use pipeline::creator_api::{ApiCallError, CreatorApi};
use shared::config::CreatorApiConfig;
use testkit::{Fault, Replay};

/// Every line logged while the guard lives, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn client(replay: &Replay) -> CreatorApi {
    let config = CreatorApiConfig {
        base_url: replay.base_url().to_owned(),
        api_key: Some("test-key".into()),
        timeout: Duration::from_secs(2),
    };
    CreatorApi::new(&config, "test-key").unwrap()
}

#[tokio::test]
async fn failed_calls_are_logged_without_the_search_terms_and_a_404_is_no_warning() {
    let replay = Replay::start().await;
    let api = client(&replay);
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let handle = "private-person-4711";
    let missing = api
        .get::<serde_json::Value>("/v1/tiktok/profile", &[("handle", handle)])
        .await;
    assert!(matches!(missing, Err(ApiCallError::NotFound)));
    replay.inject("/v1/tiktok/search/keyword", Fault::Status(503), 1);
    let terms = "secret launch codename";
    let failed = api
        .get::<serde_json::Value>(
            "/v1/tiktok/search/keyword",
            &[("query", terms), ("cursor", "0")],
        )
        .await;
    assert!(matches!(failed, Err(ApiCallError::Server(503))));
    replay.inject("/v1/tiktok/search/keyword", Fault::Status(429), 1);
    let refused = api
        .get::<serde_json::Value>("/v1/tiktok/search/keyword", &[("query", terms)])
        .await;
    assert_eq!(
        refused.unwrap_err().refused(),
        Some(Duration::from_secs(1)),
        "the API's Retry-After"
    );

    let text = logs.text();
    for secret in [handle, "private-person", "secret", "codename", "launch"] {
        assert!(!text.contains(secret), "{secret:?} logged:\n{text}");
    }
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "only the 503 warns:\n{text}");
    assert!(warnings[0].contains("/v1/tiktok/search/keyword"), "{text}");
    assert!(
        text.contains("/v1/tiktok/profile"),
        "the endpoint is named:\n{text}"
    );
    // Only answers the API bills are counted: the 404, not the 503 nor the refusal.
    assert_eq!(api.calls(), 1);
}
