//! WhatsApp Cloud API client: `POST {api_base}/{phone_number_id}/messages`
//! with the access token, the body exactly as the outbox recorded it.

use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::WhatsApp;

/// What one send gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// Meta took it; `wamid` identifies it in status webhooks.
    Accepted { wamid: String },
    /// Meta refused it.
    Refused {
        http_status: u16,
        code: Option<i64>,
        fbtrace_id: Option<String>,
        detail: String,
    },
    /// The request never left (connection refused, DNS): safe to retry.
    NotSent(String),
    /// No answer after the request went out (timeout, cut connection):
    /// Meta may have sent it.
    Unknown(String),
}

#[derive(Clone)]
pub struct CloudClient {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    token: SecretString,
    /// Where each send's outcome is recorded for the dashboard.
    health: Option<crate::metrics::LinkHealth>,
}

impl std::fmt::Debug for CloudClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudClient")
            .field("endpoint", &self.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Success {
    messages: Vec<MessageId>,
}

#[derive(Deserialize)]
struct MessageId {
    id: String,
}

#[derive(Deserialize)]
struct Failure {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    code: Option<i64>,
    #[serde(default)]
    message: String,
    fbtrace_id: Option<String>,
    #[serde(default)]
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(default)]
    details: String,
}

impl CloudClient {
    /// `None` when the settings do not name a phone number id and token.
    pub fn new(settings: &WhatsApp) -> anyhow::Result<Option<Self>> {
        let (Some(phone_number_id), Some(token)) = (&settings.phone_number_id, &settings.token)
        else {
            return Ok(None);
        };
        let mut base = settings.api_base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let endpoint = base
            .join(&format!("{phone_number_id}/messages"))
            .context("the Graph API base URL cannot take a path")?;
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("puente/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Some(Self {
            http,
            endpoint,
            token: token.clone(),
            health: None,
        }))
    }

    /// Records every send's outcome in `health`.
    pub fn with_health(mut self, health: crate::metrics::LinkHealth) -> Self {
        self.health = Some(health);
        self
    }

    pub async fn send(&self, body: &str) -> SendResult {
        let result = self.send_once(body).await;
        if let Some(health) = &self.health {
            // A refusal about one message (a bad number, a template) is
            // Meta answering; a refused token, a missing permission or an
            // outage is the connection failing.
            health.record(match &result {
                SendResult::Accepted { .. } => Ok(()),
                SendResult::Refused {
                    http_status,
                    detail,
                    ..
                } if *http_status == 401 || *http_status == 403 || *http_status >= 500 => {
                    Err(format!("HTTP {http_status}: {detail}"))
                }
                SendResult::Refused { .. } => Ok(()),
                SendResult::NotSent(detail) | SendResult::Unknown(detail) => Err(detail.clone()),
            });
        }
        result
    }

    async fn send_once(&self, body: &str) -> SendResult {
        let response = self
            .http
            .post(self.endpoint.clone())
            .bearer_auth(self.token.expose_secret())
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(error) if error.is_connect() => {
                return SendResult::NotSent(error.without_url().to_string());
            }
            Err(error) => return SendResult::Unknown(error.without_url().to_string()),
        };
        let status = response.status().as_u16();
        let text = match response.text().await {
            Ok(text) => text,
            Err(error) => return SendResult::Unknown(error.without_url().to_string()),
        };
        if (200..300).contains(&status) {
            return match serde_json::from_str::<Success>(&text)
                .ok()
                .and_then(|s| s.messages.into_iter().next())
            {
                Some(message) => SendResult::Accepted { wamid: message.id },
                None => SendResult::Unknown(format!(
                    "HTTP {status} without a message id: {}",
                    excerpt(&text)
                )),
            };
        }
        match serde_json::from_str::<Failure>(&text) {
            Ok(Failure { error }) => SendResult::Refused {
                http_status: status,
                code: error.code,
                fbtrace_id: error.fbtrace_id,
                detail: excerpt(&match error.error_data {
                    Some(data) if !data.details.is_empty() => {
                        format!("{}: {}", error.message, data.details)
                    }
                    _ => error.message,
                }),
            },
            Err(_) => SendResult::Refused {
                http_status: status,
                code: None,
                fbtrace_id: None,
                detail: excerpt(&text),
            },
        }
    }
}

/// At most 500 characters of an answer, for the attempt log.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
