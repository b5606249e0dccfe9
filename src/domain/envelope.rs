//! The event envelope the shim sends (SPEC §3.2).
//!
//! The fields puente routes on are typed; `data` must be an object and is
//! kept as JSON for the rules that read it, parsed in the same pass.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::ids::{HookType, InstanceName};

/// A verified request body parsed as an envelope.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub hook: HookType,
    /// When the hook fired in WHMCS.
    pub timestamp: jiff::Timestamp,
    /// The hook's own payload (and the addon's `_puente` facts): always an
    /// object.
    #[serde(deserialize_with = "json_object")]
    pub data: Value,
    pub context: Context,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Context {
    pub instance: InstanceName,
    pub actor: Actor,
    pub source: Source,
    #[serde(default)]
    pub whmcs_version: Option<String>,
    #[serde(default)]
    pub shim_version: Option<String>,
    /// The addon checked the client's email and password again for this
    /// action (a cancellation), signed with the rest.
    #[serde(default)]
    pub reauthenticated: bool,
}

/// Who caused the event. Client and admin actors always carry their id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ActorFields")]
pub struct Actor {
    pub kind: ActorKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
}

#[derive(Deserialize)]
struct ActorFields {
    kind: ActorKind,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    user_id: Option<u64>,
}

impl TryFrom<ActorFields> for Actor {
    type Error = String;

    fn try_from(fields: ActorFields) -> Result<Self, Self::Error> {
        if matches!(fields.kind, ActorKind::Client | ActorKind::Admin) && fields.id.is_none() {
            return Err(format!(
                "context.actor.id is required when the actor kind is `{}`",
                fields.kind.as_str()
            ));
        }
        Ok(Self {
            kind: fields.kind,
            id: fields.id,
            user_id: fields.user_id,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    Client,
    Admin,
    System,
    Api,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Admin => "admin",
            Self::System => "system",
            Self::Api => "api",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Client, Self::Admin, Self::System, Self::Api]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Clientarea,
    Adminarea,
    Api,
    Cron,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clientarea => "clientarea",
            Self::Adminarea => "adminarea",
            Self::Api => "api",
            Self::Cron => "cron",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Clientarea, Self::Adminarea, Self::Api, Self::Cron]
            .into_iter()
            .find(|source| source.as_str() == text)
    }
}

/// Any JSON object, refused as a wrong shape when it is anything else.
fn json_object<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    Map::deserialize(deserializer).map(Value::Object)
}

/// Why a body is not an envelope: bad JSON, or JSON of the wrong shape.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body is not an event envelope: {0}")]
    Invalid(String),
}

impl Envelope {
    /// Parses raw body bytes. Callers hold bytes whose signature was checked.
    pub fn from_json(body: &[u8]) -> Result<Self, EnvelopeError> {
        serde_json::from_slice(body).map_err(|error| match error.classify() {
            serde_json::error::Category::Data => EnvelopeError::Invalid(error.to_string()),
            _ => EnvelopeError::MalformedJson(error.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"type":"InvoicePaid","timestamp":"2026-11-28T01:00:00Z",
        "data":{"invoiceid":1001,"_puente":{"x":[1,2]}},
        "context":{"instance":"paneldecliente","actor":{"kind":"client","id":42,"user_id":9},
                   "source":"clientarea","whmcs_version":"8.13.1","shim_version":"0.1.0",
                   "future_field":true}}"#;

    #[test]
    fn the_spec_example_parses_and_unknown_fields_are_tolerated() {
        let envelope = Envelope::from_json(GOOD.as_bytes()).expect("valid envelope");
        assert_eq!(envelope.hook.as_str(), "InvoicePaid");
        assert_eq!(envelope.context.instance.as_str(), "paneldecliente");
        assert_eq!(
            envelope.context.actor,
            Actor {
                kind: ActorKind::Client,
                id: Some(42),
                user_id: Some(9)
            }
        );
        assert_eq!(envelope.context.source, Source::Clientarea);
        assert_eq!(envelope.timestamp.as_second(), 1_795_827_600);
    }

    #[test]
    fn broken_json_and_wrong_shapes_are_told_apart() {
        assert!(matches!(
            Envelope::from_json(b"{\"type\":"),
            Err(EnvelopeError::MalformedJson(_))
        ));
        assert!(matches!(
            Envelope::from_json(b"not json"),
            Err(EnvelopeError::MalformedJson(_))
        ));
        let wrong_shapes = [
            "[]",
            "{}",
            r#"{"type":"InvoicePaid"}"#,
            &GOOD.replace(
                r#""data":{"invoiceid":1001,"_puente":{"x":[1,2]}}"#,
                r#""data":[1]"#,
            ),
            &GOOD.replace("2026-11-28T01:00:00Z", "yesterday"),
            &GOOD.replace(r#""kind":"client","id":42,"#, r#""kind":"client","#),
            &GOOD.replace(r#""kind":"client""#, r#""kind":"robot""#),
            &GOOD.replace("clientarea", "elsewhere"),
            &GOOD.replace("\"InvoicePaid\"", "\"Invoice Paid\""),
            &GOOD.replace("\"paneldecliente\"", "\"\""),
        ];
        for body in wrong_shapes {
            assert!(
                matches!(
                    Envelope::from_json(body.as_bytes()),
                    Err(EnvelopeError::Invalid(_))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn system_and_api_actors_need_no_id() {
        let body = GOOD.replace(
            r#""kind":"client","id":42,"user_id":9"#,
            r#""kind":"system""#,
        );
        let envelope = Envelope::from_json(body.as_bytes()).expect("valid envelope");
        assert_eq!(envelope.context.actor.kind, ActorKind::System);
        assert_eq!(envelope.context.actor.id, None);
    }

    #[test]
    fn every_actor_kind_and_source_is_read_by_its_name_only() {
        for kind in [
            ActorKind::Client,
            ActorKind::Admin,
            ActorKind::System,
            ActorKind::Api,
        ] {
            assert_eq!(ActorKind::parse(kind.as_str()), Some(kind));
        }
        for source in [
            Source::Clientarea,
            Source::Adminarea,
            Source::Api,
            Source::Cron,
        ] {
            assert_eq!(Source::parse(source.as_str()), Some(source));
        }
        assert_eq!(ActorKind::parse("staff"), None);
        assert_eq!(Source::parse("webhook"), None);
    }
}
