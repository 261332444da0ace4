//! The AWS SDKs' HTTP client (SQS, SES), on reqwest: the same HTTP/1.1 and rustls-with-ring stack
//! as the creator API's client, instead of the SDK's own hyper client, which links an HTTP/2
//! implementation neither service needs (about 0.5 MB of every function that uses one).
//!
//! The reqwest client is built on the first request rather than with the SDK client, so a cold
//! start does not load root certificates for a service it may never call.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use aws_smithy_runtime_api::client::{
    http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
        SharedHttpConnector,
    },
    orchestrator::{HttpRequest, HttpResponse},
    result::ConnectorError,
    runtime_components::RuntimeComponents,
};
use aws_smithy_types::body::SdkBody;

/// The region Lambda runs in (`AWS_REGION`), for every SDK client.
pub fn region() -> aws_types::region::Region {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    aws_types::region::Region::new(region)
}

/// The execution role's keys as Lambda provides them (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), read directly: aws-config's provider chain and
/// its start-up probing stay out of cold starts. Without keys, an emulator (which checks no
/// signature, though the SDK signs every request) gets placeholder ones.
pub fn credentials(emulator: bool) -> Option<aws_credential_types::Credentials> {
    use aws_credential_types::Credentials;
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) => Some(Credentials::new(
            key,
            secret,
            var("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )),
        _ if emulator => Some(Credentials::new("local", "local", None, None, "emulator")),
        _ => None,
    }
}

/// Used when the SDK's settings name no connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The HTTP client to give an SDK's `Config::builder().http_client(..)`.
pub fn client() -> SharedHttpClient {
    SharedHttpClient::new(AwsHttpClient::default())
}

#[derive(Debug, Default)]
struct AwsHttpClient {
    http: Arc<OnceLock<reqwest::Client>>,
}

impl HttpClient for AwsHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            http: self.http.clone(),
            connect_timeout: settings.connect_timeout().unwrap_or(CONNECT_TIMEOUT),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct Connector {
    http: Arc<OnceLock<reqwest::Client>>,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
}

impl Connector {
    fn http(&self) -> Result<reqwest::Client, ConnectorError> {
        if let Some(http) = self.http.get() {
            return Ok(http.clone());
        }
        let built = shared::tls::http_client()
            .and_then(|builder| {
                Ok(builder
                    .connect_timeout(self.connect_timeout)
                    // Redirects are not part of the AWS protocols.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?)
            })
            .map_err(|e| ConnectorError::other(e.into(), None))?;
        Ok(self.http.get_or_init(|| built).clone())
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let http = http?;
            let (parts, body) = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(e.into()))?
                .into_parts();
            // SQS and SES requests are small documents held in memory; an S3 upload streams
            // its file.
            let body = match body.bytes() {
                Some(bytes) => reqwest::Body::from(bytes.to_vec()),
                None => reqwest::Body::wrap(body),
            };
            let mut request = http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body);
            if let Some(timeout) = read_timeout {
                request = request.timeout(timeout);
            }
            let response = request.send().await.map_err(connector_error)?;
            let mut answer = http::Response::new(SdkBody::empty());
            *answer.status_mut() = response.status();
            *answer.headers_mut() = response.headers().clone();
            let body = response.bytes().await.map_err(connector_error)?;
            *answer.body_mut() = SdkBody::from(body);
            HttpResponse::try_from(answer).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// Timeouts and I/O failures are both retried by the SDK; the distinction shows in its errors.
fn connector_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else {
        ConnectorError::io(e.into())
    }
}
