//! What puente does with the WhatsApp messages clients send (stored by the
//! Meta webhook, see `http::whatsapp`), once the client is known:
//!
//! - an opt-out (`STOP`, `BAJA`, …) or opt-in (`START`, `ALTA`, …) is
//!   written to the client's custom fields in WHMCS through `UpdateClient`,
//!   so WHMCS stays the one record of the choice and the outbox reads it
//!   there before every alert; the client gets a short confirmation inside
//!   the 24-hour window their message opened, and the choice is noted in
//!   their WHMCS log;
//! - any other message is opened as a WHMCS ticket in the instance's support
//!   department, or added to the ticket of the same conversation while that
//!   one is not closed.
//!
//! A message of a number puente cannot match to one client is only kept
//! (the webhook marks it so). WHMCS unavailable: tried again on the
//! instance's outbox retry schedule; WHMCS refusing: failed, with why.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::config::{Config, Consent, Rules, WhatsAppMode};
use crate::domain::ids::InstanceName;
use crate::domain::retry::RetrySchedule;
use crate::domain::texts::{Language, Text};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::store::whatsapp::{DueInbound, InboundOutcome};
use crate::whatsapp::{CloudClient, SendResult};
use crate::whmcs::{NewTicket, WhmcsClient, WhmcsError};

/// Messages taken per pass.
const PASS_LIMIT: u32 = 50;

/// How long after the client's message a free-form answer may still be
/// sent (Meta's customer service window).
const SERVICE_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// A client's choice about alerts, from their reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Stop,
    Start,
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RepliesReport {
    pub done: usize,
    pub kept: usize,
    pub retried: usize,
    pub failed: usize,
    /// The pass stopped at its limit: more are due now.
    pub more: bool,
}

#[derive(Clone)]
pub struct RepliesWorker {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
    /// The Cloud API client of each instance in `cloud` mode (the outbox's).
    cloud: Arc<BTreeMap<InstanceName, CloudClient>>,
    metrics: Arc<Metrics>,
}

impl RepliesWorker {
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
        cloud: Arc<BTreeMap<InstanceName, CloudClient>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            config,
            store,
            whmcs,
            cloud,
            metrics,
        }
    }

    /// Acts on every message due now.
    pub async fn drain(&self) -> anyhow::Result<RepliesReport> {
        self.drain_at(jiff::Timestamp::now()).await
    }

    /// Acts on every message due at `now`, once.
    pub async fn drain_at(&self, now: jiff::Timestamp) -> anyhow::Result<RepliesReport> {
        let due = self
            .store
            .due_inbound(now, PASS_LIMIT)
            .await
            .context("cannot read the messages clients sent")?;
        let mut report = RepliesReport {
            more: due.len() >= PASS_LIMIT as usize,
            ..RepliesReport::default()
        };
        for message in due {
            let outcome = self.act(&message, now).await?;
            let counted = match &outcome {
                InboundOutcome::Done { .. } => {
                    report.done += 1;
                    match message.intent.as_str() {
                        "opt_out" => "opted_out",
                        "opt_in" => "opted_in",
                        _ => "ticket",
                    }
                }
                InboundOutcome::Kept(_) => {
                    report.kept += 1;
                    "kept"
                }
                InboundOutcome::Retry { .. } => {
                    report.retried += 1;
                    "retried"
                }
                InboundOutcome::Failed(_) => {
                    report.failed += 1;
                    "failed"
                }
            };
            self.metrics.record_reply(counted, &message.instance);
            tracing::info!(instance = %message.instance, inbound = message.held.id, outcome = ?outcome, "acted on a client's WhatsApp message");
            self.store
                .settle_inbound(message.held, outcome)
                .await
                .context("cannot record what was made of a client's message")?;
        }
        Ok(report)
    }

    /// What to make of one message; an error only when the store cannot be
    /// read (the message stays due for the next pass).
    async fn act(
        &self,
        message: &DueInbound,
        now: jiff::Timestamp,
    ) -> anyhow::Result<InboundOutcome> {
        let Ok(instance) = InstanceName::parse(&message.instance) else {
            return Ok(InboundOutcome::Kept(format!(
                "instance {} is not configured any more",
                message.instance
            )));
        };
        let Some(whmcs) = self.whmcs.get(&instance) else {
            return Ok(InboundOutcome::Failed(format!(
                "instance {instance} has no WHMCS API settings (PUENTE_WHMCS_URL, …)"
            )));
        };
        let Ok(client) = u64::try_from(message.client_id) else {
            return Ok(InboundOutcome::Failed("no such client".into()));
        };
        let rules = self.config.for_instance(&instance);
        let acted = match message.intent.as_str() {
            "opt_out" => {
                self.choose(&instance, whmcs, rules, client, message, Choice::Stop, now)
                    .await
            }
            "opt_in" => {
                self.choose(&instance, whmcs, rules, client, message, Choice::Start, now)
                    .await
            }
            _ => {
                let conversation = self
                    .store
                    .conversation_ticket(instance.clone(), message.client_id, message.from.clone())
                    .await
                    .context("cannot read the conversation's ticket")?;
                self.to_ticket(whmcs, rules, client, message, conversation)
                    .await
            }
        };
        Ok(acted.unwrap_or_else(|error| again_or_failed(&rules.outbox_retry, message, error, now)))
    }

    /// Writes the client's choice to WHMCS, confirms it to them and notes
    /// it in their WHMCS log.
    #[allow(clippy::too_many_arguments)] // one message's parts, each named
    async fn choose(
        &self,
        instance: &InstanceName,
        whmcs: &WhmcsClient,
        rules: &Rules,
        client: u64,
        message: &DueInbound,
        choice: Choice,
        now: jiff::Timestamp,
    ) -> Result<InboundOutcome, WhmcsError> {
        let fields = choice_fields(rules, choice);
        if fields.is_empty() {
            return Ok(InboundOutcome::Kept(
                "the choice cannot be written to WHMCS: set alerts_optout_field (and, with explicit \
                 consent, alerts_optin_field)"
                    .into(),
            ));
        }
        let details = whmcs.client_details(client).await?;
        whmcs.set_client_custom_fields(client, &fields).await?;
        let written = fields
            .iter()
            .map(|(id, value)| format!("custom field {id} = \"{value}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let language = Language::named(&details.language);
        let confirmation = self
            .confirm(instance, rules, message, choice, language, now)
            .await;
        let said = message.text.as_deref().unwrap_or_default().trim();
        let note = match choice {
            Choice::Stop => format!(
                "puente: the client stopped WhatsApp alerts by replying \"{said}\" on WhatsApp ({})",
                message.wamid
            ),
            Choice::Start => format!(
                "puente: the client asked for WhatsApp alerts again by replying \"{said}\" on WhatsApp ({})",
                message.wamid
            ),
        };
        if let Err(error) = whmcs.log_activity(client, &note).await {
            tracing::warn!(%instance, client, %error, "cannot note a client's choice in their WHMCS log");
        }
        let done = match choice {
            Choice::Stop => "alerts stopped",
            Choice::Start => "alerts started again",
        };
        Ok(InboundOutcome::Done {
            outcome: format!("{done}: WHMCS {written}; {confirmation}"),
            ticket_id: None,
        })
    }

    /// Sends the confirmation of a choice, when the client's message still
    /// allows a free-form answer; says what became of it.
    async fn confirm(
        &self,
        instance: &InstanceName,
        rules: &Rules,
        message: &DueInbound,
        choice: Choice,
        language: Language,
        now: jiff::Timestamp,
    ) -> String {
        if now.duration_since(message.sent_at) >= SERVICE_WINDOW {
            return "no confirmation: the 24-hour window the message opened has closed".into();
        }
        let words = &rules.alerts.reply_words;
        let text = match choice {
            Choice::Stop => {
                Text::AlertsStopped.fill(language, &[("optin", &words.to_start(language))])
            }
            Choice::Start => {
                Text::AlertsResumed.fill(language, &[("optout", &words.to_stop(language))])
            }
        };
        let body = confirmation_body(&message.from, &message.wamid, &text);
        let cloud = match (rules.whatsapp.mode, self.cloud.get(instance)) {
            (WhatsAppMode::Cloud, Some(cloud)) => cloud,
            _ => return format!("confirmation recorded, not sent (dry-run mode): {body}"),
        };
        match cloud.send(&body).await {
            SendResult::Accepted { wamid } => format!("confirmation sent ({wamid})"),
            SendResult::Refused {
                http_status,
                code,
                detail,
                ..
            } => format!(
                "confirmation refused by Meta (HTTP {http_status}, code {}): {detail}",
                code.map_or("none".into(), |code| code.to_string())
            ),
            SendResult::NotSent(detail) | SendResult::Unknown(detail) => {
                format!("confirmation not sent: {detail}")
            }
        }
    }

    /// Opens the message as a ticket, or adds it to the conversation's
    /// ticket (`conversation`) while that one is not closed.
    async fn to_ticket(
        &self,
        whmcs: &WhmcsClient,
        rules: &Rules,
        client: u64,
        message: &DueInbound,
        conversation: Option<i64>,
    ) -> Result<InboundOutcome, WhmcsError> {
        let Some(department) = rules.replies.ticket_department() else {
            return Ok(InboundOutcome::Kept(
                if rules.replies.department.is_some() {
                    "not opened as a ticket: replies_tickets is off".into()
                } else {
                    "not opened as a ticket: no support department is set (replies_department)"
                        .into()
                },
            ));
        };
        let details = whmcs.client_details(client).await?;
        let language = Language::named(&details.language);
        let body = ticket_body(message, language);
        if let Some(ticket) = conversation.and_then(|id| u64::try_from(id).ok()) {
            match whmcs.ticket_status(ticket).await {
                Ok(status) if !status.eq_ignore_ascii_case("closed") => {
                    whmcs.add_ticket_reply(ticket, client, &body).await?;
                    return Ok(InboundOutcome::Done {
                        outcome: format!("added to WHMCS ticket {ticket} ({status})"),
                        ticket_id: i64::try_from(ticket).ok(),
                    });
                }
                // Closed, or gone: a new conversation.
                Ok(_) | Err(WhmcsError::Rejected { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let name = message
            .profile_name
            .clone()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| format!("+{}", message.from));
        let subject = Text::ReplyTicketSubject.fill(language, &[("name", &name)]);
        let opened = whmcs
            .open_ticket(&NewTicket {
                department_id: department,
                client_id: client,
                service_id: None,
                subject: &subject,
                message: &body,
            })
            .await?;
        Ok(InboundOutcome::Done {
            outcome: format!(
                "opened as WHMCS ticket #{} in department {department}",
                opened.number
            ),
            ticket_id: i64::try_from(opened.id).ok(),
        })
    }
}

/// The custom fields (id, value) that record `choice`: the opt-out field
/// (`all`, or emptied), and with explicit consent the opt-in field too.
fn choice_fields(rules: &Rules, choice: Choice) -> Vec<(u64, &'static str)> {
    let alerts = &rules.alerts;
    let mut fields = Vec::new();
    if let Some(id) = alerts.optout_field {
        fields.push((
            id,
            match choice {
                Choice::Stop => "all",
                Choice::Start => "",
            },
        ));
    }
    if alerts.consent == Consent::Explicit
        && let Some(id) = alerts.optin_field
    {
        fields.push((
            id,
            match choice {
                Choice::Stop => "",
                Choice::Start => "on",
            },
        ));
    }
    fields
}

/// A free-form text answering the client's message `wamid` (quoted).
fn confirmation_body(to: &str, wamid: &str, text: &str) -> String {
    serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "context": {"message_id": wamid},
        "type": "text",
        "text": {"preview_url": false, "body": text},
    })
    .to_string()
}

/// What a ticket (or a reply to one) says: the client's words, where they
/// came from, and the alert they answer.
fn ticket_body(message: &DueInbound, language: Language) -> String {
    let words = match message.text.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => text.to_owned(),
        _ => Text::ReplyWithoutText.fill(language, &[("kind", &message.kind)]),
    };
    let mut body = format!(
        "{words}\n\n---\n{}",
        Text::ReplyTicketFooter.fill(language, &[("number", &message.from)])
    );
    if let Some(alert) = &message.answered_kind {
        body.push(' ');
        body.push_str(&Text::ReplyTicketAnswered.fill(language, &[("alert", alert)]));
    }
    body
}

/// Another try on the instance's schedule when WHMCS could not be asked;
/// failed when it refused, or no try is left.
fn again_or_failed(
    schedule: &RetrySchedule,
    message: &DueInbound,
    error: WhmcsError,
    now: jiff::Timestamp,
) -> InboundOutcome {
    if let WhmcsError::Rejected { .. } = error {
        return InboundOutcome::Failed(error.to_string());
    }
    let jitter = RetrySchedule::jitter_from((now.subsec_nanosecond() % 256) as u8);
    match schedule.after(message.attempts + 1, Duration::ZERO, jitter) {
        Some(delay) => InboundOutcome::Retry {
            reason: error.to_string(),
            at: now + delay,
        },
        None => {
            InboundOutcome::Failed(format!("gave up after {} tries: {error}", schedule.tries()))
        }
    }
}

impl super::Worker for RepliesWorker {
    const NAME: &'static str = "replies";
    const WORK: Option<crate::store::Work> = Some(crate::store::Work::Replies);

    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    async fn pass(&self) -> anyhow::Result<super::Pass> {
        let report = self.drain().await?;
        Ok(super::Pass::done(report.more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: Option<&str>, answered: Option<&str>) -> DueInbound {
        DueInbound {
            held: crate::store::Held { id: 1, epoch: 0 },
            wamid: "wamid.in".into(),
            instance: "default".into(),
            from: "18031234567".into(),
            profile_name: Some("Ada".into()),
            sent_at: jiff::Timestamp::UNIX_EPOCH,
            kind: "image".into(),
            text: text.map(str::to_owned),
            client_id: 1842,
            intent: "reply".into(),
            answered_kind: answered.map(str::to_owned),
            attempts: 0,
        }
    }

    #[test]
    fn a_ticket_says_what_the_client_wrote_from_where_and_about_which_alert() {
        let body = ticket_body(
            &message(Some("  ¿Puedo pagar mañana?  "), Some("invoice_created")),
            Language::Spanish,
        );
        assert_eq!(
            body,
            "¿Puedo pagar mañana?\n\n---\nRecibido por WhatsApp desde +18031234567. \
             En respuesta al aviso «invoice_created»."
        );
        let picture = ticket_body(&message(None, None), Language::English);
        assert!(
            picture.starts_with("(A image message without text"),
            "{picture}"
        );
        assert!(picture.ends_with("Received on WhatsApp from +18031234567."));
    }

    #[test]
    fn a_confirmation_quotes_the_clients_message() {
        let body: serde_json::Value =
            serde_json::from_str(&confirmation_body("18031234567", "wamid.in", "Listo"))
                .expect("JSON");
        assert_eq!(body["context"]["message_id"], "wamid.in");
        assert_eq!(body["type"], "text");
        assert_eq!(body["text"]["body"], "Listo");
        assert_eq!(body["to"], "18031234567");
    }

    #[test]
    fn refused_is_failed_and_unavailable_is_tried_again_until_the_schedule_ends() {
        let schedule = RetrySchedule::default();
        let now = jiff::Timestamp::UNIX_EPOCH;
        let refused = WhmcsError::Rejected {
            action: "UpdateClient".into(),
            message: "Client ID Not Found".into(),
        };
        assert!(matches!(
            again_or_failed(&schedule, &message(None, None), refused, now),
            InboundOutcome::Failed(_)
        ));
        let down = || WhmcsError::Unavailable {
            action: "UpdateClient".into(),
            detail: "HTTP 503".into(),
        };
        assert!(matches!(
            again_or_failed(&schedule, &message(None, None), down(), now),
            InboundOutcome::Retry { at, .. } if at > now
        ));
        let spent = DueInbound {
            attempts: schedule.tries(),
            ..message(None, None)
        };
        assert!(matches!(
            again_or_failed(&schedule, &spent, down(), now),
            InboundOutcome::Failed(reason) if reason.starts_with("gave up after")
        ));
    }
}
