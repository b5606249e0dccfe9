//! Delivery statuses from Meta as the store applies them, and the messages
//! clients send to an instance's number.

use crate::domain::delivery::DeliveryStatus;
use crate::domain::replies::Intent;
/// One status report of a Meta webhook.
#[derive(Debug, Clone)]
pub struct StatusReport {
    pub wamid: String,
    pub status: DeliveryStatus,
    pub at: jiff::Timestamp,
    pub error_code: Option<i64>,
    /// The instances that send from the number it is about: only their
    /// messages may be changed by it.
    pub instances: Vec<String>,
}

/// What a delivery changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// This exact body was applied before.
    Duplicate,
    /// Statuses that moved a message forward.
    Updated(usize),
}

/// A message a client sent to a number instances send from.
#[derive(Debug, Clone)]
pub struct InboundReport {
    pub wamid: String,
    /// The sender's digits (Meta's `from`).
    pub from: String,
    pub profile_name: Option<String>,
    pub sent_at: jiff::Timestamp,
    /// Meta's type: `text`, `button`, `interactive`, `image`, …
    pub kind: String,
    /// What it says (a text's body, a button's label), if anything.
    pub text: Option<String>,
    /// The wamid of the message it answers (Meta's `context.id`).
    pub context_wamid: Option<String>,
    pub intent: Intent,
    /// The instances that send from the number it was sent to, sorted: the
    /// alert it answers says which; without one, the first.
    pub instances: Vec<String>,
}

/// An inbound message as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredInbound {
    pub id: i64,
    pub instance: String,
    pub from: String,
    pub profile_name: Option<String>,
    pub received_at: String,
    pub kind: String,
    pub text: Option<String>,
    /// The alert it answers, and that alert's client.
    pub message_id: Option<i64>,
    pub client_id: Option<i64>,
    pub intent: String,
    /// `alert` or `number`: how the client was known.
    pub matched_by: Option<String>,
    /// `due`, `done`, `kept` or `failed`, and what was done or why not.
    pub handling: String,
    pub outcome: Option<String>,
    /// The WHMCS ticket it opened or was added to.
    pub ticket_id: Option<i64>,
}

/// Where an inbound message belongs, and how its client was known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Belonging {
    pub instance: String,
    /// The alert it answers.
    pub message_id: Option<i64>,
    pub client_id: Option<i64>,
    /// `alert` or `number` (see [`belonging`]); `None` without a client.
    pub matched_by: Option<&'static str>,
}

impl Belonging {
    /// What is left to do with a message that belongs here: a message of
    /// a known client is acted on; one of an unknown number is kept.
    pub fn handling(&self) -> (&'static str, Option<&'static str>) {
        match self.client_id {
            Some(_) => ("due", None),
            None => ("kept", Some(UNKNOWN_NUMBER)),
        }
    }
}

/// Why a message of an unknown number is only kept.
pub const UNKNOWN_NUMBER: &str = "not matched to a client: it answers no alert, and no alert of exactly one client went to this number";

/// Whether the message answers an alert of one of its instances (`answered`:
/// id, instance, client): then [`belonging`] needs no recipients.
pub fn answers_one(report: &InboundReport, answered: Option<&(i64, String, Option<i64>)>) -> bool {
    answered.is_some_and(|(_, instance, _)| report.instances.contains(instance))
}

/// Where an inbound message belongs, given the alert it answers
/// (`answered`: id, instance, client) and the (instance, client) pairs
/// alerts were sent to at its number (`recipients`):
/// - the instance and client of the alert it answers, when that alert is
///   one of `instances`';
/// - else the one client alerts of `instances` went to at this number, when
///   there is exactly one;
/// - else the first instance and no client: never guessed.
pub fn belonging(
    report: &InboundReport,
    answered: Option<(i64, String, Option<i64>)>,
    recipients: &[(String, i64)],
) -> Belonging {
    if answers_one(report, answered.as_ref())
        && let Some((message, instance, client)) = answered
    {
        return Belonging {
            instance,
            message_id: Some(message),
            client_id: client,
            matched_by: client.map(|_| "alert"),
        };
    }
    let mut candidates: Vec<&(String, i64)> = recipients
        .iter()
        .filter(|(instance, _)| report.instances.contains(instance))
        .collect();
    candidates.sort();
    candidates.dedup();
    match candidates.as_slice() {
        [(instance, client)] => Belonging {
            instance: instance.clone(),
            message_id: None,
            client_id: Some(*client),
            matched_by: Some("number"),
        },
        _ => Belonging {
            instance: report.instances.first().cloned().unwrap_or_default(),
            message_id: None,
            client_id: None,
            matched_by: None,
        },
    }
}

/// An inbound message a worker took to act on.
#[derive(Debug, Clone)]
pub struct DueInbound {
    pub held: crate::store::lease::Held,
    pub wamid: String,
    pub instance: String,
    pub from: String,
    pub profile_name: Option<String>,
    pub sent_at: jiff::Timestamp,
    pub kind: String,
    pub text: Option<String>,
    pub client_id: i64,
    pub intent: String,
    /// The kind of the alert it answers, if it answers one.
    pub answered_kind: Option<String>,
    pub attempts: u32,
}

/// What was made of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundOutcome {
    /// Acted on; `ticket_id`: the WHMCS ticket it opened or was added to.
    Done {
        outcome: String,
        ticket_id: Option<i64>,
    },
    /// Nothing to do (replies to tickets are off, …).
    Kept(String),
    /// WHMCS could not be asked now: another try at `at`.
    Retry {
        reason: String,
        at: jiff::Timestamp,
    },
    Failed(String),
}

impl InboundOutcome {
    /// The `handling` it leaves, and what `outcome` says.
    pub fn handling(&self) -> (&'static str, &str) {
        match self {
            Self::Done { outcome, .. } => ("done", outcome),
            Self::Kept(why) => ("kept", why),
            Self::Retry { reason, .. } => ("due", reason),
            Self::Failed(why) => ("failed", why),
        }
    }

    pub fn ticket_id(&self) -> Option<i64> {
        match self {
            Self::Done { ticket_id, .. } => *ticket_id,
            _ => None,
        }
    }

    pub fn next_attempt(&self) -> Option<jiff::Timestamp> {
        match self {
            Self::Retry { at, .. } => Some(*at),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::replies::Intent;

    fn report(instances: &[&str]) -> InboundReport {
        InboundReport {
            wamid: "wamid.in".into(),
            from: "18031234567".into(),
            profile_name: None,
            sent_at: jiff::Timestamp::UNIX_EPOCH,
            kind: "text".into(),
            text: Some("STOP".into()),
            context_wamid: None,
            intent: Intent::OptOut,
            instances: instances.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    #[test]
    fn the_answered_alert_says_whose_message_it_is() {
        let belongs = belonging(
            &report(&["alfa", "beta"]),
            Some((7, "beta".into(), Some(42))),
            &[("alfa".into(), 9)],
        );
        assert_eq!(
            belongs,
            Belonging {
                instance: "beta".into(),
                message_id: Some(7),
                client_id: Some(42),
                matched_by: Some("alert"),
            }
        );
        assert_eq!(belongs.handling(), ("due", None));
    }

    #[test]
    fn without_an_answered_alert_only_one_client_at_that_number_is_matched() {
        let one = belonging(
            &report(&["alfa"]),
            None,
            &[("alfa".into(), 9), ("alfa".into(), 9), ("other".into(), 3)],
        );
        assert_eq!((one.client_id, one.matched_by), (Some(9), Some("number")));
        let two = belonging(
            &report(&["alfa"]),
            None,
            &[("alfa".into(), 9), ("alfa".into(), 10)],
        );
        assert_eq!((two.instance.as_str(), two.client_id), ("alfa", None));
        assert_eq!(two.handling(), ("kept", Some(UNKNOWN_NUMBER)));
        // An alert of another install's number is not this one's.
        let foreign = belonging(&report(&["alfa"]), Some((7, "beta".into(), Some(42))), &[]);
        assert_eq!(foreign.client_id, None);
    }
}
