//! WhatsApp Cloud API client: `POST {api_base}/{phone_number_id}/messages`
//! with the access token, the body exactly as the outbox recorded it; and
//! the account's templates (`GET {api_base}/{waba_id}/message_templates`),
//! which are checked before any is sent.

use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::WhatsApp;
use crate::domain::template_check::AccountTemplate;

/// Templates asked for a page; and the most pages read (5,000 templates,
/// where Meta allows an account 250).
const TEMPLATES_PER_PAGE: &str = "100";
const MAX_TEMPLATE_PAGES: usize = 50;

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
    /// The Graph API base, ending in `/`.
    base: reqwest::Url,
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

/// One page of `GET /{waba-id}/message_templates`.
#[derive(Deserialize)]
struct TemplatePage {
    #[serde(default)]
    data: Vec<TemplateNode>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct TemplateNode {
    name: String,
    language: String,
    status: String,
    #[serde(default)]
    components: Vec<TemplateComponent>,
}

#[derive(Deserialize)]
struct TemplateComponent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    buttons: Vec<TemplateButton>,
}

/// A button's label, and a URL button's address (where its variable is).
#[derive(Deserialize)]
struct TemplateButton {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Paging {
    #[serde(default)]
    cursors: Option<Cursors>,
    /// Present while there is a page after this one.
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Cursors {
    #[serde(default)]
    after: Option<String>,
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
            base,
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

    /// Every template of the WhatsApp Business Account `waba_id`, page by
    /// page. The next page is asked for with the `after` cursor on the
    /// configured base, never by following the `next` address Meta returns
    /// (which would take the token wherever an answer points). `Err` says
    /// why, without the token.
    pub async fn account_templates(&self, waba_id: &str) -> Result<Vec<AccountTemplate>, String> {
        let result = self.read_templates(waba_id).await;
        if let Some(health) = &self.health {
            health.record(result.as_ref().map(|_| ()).map_err(Clone::clone));
        }
        result
    }

    async fn read_templates(&self, waba_id: &str) -> Result<Vec<AccountTemplate>, String> {
        let url = self
            .base
            .join(&format!("{waba_id}/message_templates"))
            .map_err(|error| format!("the Graph API base URL cannot take a path: {error}"))?;
        let mut templates = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_TEMPLATE_PAGES {
            let mut page_url = url.clone();
            {
                let mut query = page_url.query_pairs_mut();
                query
                    .append_pair("fields", "name,language,status,components")
                    .append_pair("limit", TEMPLATES_PER_PAGE);
                if let Some(cursor) = &after {
                    query.append_pair("after", cursor);
                }
            }
            let response = self
                .http
                .get(page_url)
                .bearer_auth(self.token.expose_secret())
                .send()
                .await
                .map_err(|error| format!("cannot reach the Graph API: {}", error.without_url()))?;
            let status = response.status();
            let body = response.bytes().await.map_err(|error| {
                format!("the Graph API's answer was cut: {}", error.without_url())
            })?;
            if !status.is_success() {
                let detail = serde_json::from_slice::<Failure>(&body)
                    .map(|refusal| {
                        let code = refusal
                            .error
                            .code
                            .map(|code| format!(" (#{code})"))
                            .unwrap_or_default();
                        format!("{}{code}", refusal.error.message)
                    })
                    .unwrap_or_else(|_| "no error in the answer".to_owned());
                return Err(format!(
                    "the Graph API refused to list the templates: HTTP {}: {detail}",
                    status.as_u16()
                ));
            }
            let page: TemplatePage = serde_json::from_slice(&body).map_err(|error| {
                format!("the Graph API's template list is not as expected: {error}")
            })?;
            templates.extend(page.data.into_iter().map(|node| {
                let components: Vec<(String, Vec<String>)> = node
                    .components
                    .into_iter()
                    .map(|component| {
                        let mut texts: Vec<String> = component.text.into_iter().collect();
                        for button in component.buttons {
                            texts.extend(button.text);
                            texts.extend(button.url);
                        }
                        (component.kind, texts)
                    })
                    .collect();
                AccountTemplate::new(
                    node.name,
                    node.language,
                    node.status,
                    components.iter().map(|(kind, texts)| {
                        (kind.as_str(), texts.iter().map(String::as_str).collect())
                    }),
                )
            }));
            let next = page
                .paging
                .filter(|paging| paging.next.is_some())
                .and_then(|paging| paging.cursors)
                .and_then(|cursors| cursors.after);
            match next {
                Some(cursor) => after = Some(cursor),
                None => return Ok(templates),
            }
        }
        Err(format!(
            "the account lists more than {MAX_TEMPLATE_PAGES} pages of templates"
        ))
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
