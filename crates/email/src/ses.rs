//! Amazon SES v2 (`SendEmail` with raw MIME content, so the reminders carry their
//! `List-Unsubscribe` headers), over the workspace's one HTTP client ([`aws_http`]).
//!
//! The SDK's own retries are off: a transient failure (throttling, 5xx, a timeout) is recorded on
//! the email and retried by a later run with backoff, so retries survive the invocation and are
//! bounded by `email.max_attempts` (see `send-emails`).

use std::time::Duration;

use aws_sdk_sesv2::{
    config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion},
    error::{ProvideErrorMetadata, SdkError},
    operation::send_email::SendEmailError,
    primitives::Blob,
    types::{Destination, EmailContent, RawMessage},
};
use mail_builder::{
    headers::{address::Address, raw::Raw, url::URL},
    MessageBuilder,
};

use super::render::Rendered;
use domain::email::EmailKind;

/// A send the provider did not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt later: throttling, a server error, a timeout, a lost connection.
    #[error("{0}")]
    Transient(String),
    /// Will fail again: an unverified sender, a rejected message, a suspended account.
    #[error("{0}")]
    Permanent(String),
}

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
    pub fn new(
        client: aws_sdk_sesv2::Client,
        from: impl Into<String>,
        configuration_set: Option<String>,
    ) -> Self {
        Self {
            client,
            from: from.into(),
            configuration_set,
        }
    }

    /// A client configured from the environment as Lambda provides it (`AWS_REGION`, the role's
    /// keys), `AWS_ENDPOINT_URL_SESV2` for an emulator; each call is bounded by `timeout`.
    pub fn from_env(from: &str, configuration_set: Option<String>, timeout: Duration) -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_SESV2")
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .ok()
            .filter(|v| !v.is_empty());
        Self::with_endpoint(from, configuration_set, timeout, endpoint)
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
        )
    }

    pub fn client(&self) -> &aws_sdk_sesv2::Client {
        &self.client
    }

    /// Sends one email; the provider's message id on acceptance.
    pub async fn send(&self, message: &Outgoing<'_>) -> Result<String, SendError> {
        let raw = mime(&self.from, message)
            .map_err(|e| SendError::Permanent(format!("could not build the message: {e}")))?;
        let content = EmailContent::builder()
            .raw(
                RawMessage::builder()
                    .data(Blob::new(raw))
                    .build()
                    .map_err(|e| SendError::Permanent(e.to_string()))?,
            )
            .build();
        let answer = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(message.to).build())
            .content(content)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(classify)?;
        answer
            .message_id
            .ok_or_else(|| SendError::Transient("SES answered without a message id".into()))
    }
}

/// Which failures are worth another attempt.
fn classify(err: SdkError<SendEmailError, aws_sdk_sesv2::config::http::HttpResponse>) -> SendError {
    let status = err.raw_response().map(|r| r.status().as_u16());
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let text = format!(
                "{}: {}",
                e.code().unwrap_or("error"),
                e.message().unwrap_or("no message")
            );
            match e {
                SendEmailError::TooManyRequestsException(_)
                | SendEmailError::LimitExceededException(_)
                | SendEmailError::SendingPausedException(_) => SendError::Transient(text),
                SendEmailError::AccountSuspendedException(_)
                | SendEmailError::BadRequestException(_)
                | SendEmailError::MailFromDomainNotVerifiedException(_)
                | SendEmailError::MessageRejected(_)
                | SendEmailError::NotFoundException(_) => SendError::Permanent(text),
                _ if status.is_some_and(|s| s >= 500 || s == 429) => SendError::Transient(text),
                _ if e.code() == Some("Throttling") || e.code() == Some("ThrottlingException") => {
                    SendError::Transient(text)
                }
                _ => SendError::Permanent(text),
            }
        }
        // Timeouts, connection failures and unreadable answers: the request may or may not have
        // arrived; another attempt is the lesser risk (see the README's sending window).
        _ => SendError::Transient(format!(
            "{}",
            aws_smithy_types::error::display::DisplayErrorContext(&err)
        )),
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
