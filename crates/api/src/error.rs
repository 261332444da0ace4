//! The one error type: its status and code are chosen here and nowhere else, a 5xx cause is
//! logged and never echoed, and the body is always `{"error": {"code", "message", "details"}}`.

use lambda_http::{
    http::{header, StatusCode},
    Body, Response,
};
use serde_json::json;

use crate::{request::MAX_BODY_BYTES, respond::json_response};

pub use domain::FieldError;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Everything a handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        details: Vec<FieldError>,
    },
    #[error("authentication required")]
    Unauthorized,
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    PaymentRequired { code: &'static str, message: String },
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<domain::Refusal> for ApiError {
    fn from(refusal: domain::Refusal) -> Self {
        use domain::Refusal;
        match refusal {
            Refusal::Invalid(details) => Self::validation(details),
            Refusal::Forbidden { code, message } => Self::Forbidden { code, message },
            Refusal::PaymentRequired { code, message } => Self::PaymentRequired { code, message },
            Refusal::Conflict { code, message } => Self::Conflict { code, message },
            Refusal::TryLater {
                code,
                message,
                retry_after_secs,
            } => Self::TooManyRequests {
                code,
                message,
                retry_after_secs,
            },
        }
    }
}

impl ApiError {
    /// A 400 for one invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    /// A 400 listing every invalid field.
    pub fn validation(details: Vec<FieldError>) -> Self {
        Self::BadRequest {
            code: "validation_failed",
            message: "The request has invalid fields".into(),
            details,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::PaymentRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Conflict { code, .. }
            | Self::Forbidden { code, .. }
            | Self::PaymentRequired { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::TooManyRequests { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The response. 5xx causes are logged with their whole chain and never put in the body.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        match &self {
            Self::Unavailable(cause) => tracing::warn!(error = ?cause, "answering 503"),
            Self::Internal(cause) => tracing::error!(error = ?cause, "answering 500"),
            _ => tracing::info!(
                status = status.as_u16(),
                code = self.code(),
                "request rejected"
            ),
        }
        let details = match &self {
            Self::BadRequest { details, .. } => details.clone(),
            _ => Vec::new(),
        };
        let body = json!({"error": {"code": self.code(), "message": self.to_string(), "details": details}});
        let mut response = json_response(status, &body);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        if let Self::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(*retry_after_secs),
            );
        }
        response
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(err: tokio_postgres::Error) -> Self {
        if db::is_unavailable(&err) {
            Self::Unavailable(err.into())
        } else {
            Self::Internal(err.into())
        }
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        use deadpool_postgres::PoolError;
        match err {
            PoolError::Backend(e) => e.into(),
            other @ (PoolError::Timeout(_) | PoolError::Closed) => Self::Unavailable(other.into()),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<tokio_postgres::Error>() {
            Ok(pg) => pg.into(),
            Err(other) => Self::Internal(other),
        }
    }
}

/// 422 for a key already used with another request.
pub fn idempotency_key_reused() -> ApiError {
    ApiError::Unprocessable {
        code: "idempotency_key_reused",
        message: "This Idempotency-Key was used with another request in the last 24 hours".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Refusal;

    #[test]
    fn each_refusal_of_the_domain_answers_its_status_with_its_code() {
        let text = || String::from("why");
        let cases = [
            (
                Refusal::invalid("name", "must not be empty"),
                400,
                "validation_failed",
            ),
            (
                Refusal::Forbidden {
                    code: "onboarding_required",
                    message: text(),
                },
                403,
                "onboarding_required",
            ),
            (
                Refusal::PaymentRequired {
                    code: "trial_expired",
                    message: text(),
                },
                402,
                "trial_expired",
            ),
            (
                Refusal::Conflict {
                    code: "step_out_of_order",
                    message: text(),
                },
                409,
                "step_out_of_order",
            ),
            (
                Refusal::TryLater {
                    code: "too_many_running_searches",
                    message: text(),
                    retry_after_secs: 30,
                },
                429,
                "too_many_running_searches",
            ),
        ];
        let failures: Vec<String> = cases
            .into_iter()
            .filter_map(|(refusal, status, code)| {
                let err = ApiError::from(refusal.clone());
                let seen = (err.status().as_u16(), err.code());
                (seen != (status, code)).then(|| format!("{refusal:?} answered {seen:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
