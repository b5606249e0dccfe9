//! The one error type of the HTTP API: each variant knows its status and
//! code, and renders as `{"error":{"code","message"}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("the body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request body could not be read: {0}")]
    UnreadableBody(String),
    #[error("{0}")]
    MissingSignature(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    StaleTimestamp(String),
    #[error("{0}")]
    InstanceMismatch(String),
    #[error("{0}")]
    InvalidWebhookId(String),
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    InvalidEnvelope(String),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("a valid `Authorization: Bearer <admin token>` header is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// An instance's admin token used on another instance's records.
    #[error("{0}")]
    ForbiddenInstance(String),
    #[error("{0}")]
    NotRetryable(String),
    #[error("{0}")]
    NotFound(String),
    /// A client action refused by a rule: 403 (who may) or 409 (which
    /// rule), with the rule's code and the client's-language explanation.
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("{0}")]
    WhmcsUnavailable(String),
    #[error("the event store cannot take writes right now; retry later")]
    StorageUnavailable,
    #[error("the database does not accept writes")]
    NotReady,
    #[error("an internal error occurred; it has been logged")]
    Internal,
}

impl ApiError {
    /// WHMCS's API could not take a request now.
    pub fn unavailable(error: crate::whmcs::WhmcsError) -> Self {
        Self::WhmcsUnavailable(error.to_string())
    }

    /// The addon's `action.php` could not be asked.
    pub fn addon_unavailable(error: crate::whmcs::AddonError) -> Self {
        Self::WhmcsUnavailable(format!("the WHMCS addon could not be asked: {error}"))
    }

    /// The stable, snake_case code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnreadableBody(_) => "unreadable_body",
            Self::MissingSignature(_) => "missing_signature",
            Self::InvalidSignature(_) => "invalid_signature",
            Self::StaleTimestamp(_) => "stale_timestamp",
            Self::InstanceMismatch(_) => "instance_mismatch",
            Self::InvalidWebhookId(_) => "invalid_webhook_id",
            Self::MalformedJson(_) => "malformed_json",
            Self::InvalidEnvelope(_) => "invalid_envelope",
            Self::InvalidQuery(_) => "invalid_query",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::ForbiddenInstance(_) => "forbidden_instance",
            Self::NotRetryable(_) => "not_retryable",
            Self::NotFound(_) => "not_found",
            Self::Refused { code, .. } => code,
            Self::WhmcsUnavailable(_) => "whmcs_unavailable",
            Self::StorageUnavailable => "storage_unavailable",
            Self::NotReady => "not_ready",
            Self::Internal => "internal",
        }
    }

    /// 403 with the rule's code.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            status: StatusCode::FORBIDDEN,
            code,
            message: message.into(),
        }
    }

    /// 409 with the failed rule's code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            status: StatusCode::CONFLICT,
            code,
            message: message.into(),
        }
    }

    /// A 404 for a path that does not exist (or is switched off).
    pub fn no_such_route() -> Self {
        Self::NotFound("no such route".to_owned())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MissingSignature(_)
            | Self::InvalidSignature(_)
            | Self::StaleTimestamp(_)
            | Self::InstanceMismatch(_)
            | Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::UnreadableBody(_)
            | Self::InvalidWebhookId(_)
            | Self::MalformedJson(_)
            | Self::InvalidEnvelope(_)
            | Self::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) | Self::ForbiddenInstance(_) => StatusCode::FORBIDDEN,
            Self::NotRetryable(_) => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Refused { status, .. } => *status,
            Self::StorageUnavailable | Self::NotReady | Self::WhmcsUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code()).json(json!({
            "error": { "code": self.code(), "message": self.to_string() }
        }));
        let headers = response.headers_mut();
        match self {
            Self::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::StorageUnavailable | Self::NotReady => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

/// A failed read is the service's fault (500); a failed or refused write
/// is storage not taking writes now (503, retry): the caller's request was
/// not kept. Either is logged here, with the store's reason, which the
/// answer leaves out.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Read(_) => {
                tracing::error!(%error, "database read failed");
                Self::Internal
            }
            StoreError::Write(_) | StoreError::Stopped => {
                tracing::error!(%error, "database write failed");
                Self::StorageUnavailable
            }
        }
    }
}
