//! Client of the addon's signed `action.php` (SPEC §3.4): what WHMCS's API
//! cannot do or say, asked of the addon inside WHMCS. Each request is a
//! `{"type", "data"}` body signed with Standard Webhooks under the
//! instance's first hook secret; the addon answers `{"result": "success",
//! …}` or `{"result": "error", "code", "message"}`.
//!
//! - `Ping`: a signed no-op (the diagnostics' round trip).
//! - `ServiceFacts`: a service's upgrade rows (for its open invoices) and
//!   whether WHMCS still holds a cancellation request for it.
//! - `MoveService`: a transfer's move, in one WHMCS transaction.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::domain::ids::InstanceName;
use crate::domain::invoices::UpgradeRow;
use crate::domain::transfer::ClearedSubscription;
use crate::signature::{self, HookSecret};

/// Longest wait for a question (facts, ping).
const QUESTION_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for a move: one WHMCS transaction over several tables.
const MOVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the addon did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddonError {
    /// The addon checked and refused (`code`: its reason).
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    /// No answer worth acting on: try again later.
    #[error("{0}")]
    Unreachable(String),
}

/// The addon of one WHMCS installation.
#[derive(Clone)]
pub struct AddonClient {
    http: reqwest::Client,
    url: reqwest::Url,
    instance: InstanceName,
    secret: HookSecret,
    health: Option<crate::metrics::LinkHealth>,
}

impl std::fmt::Debug for AddonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddonClient")
            .field("url", &self.url.as_str())
            .field("instance", &self.instance.as_str())
            .finish_non_exhaustive()
    }
}

/// A cancellation request WHMCS holds (`tblcancelrequests`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HeldRequest {
    pub id: u64,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub date: String,
}

/// What the addon read of a service on WHMCS's tables.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServiceTableFacts {
    /// Its upgrades' and its addons' upgrades' rows.
    #[serde(default)]
    pub upgrades: Vec<UpgradeRow>,
    /// The cancellation request WHMCS holds for it, if any.
    #[serde(default)]
    pub cancellation_request: Option<HeldRequest>,
}

/// What the addon's move answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// False: it had happened already (a repeated call).
    pub moved: bool,
    /// Every gateway subscription the move cleared.
    pub subscriptions_cleared: Vec<ClearedSubscription>,
}

/// What a move asks.
#[derive(Debug, Clone)]
pub struct MoveRequest<'a> {
    pub transfer_id: i64,
    pub service_id: i64,
    pub from_client_id: i64,
    pub to_client_id: i64,
    pub domain_id: Option<i64>,
    pub recipient_email: &'a str,
}

impl AddonClient {
    /// The addon under `whmcs_url`, signing with `secret` as `instance`.
    pub fn new(
        whmcs_url: &reqwest::Url,
        instance: InstanceName,
        secret: HookSecret,
    ) -> anyhow::Result<Self> {
        let mut base = whmcs_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let url = base
            .join("modules/addons/puente/action.php")
            .map_err(|error| anyhow::anyhow!("the WHMCS URL cannot take a path: {error}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("puente/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            url,
            instance,
            secret,
            health: None,
        })
    }

    /// Records every call's outcome in `health`.
    pub fn with_health(mut self, health: crate::metrics::LinkHealth) -> Self {
        self.health = Some(health);
        self
    }

    /// Where the addon is asked.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// `Ping`: the addon's version, once it checked the signature.
    pub async fn ping(&self) -> Result<String, AddonError> {
        let answer = self
            .call(&question_id("ping"), "Ping", json!({}), QUESTION_TIMEOUT)
            .await?;
        Ok(answer
            .get("shim_version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// `ServiceFacts` of one service.
    pub async fn service_facts(&self, service_id: u64) -> Result<ServiceTableFacts, AddonError> {
        let answer = self
            .call(
                &question_id("facts"),
                "ServiceFacts",
                json!({"service_id": service_id}),
                QUESTION_TIMEOUT,
            )
            .await?;
        serde_json::from_value(Value::Object(answer)).map_err(|error| {
            AddonError::Unreachable(format!(
                "the addon's ServiceFacts answer is unreadable: {error}"
            ))
        })
    }

    /// The upgrade rows of one service and its addons (`ServiceFacts`).
    pub async fn upgrades(&self, service_id: u64) -> Result<Vec<UpgradeRow>, AddonError> {
        Ok(self.service_facts(service_id).await?.upgrades)
    }

    /// `MoveService` of a transfer, under the id `move_<transfer>` the
    /// addon requires, so a repeated call is recognised.
    pub async fn move_service(&self, request: &MoveRequest<'_>) -> Result<Moved, AddonError> {
        let body = json!({
            "transfer_id": request.transfer_id,
            "service_id": request.service_id,
            "from_client_id": request.from_client_id,
            "to_client_id": request.to_client_id,
            "domain_id": request.domain_id,
            "recipient_email": request.recipient_email,
        });
        let id = format!("move_{}", request.transfer_id);
        let answer = self.call(&id, "MoveService", body, MOVE_TIMEOUT).await?;
        let moved = answer
            .get("moved")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut cleared: Vec<ClearedSubscription> = answer
            .get("subscriptions_cleared")
            .cloned()
            .and_then(|list| serde_json::from_value(list).ok())
            .unwrap_or_default();
        // An addon older than the service names only the service's.
        if cleared.is_empty()
            && let Some(subscription) = answer
                .get("subscription_cleared")
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
        {
            cleared.push(ClearedSubscription {
                kind: "service".into(),
                id: request.service_id.unsigned_abs(),
                subscription: subscription.to_owned(),
            });
        }
        Ok(Moved {
            moved,
            subscriptions_cleared: cleared,
        })
    }

    /// One signed request; the answer's fields on `result: success`.
    async fn call(
        &self,
        id: &str,
        action: &str,
        data: Value,
        timeout: Duration,
    ) -> Result<Map<String, Value>, AddonError> {
        let outcome = self.send(id, action, data, timeout).await;
        if let Some(health) = &self.health {
            health.record(match &outcome {
                Err(AddonError::Unreachable(reason)) => Err(format!("{action}: {reason}")),
                _ => Ok(()),
            });
        }
        outcome
    }

    async fn send(
        &self,
        id: &str,
        action: &str,
        data: Value,
        timeout: Duration,
    ) -> Result<Map<String, Value>, AddonError> {
        let body = json!({"type": action, "data": data}).to_string();
        let timestamp = jiff::Timestamp::now().as_second();
        let response = self
            .http
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature::sign(&self.secret, id, timestamp, body.as_bytes()),
            )
            .header("puente-instance", self.instance.as_str())
            .timeout(timeout)
            .body(body)
            .send()
            .await
            .map_err(|error| AddonError::Unreachable(error.without_url().to_string()))?;
        let status = response.status();
        let answer: Option<Map<String, Value>> = response.json().await.ok();
        read_answer(status, answer)
    }
}

/// What one answer of the addon means. A refusal is the addon's checked
/// "no" (HTTP 200, 400 or 409 with its code); anything else, a 5xx
/// included, is an outage to try again.
fn read_answer(
    status: reqwest::StatusCode,
    answer: Option<Map<String, Value>>,
) -> Result<Map<String, Value>, AddonError> {
    let text = |answer: &Map<String, Value>, key: &str| {
        answer
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match answer {
        Some(answer)
            if status.is_success()
                && answer.get("result").and_then(Value::as_str) == Some("success") =>
        {
            Ok(answer)
        }
        Some(answer)
            if (status.is_success() || matches!(status.as_u16(), 400 | 409))
                && answer.get("result").and_then(Value::as_str) == Some("error") =>
        {
            Err(AddonError::Refused {
                code: text(&answer, "code"),
                message: text(&answer, "message"),
            })
        }
        Some(answer) => Err(AddonError::Unreachable(format!(
            "HTTP {status}: {} {}",
            text(&answer, "code"),
            text(&answer, "message")
        ))),
        None => Err(AddonError::Unreachable(format!(
            "HTTP {status} without the addon's answer"
        ))),
    }
}

/// A fresh id for a question (`<kind>_<ULID>`): the addon verifies it, and
/// it names the request in WHMCS's logs.
fn question_id(kind: &str) -> String {
    format!("{kind}_{}", ulid::Ulid::generate())
}

/// One addon client per instance that has a WHMCS URL and a secret.
pub fn clients(
    config: &crate::config::Config,
    metrics: &std::sync::Arc<crate::metrics::Metrics>,
) -> anyhow::Result<std::collections::BTreeMap<InstanceName, AddonClient>> {
    let mut clients = std::collections::BTreeMap::new();
    for (name, instance) in &config.instances {
        let (Some(api), Some(secret)) = (&instance.whmcs, config.secrets_for(Some(name)).first())
        else {
            continue;
        };
        let client = AddonClient::new(&api.url, name.clone(), secret.clone()).map_err(|error| {
            anyhow::anyhow!("cannot set up the addon client of instance {name}: {error}")
        })?;
        let health = crate::metrics::LinkHealth::new(metrics, name, crate::metrics::Link::Addon);
        clients.insert(name.clone(), client.with_health(health));
    }
    Ok(clients)
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;

    fn object(value: Value) -> Option<Map<String, Value>> {
        value.as_object().cloned()
    }

    #[test]
    fn only_a_checked_error_is_a_refusal_and_everything_else_is_an_outage() {
        let refusal = json!({"result": "error", "code": "not_owner", "message": "no"});
        for status in [
            StatusCode::OK,
            StatusCode::BAD_REQUEST,
            StatusCode::CONFLICT,
        ] {
            assert_eq!(
                read_answer(status, object(refusal.clone())),
                Err(AddonError::Refused {
                    code: "not_owner".into(),
                    message: "no".into()
                }),
                "{status}"
            );
        }
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::UNAUTHORIZED,
            StatusCode::NOT_FOUND,
        ] {
            assert!(
                matches!(
                    read_answer(status, object(refusal.clone())),
                    Err(AddonError::Unreachable(_))
                ),
                "{status}"
            );
        }
        assert!(matches!(
            read_answer(StatusCode::OK, None),
            Err(AddonError::Unreachable(_))
        ));
        assert!(matches!(
            read_answer(
                StatusCode::BAD_GATEWAY,
                object(json!({"result": "success"}))
            ),
            Err(AddonError::Unreachable(_))
        ));
        assert!(read_answer(StatusCode::OK, object(json!({"result": "success"}))).is_ok());
    }

    #[test]
    fn the_addon_is_asked_under_the_whmcs_folder() {
        let secret: HookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            .parse()
            .expect("secret");
        let client = AddonClient::new(
            &"https://example.com/billing".parse().expect("url"),
            InstanceName::parse("default").expect("name"),
            secret,
        )
        .expect("client");
        assert_eq!(
            client.url().as_str(),
            "https://example.com/billing/modules/addons/puente/action.php"
        );
        assert!(!format!("{client:?}").contains("whsec_"));
    }
}
