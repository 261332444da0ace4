//! Start-up shared by every function's `main`: logs, configuration, and the Lambda runtime loop.

use std::{convert::Infallible, future::Future};

use lambda_http::{Body, Request, Response};

/// Runs an HTTP function: `state` is built once per container and lives as long as it, and each
/// invocation calls `handler(&state, request)`.
pub async fn serve_http<S, F, Fut>(state: S, handler: F) -> Result<(), lambda_http::Error>
where
    S: Sync + 'static,
    F: Fn(&'static S, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    // The state is needed for the container's whole life; leaking it gives handlers a plain
    // `&'static` reference instead of an `Arc` clone per invocation.
    let state: &'static S = Box::leak(Box::new(state));
    lambda_http::run(lambda_http::service_fn(move |req| {
        let response = handler(state, req);
        async move { Ok::<_, Infallible>(response.await) }
    }))
    .await
}

/// Logs, then the configuration with its secrets resolved; a bad configuration or an unreadable
/// secret fails the cold start with its message.
pub async fn init() -> anyhow::Result<crate::Config> {
    crate::telemetry::init();
    let mut config = crate::Config::from_env()
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    if let Some(id) = config.database_secret.clone() {
        config.database.url = secret(&id).await?;
    }
    if let Some(id) = config.api_key_secret.clone() {
        config.creator_api.api_key = Some(secret(&id).await?);
    }
    if let Some(id) = config.email_link_secret.clone() {
        config.email.link_secret = Some(secret(&id).await?);
    }
    Ok(config)
}

/// A Secrets Manager secret's string, read through the AWS Parameters and Secrets Lambda
/// Extension on localhost (no SDK, no TLS, and the value never sits in an environment variable).
pub async fn secret(id: &str) -> anyhow::Result<String> {
    use anyhow::Context as _;
    use http_body_util::BodyExt as _;
    let port: u16 = std::env::var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(2773);
    let token = std::env::var("AWS_SESSION_TOKEN").context("AWS_SESSION_TOKEN is not set")?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("secretId", id)
        .finish();
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .context("The Parameters and Secrets extension is not reachable")?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let request = hyper::Request::get(format!("/secretsmanager/get?{query}"))
        .header("host", "localhost")
        .header("X-Aws-Parameters-Secrets-Token", token)
        .body(http_body_util::Empty::<bytes::Bytes>::new())?;
    let response = sender
        .send_request(request)
        .await
        .with_context(|| format!("Failed to read secret {id}"))?;
    anyhow::ensure!(
        response.status().is_success(),
        "The secrets extension answered {} for {id}",
        response.status()
    );
    let body = response.into_body().collect().await?.to_bytes();
    let body: serde_json::Value =
        serde_json::from_slice(&body).context("Malformed secrets extension answer")?;
    body["SecretString"]
        .as_str()
        .map(|s| s.trim().to_owned())
        .with_context(|| format!("Secret {id} has no SecretString"))
}
