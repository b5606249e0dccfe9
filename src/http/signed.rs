//! The signed-request pipeline shared by every route the shim calls:
//! media type, size, signature over the raw bytes, and only then parsing.

use actix_web::{HttpMessage, HttpRequest, web};

use super::error::ApiError;
use crate::domain::envelope::{Envelope, EnvelopeError};
use crate::domain::ids::{EventId, InstanceName};
use crate::http::state::AppState;
use crate::ingest::ReceivedEvent;
use crate::signature::{self, SignatureHeaders, VerifiedHeaders, VerifyError};

/// Largest body accepted on signed routes.
pub const BODY_LIMIT: usize = 256 * 1024;

/// Header naming the WHMCS installation whose secrets verify the request.
pub const HEADER_INSTANCE: &str = "puente-instance";

/// Body bytes whose signature checked out. The only way to an [`Envelope`].
pub struct Verified {
    headers: VerifiedHeaders,
    instance: Option<InstanceName>,
    body: Vec<u8>,
}

/// Checks media type, size and signature, in that order (415, 413, 401).
pub async fn verify(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Verified, ApiError> {
    let is_json = matches!(
        request.mime_type(),
        Ok(Some(mime)) if mime.essence_str() == "application/json"
    );
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = read_limited(request, payload).await?;

    let instance = match header(request, HEADER_INSTANCE) {
        None => None,
        Some(text) => Some(InstanceName::parse(text).map_err(|problem| {
            ApiError::InvalidSignature(format!(
                "the `{HEADER_INSTANCE}` header is invalid: {problem}"
            ))
        })?),
    };
    let headers = SignatureHeaders {
        id: header(request, signature::HEADER_ID),
        timestamp: header(request, signature::HEADER_TIMESTAMP),
        signature: header(request, signature::HEADER_SIGNATURE),
    };
    let verified = signature::verify(
        state.config.secrets_for(instance.as_ref()),
        headers,
        &body,
        jiff::Timestamp::now().as_second(),
        state.config.timestamp_tolerance_s,
    )
    .map_err(|error| {
        let message = error.to_string();
        match error {
            VerifyError::MissingHeader(_) => ApiError::MissingSignature(message),
            VerifyError::TooOld(_) | VerifyError::TooNew(_) => ApiError::StaleTimestamp(message),
            VerifyError::MalformedTimestamp
            | VerifyError::MalformedSignature
            | VerifyError::NoMatch => ApiError::InvalidSignature(message),
        }
    })?;
    Ok(Verified {
        headers: verified,
        instance,
        body,
    })
}

impl Verified {
    /// Parses the verified bytes (400 on bad JSON or shape) and checks that
    /// the envelope speaks for the instance whose secret signed it (401).
    pub fn into_event(self) -> Result<ReceivedEvent, ApiError> {
        let id = EventId::parse(&self.headers.id).map_err(ApiError::InvalidWebhookId)?;
        let envelope = Envelope::from_json(&self.body).map_err(|error| match error {
            EnvelopeError::MalformedJson(_) => ApiError::MalformedJson(error.to_string()),
            EnvelopeError::Invalid(_) => ApiError::InvalidEnvelope(error.to_string()),
        })?;
        let instance = self.instance.unwrap_or_else(InstanceName::default_instance);
        if envelope.context.instance != instance {
            return Err(ApiError::InstanceMismatch(format!(
                "context.instance is `{}` but the request was authenticated for `{instance}`",
                envelope.context.instance
            )));
        }
        Ok(ReceivedEvent {
            id,
            instance,
            envelope,
            body: self.body,
        })
    }
}

/// The instance a refused request named, when it is a configured one (a
/// metric label must not take any name a caller sends); `default` when it
/// named none.
pub fn configured_instance<'s>(
    request: &HttpRequest,
    state: &'s AppState,
) -> Option<&'s InstanceName> {
    let named = match header(request, HEADER_INSTANCE) {
        None => InstanceName::default_instance(),
        Some(text) => InstanceName::parse(text).ok()?,
    };
    state
        .config
        .instances
        .get_key_value(&named)
        .map(|(name, _)| name)
}

/// A header's value as text; a value that is not visible ASCII reads as
/// absent.
fn header<'r>(request: &'r HttpRequest, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// Reads the body, refusing early on a declared length over the limit.
pub(super) async fn read_limited(
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<u8>, ApiError> {
    let declared = header(request, "content-length").and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return Err(ApiError::PayloadTooLarge(BODY_LIMIT));
    }
    match payload.to_bytes_limited(BODY_LIMIT).await {
        Ok(Ok(bytes)) => Ok(bytes.to_vec()),
        Ok(Err(error)) => Err(ApiError::UnreadableBody(error.to_string())),
        Err(_) => Err(ApiError::PayloadTooLarge(BODY_LIMIT)),
    }
}
