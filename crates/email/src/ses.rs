//! Amazon SES v2 (`SendEmail` with raw MIME content, so the reminders carry their
//! `List-Unsubscribe` headers), over the workspace's one HTTP client ([`aws_http`]).
//!
//! The SDK's own retries are off: a failed call is recorded on the email and, as its [`Failure`]
//! says, retried or deferred by a later run with backoff, so retries survive the invocation and
//! are bounded by `email.max_attempts` (see `send-emails`).

use std::{sync::Arc, time::Duration};

use tokio::time::Instant;

use aws_sdk_sesv2::{
    config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion},
    primitives::Blob,
    types::{Destination, EmailContent, RawMessage},
};
use mail_builder::{
    headers::{address::Address, raw::Raw, url::URL},
    MessageBuilder,
};

use super::render::Rendered;
use crate::failure::classify;
pub use crate::failure::{Disposition, Failure, SendError};
use crate::rate::RateCap;
pub use crate::rate::{rate_from_env, DEFAULT_RATE};
use domain::email::EmailKind;

/// One email, ready to send.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub kind: EmailKind,
    pub content: &'a Rendered,
    pub unsubscribe_url: Option<&'a str>,
}

/// The sender: an SES v2 client, the from-address and the configuration set.
#[derive(Clone, Debug)]
pub struct Ses {
    client: aws_sdk_sesv2::Client,
    from: String,
    configuration_set: Option<String>,
    timeout: Duration,
    rate: Arc<RateCap>,
}

/// `Name <address>` or a bare address, as `EMAIL_FROM` gives it.
fn split_address(from: &str) -> (Option<&str>, &str) {
    match from
        .trim()
        .strip_suffix('>')
        .and_then(|s| s.rsplit_once('<'))
    {
        Some((name, address)) => {
            let name = name.trim().trim_matches('"').trim();
            ((!name.is_empty()).then_some(name), address.trim())
        }
        None => (None, from.trim()),
    }
}

/// The MIME message: text and HTML alternatives, the unsubscribe headers of RFC 2369 and RFC 8058
/// for reminders, and the email's kind in `X-Gemz-Email` for logs and tests.
pub fn mime(from: &str, message: &Outgoing<'_>) -> std::io::Result<Vec<u8>> {
    let (name, address) = split_address(from);
    let from: Address<'_> = match name {
        Some(name) => (name, address).into(),
        None => address.into(),
    };
    let mut builder = MessageBuilder::new()
        .from(from)
        .to(message.to)
        .subject(message.content.subject.as_str())
        .header("X-Gemz-Email", Raw::new(message.kind.as_str()))
        .text_body(message.content.text.as_str())
        .html_body(message.content.html.as_str());
    if let Some(url) = message.unsubscribe_url {
        builder = builder.header("List-Unsubscribe", URL::new(url)).header(
            "List-Unsubscribe-Post",
            Raw::new("List-Unsubscribe=One-Click"),
        );
    }
    builder.write_to_vec()
}

impl Ses {
    /// A sender through `client`, whose calls are bounded by `timeout`.
    pub fn new(
        client: aws_sdk_sesv2::Client,
        from: impl Into<String>,
        configuration_set: Option<String>,
        timeout: Duration,
    ) -> Self {
        Self {
            client,
            from: from.into(),
            configuration_set,
            timeout,
            rate: Arc::new(RateCap::new(DEFAULT_RATE)),
        }
    }

    /// The same sender, capped at `per_second` calls (the default is [`DEFAULT_RATE`]).
    pub fn with_rate(mut self, per_second: f64) -> Self {
        self.rate = Arc::new(RateCap::new(per_second));
        self
    }

    /// The longest one call may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A client configured from the environment as Lambda provides it (`AWS_REGION`, the role's
    /// keys), `AWS_ENDPOINT_URL_SESV2` for an emulator; each call is bounded by `timeout`, and
    /// calls are capped at `SES_MAX_SEND_RATE` a second ([`rate_from_env`]).
    pub fn from_env(from: &str, configuration_set: Option<String>, timeout: Duration) -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_SESV2")
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .ok()
            .filter(|v| !v.is_empty());
        Self::with_endpoint(from, configuration_set, timeout, endpoint)
            .with_rate(rate_from_env().unwrap_or(DEFAULT_RATE))
    }

    /// As [`Ses::from_env`], with the endpoint given (an emulator, or a proxy in front of one).
    pub fn with_endpoint(
        from: &str,
        configuration_set: Option<String>,
        timeout: Duration,
        endpoint: Option<String>,
    ) -> Self {
        let mut config = aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(aws_http::client())
            .region(aws_http::region())
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_timeout(timeout)
                    .build(),
            );
        if let Some(credentials) = aws_http::credentials(endpoint.is_some()) {
            config = config.credentials_provider(credentials);
        }
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        Self::new(
            aws_sdk_sesv2::Client::from_conf(config.build()),
            from,
            configuration_set,
            timeout,
        )
    }

    pub fn client(&self) -> &aws_sdk_sesv2::Client {
        &self.client
    }

    /// Sends one email in its turn under the rate cap; the provider's message id on acceptance.
    pub async fn send(&self, message: &Outgoing<'_>) -> Result<String, SendError> {
        self.send_by(message, None).await
    }

    /// As [`Ses::send`], but only if the call, waited for in its turn and bounded by
    /// [`Ses::timeout`], ends by `end`; otherwise it is not started ([`Failure::NoTime`]).
    pub async fn send_by(
        &self,
        message: &Outgoing<'_>,
        end: Option<Instant>,
    ) -> Result<String, SendError> {
        let raw = mime(&self.from, message).map_err(|e| {
            SendError::new(
                Failure::Rejected,
                format!("could not build the message: {e}"),
            )
        })?;
        let latest_start = end.map(|end| end.checked_sub(self.timeout).unwrap_or(end));
        let Some(start) = self.rate.reserve(latest_start) else {
            return Err(SendError::new(
                Failure::NoTime,
                "the call could not end before the invocation",
            ));
        };
        tokio::time::sleep_until(start).await;
        let content = EmailContent::builder()
            .raw(
                RawMessage::builder()
                    .data(Blob::new(raw))
                    .build()
                    .map_err(|e| SendError::new(Failure::Rejected, e.to_string()))?,
            )
            .build();
        let call = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(message.to).build())
            .content(content)
            .set_configuration_set_name(self.configuration_set.clone())
            .send();
        // The SDK's operation timeout bounds the call; this bounds it even if that did not.
        let answer = tokio::time::timeout(self.timeout + Duration::from_millis(500), call)
            .await
            .map_err(|_| SendError::new(Failure::Unavailable, "SES did not answer in time"))?
            .map_err(classify)?;
        answer.message_id.ok_or_else(|| {
            SendError::new(Failure::Unavailable, "SES answered without a message id")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_from_address_splits_into_name_and_address() {
        assert_eq!(
            split_address("Gemz <hello@gemz.io>"),
            (Some("Gemz"), "hello@gemz.io")
        );
        assert_eq!(
            split_address("\"Gemz Team\" <a@b.c>"),
            (Some("Gemz Team"), "a@b.c")
        );
        assert_eq!(split_address(" a@b.c "), (None, "a@b.c"));
    }

    #[test]
    fn reminders_carry_the_one_click_unsubscribe_headers_and_the_welcome_does_not() {
        let content = Rendered {
            subject: "Finish setting up Gemz for Ünïcode".into(),
            text: "Hi".into(),
            html: "<p>Hi</p>".into(),
        };
        let reminder = Outgoing {
            to: "ada@example.com",
            kind: EmailKind::AbandonmentReminder,
            content: &content,
            unsubscribe_url: Some("https://api.example.com/email/unsubscribe?token=abc"),
        };
        let text = String::from_utf8(mime("Gemz <hello@gemz.io>", &reminder).unwrap()).unwrap();
        assert!(
            text.contains(
                "List-Unsubscribe: <https://api.example.com/email/unsubscribe?token=abc>"
            ),
            "{text}"
        );
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(text.contains("X-Gemz-Email: abandonment_reminder"));
        assert!(text.contains("multipart/alternative"));
        let welcome = Outgoing {
            kind: EmailKind::Welcome,
            unsubscribe_url: None,
            ..reminder
        };
        let text = String::from_utf8(mime("hello@gemz.io", &welcome).unwrap()).unwrap();
        assert!(!text.contains("List-Unsubscribe"));
    }
}
