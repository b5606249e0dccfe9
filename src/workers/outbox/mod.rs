//! The alert outbox worker: takes planned messages, reads what they need
//! from WHMCS, renders the template in the client's language, and sends
//! it through the Cloud API (in `dry-run` mode: records the exact request
//! body and marks it sent). Every outcome is written through the single
//! writer. A message is marked `sending`, durably, before the request goes
//! out; one still `sending` when a pass starts was interrupted by a crash,
//! may have reached the client, and becomes `uncertain`: only an operator
//! sends it again.
//!
//! Each instance sends from its own WhatsApp number when it has one (its
//! rules' `whatsapp` settings); pacing, the pair rate and the pause after
//! Meta refuses a token are kept per number.

mod facts;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;

pub use facts::{NotReady, Unresolved};

use crate::config::{Config, WhatsAppMode};
use crate::domain::alerts::AlertKind;
use crate::domain::ids::InstanceName;
use crate::domain::meta_errors::{self, SendFailure};
use crate::domain::retry::RetrySchedule;
use crate::domain::templates::Parameter;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::store::messages::{DueMessage, Outcome, SendAttempt, Settled};
use crate::whatsapp::{CloudClient, SendResult};
use crate::whmcs::WhmcsClient;
use crate::workers::templates::TemplateChecks;

use super::IDLE_PASS;

/// Messages taken per pass.
const BATCH: u32 = 100;
/// Outcomes written in one commit, at most; a send's outcome is written
/// at once (with those waiting), since the message is `sending` until then.
const RECORD_BATCH: usize = 256;
/// Meta's pair rate: about one message per 6 s to the same user.
const PAIR_SPACING: Duration = Duration::from_secs(6);
/// How long sending stops after Meta refuses the token, permissions or
/// account; the alarm metric is up meanwhile.
const PAUSE: Duration = Duration::from_secs(15 * 60);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    pub sent: usize,
    pub skipped: usize,
    pub retried: usize,
    pub dead: usize,
    pub uncertain: usize,
    /// Left for later: the pair spacing, or sending paused.
    pub deferred: usize,
}

impl DrainReport {
    /// Messages the pass took.
    pub fn handled(&self) -> usize {
        self.sent + self.skipped + self.retried + self.dead + self.uncertain + self.deferred
    }
}

/// The outbox worker's shared parts.
#[derive(Clone)]
pub struct Outbox {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
    /// The Cloud API client of each instance in `cloud` mode.
    cloud: Arc<BTreeMap<InstanceName, CloudClient>>,
    metrics: Arc<Metrics>,
    /// Phone number id -> when its sending may start again.
    paused_until: Arc<Mutex<HashMap<String, jiff::Timestamp>>>,
    /// What the template check found: a message whose template is not
    /// ready is not sent.
    templates: TemplateChecks,
}

/// A message as it would be sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub client: u64,
    /// The number's digits.
    pub to: String,
    pub language: String,
    /// The exact Cloud API request body.
    pub body: String,
}

/// A message ready to go, or already decided.
enum Prepared {
    Ready(Rendered),
    Done(Outcome),
}

/// A message rendered for the Cloud API.
struct Rendered {
    body: String,
    language: String,
    /// The recipient's number, for the pair rate.
    to: String,
    client: u64,
}

/// Where an instance's messages go: its number on the Cloud API, or
/// nowhere (`dry-run`: the body is recorded and the message marked sent).
#[derive(Clone, Copy)]
enum Channel<'a> {
    DryRun,
    Cloud(SendFrom<'a>),
}

/// Who sends a message: an instance's Cloud API client and its number.
#[derive(Clone, Copy)]
struct SendFrom<'a> {
    cloud: &'a CloudClient,
    instance: &'a InstanceName,
    number: &'a str,
    /// Sends per second from this number.
    rate: u32,
}

/// Meta's limits within one pass, per sending number: the pair rate (one
/// message per [`PAIR_SPACING`] to one recipient) and the send rate.
#[derive(Default)]
struct Pacing {
    last_to: HashMap<(String, String), jiff::Timestamp>,
    last_send: HashMap<String, std::time::Instant>,
}

impl Pacing {
    /// Waits for the send rate and counts the send; or, when the recipient
    /// had a message from this number too recently, says until when the
    /// message must wait instead.
    async fn turn(
        &mut self,
        from: &SendFrom<'_>,
        to: &str,
        now: jiff::Timestamp,
    ) -> Option<jiff::Timestamp> {
        let pair = (from.number.to_owned(), to.to_owned());
        if let Some(at) = self
            .last_to
            .get(&pair)
            .map(|last| *last + PAIR_SPACING)
            .filter(|at| *at > now)
        {
            return Some(at);
        }
        if let Some(last) = self.last_send.get(from.number) {
            let gap = Duration::from_secs(1) / from.rate.max(1);
            tokio::time::sleep(gap.saturating_sub(last.elapsed())).await;
        }
        self.last_send
            .insert(from.number.to_owned(), std::time::Instant::now());
        self.last_to.insert(pair, now);
        None
    }
}

impl DrainReport {
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Sent { .. } => self.sent += 1,
            Outcome::Skipped(_) => self.skipped += 1,
            Outcome::Retry { .. } => self.retried += 1,
            Outcome::Deferred { .. } => self.deferred += 1,
            Outcome::Dead(_) => self.dead += 1,
            Outcome::Uncertain(_) => self.uncertain += 1,
        }
    }
}

impl Outbox {
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
        metrics: Arc<Metrics>,
        templates: TemplateChecks,
    ) -> anyhow::Result<Self> {
        let mut cloud = BTreeMap::new();
        for (name, instance) in &config.instances {
            let whatsapp = &instance.rules.whatsapp;
            if whatsapp.mode != WhatsAppMode::Cloud {
                continue;
            }
            let client = CloudClient::new(whatsapp).with_context(|| {
                format!("cannot set up the WhatsApp Cloud API client of instance {name}")
            })?;
            let health =
                crate::metrics::LinkHealth::new(&metrics, name, crate::metrics::Link::Meta);
            cloud.extend(client.map(|client| (name.clone(), client.with_health(health))));
        }
        Ok(Self {
            config,
            store,
            whmcs,
            cloud: Arc::new(cloud),
            metrics,
            paused_until: Arc::new(Mutex::new(HashMap::new())),
            templates,
        })
    }

    /// The Cloud API client of each instance in `cloud` mode, for the
    /// workers that answer clients from the same numbers.
    pub fn cloud_clients(&self) -> Arc<BTreeMap<InstanceName, CloudClient>> {
        Arc::clone(&self.cloud)
    }

    /// What `alert` would say and to whom if the outbox sent it now, read
    /// from WHMCS and rendered exactly as a send would be, without sending
    /// or recording anything (staff previewing a manual send); or why it
    /// would not go.
    pub async fn preview(
        &self,
        instance: &InstanceName,
        alert: &crate::domain::alerts::PlannedAlert,
    ) -> Result<Preview, String> {
        let (subject_kind, subject_id) = crate::store::messages::subject_columns(alert.subject);
        let message = DueMessage {
            id: 0,
            lease: 0,
            kind: alert.kind,
            client_id: alert.client_id,
            subject_kind: subject_kind.to_owned(),
            subject_id,
            previous_phone: None,
            attempts: 0,
            details: HashMap::new(),
        };
        let now = jiff::Timestamp::now();
        match self.prepare(instance, Channel::DryRun, &message, now).await {
            (Prepared::Ready(rendered), _) => Ok(Preview {
                client: rendered.client,
                to: rendered.to,
                language: rendered.language,
                body: rendered.body,
            }),
            (Prepared::Done(outcome), _) => Err(match outcome {
                Outcome::Skipped(reason) => format!("it would not be sent: {reason}"),
                Outcome::Dead(reason) => format!("it would fail: {reason}"),
                Outcome::Retry { reason, .. } | Outcome::Deferred { reason, .. } => {
                    format!("it cannot go now: {reason}")
                }
                Outcome::Sent { .. } | Outcome::Uncertain(_) => "it cannot be previewed".into(),
            }),
        }
    }

    /// At start: a message still `sending` was interrupted by a stop or a
    /// crash, may have reached the client, and becomes `uncertain`.
    pub async fn recover_interrupted(&self) -> anyhow::Result<usize> {
        self.store
            .mark_interrupted_messages()
            .await
            .context("cannot mark interrupted sends")
    }

    /// Handles every message due now, once; returns what happened.
    pub async fn drain(&self) -> anyhow::Result<DrainReport> {
        self.drain_at(jiff::Timestamp::now()).await
    }

    /// Handles every message due at `now`, once, as of `now` (tests drive
    /// retries through their schedule this way). Outcomes that sent nothing
    /// are written in batches, so a backlog drains at the writer's speed.
    pub async fn drain_at(&self, now: jiff::Timestamp) -> anyhow::Result<DrainReport> {
        let due = self
            .store
            .due_messages(now, BATCH)
            .await
            .context("cannot read the messages due")?;
        let mut report = DrainReport::default();
        let mut pacing = Pacing::default();
        let mut settled: Vec<Settled> = Vec::new();
        let mut notes: Vec<(InstanceName, u64, String)> = Vec::new();
        for (instance, message) in due {
            let channel = self.channel(&instance);
            let (prepared, client) = self.prepare(&instance, channel, &message, now).await;
            let (outcome, attempt) = match prepared {
                Prepared::Done(outcome) => (outcome, None),
                Prepared::Ready(rendered) => match channel {
                    Channel::DryRun => (dry_run(&message, rendered), None),
                    Channel::Cloud(from) => match pacing.turn(&from, &rendered.to, now).await {
                        Some(at) => (
                            Outcome::Deferred {
                                reason: "spacing messages to one recipient (Meta's pair rate)"
                                    .into(),
                                at,
                            },
                            None,
                        ),
                        None => {
                            // What waits is written before the send's own
                            // `sending` mark, in order.
                            self.record(&mut settled).await?;
                            let Some((outcome, attempt)) =
                                self.send(from, &message, rendered, now).await?
                            else {
                                continue;
                            };
                            (outcome, Some(attempt))
                        }
                    },
                },
            };
            report.count(&outcome);
            self.metrics.record_message(outcome.name(), &instance);
            let dry_run = matches!(channel, Channel::DryRun);
            if let (Some(client), Some(note)) =
                (client, whmcs_note(message.kind, &outcome, dry_run))
            {
                notes.push((instance.clone(), client, note));
            }
            let sent_now = attempt.is_some();
            settled.push(Settled {
                message: message.held(),
                outcome,
                attempt,
                now,
            });
            if sent_now || settled.len() >= RECORD_BATCH {
                self.record(&mut settled).await?;
            }
        }
        self.record(&mut settled).await?;
        self.note_in_whmcs(notes).await;
        Ok(report)
    }

    /// Notes each final outcome in its client's WHMCS log, a few at a
    /// time, after the outcomes are committed. A note WHMCS refuses is
    /// logged here and not asked again: the outcome itself is kept by
    /// puente.
    async fn note_in_whmcs(&self, notes: Vec<(InstanceName, u64, String)>) {
        use futures_util::StreamExt as _;
        futures_util::stream::iter(notes)
            .for_each_concurrent(NOTES_AT_ONCE, |(instance, client, note)| async move {
                let Some(whmcs) = self.whmcs.get(&instance) else {
                    return;
                };
                if let Err(error) = whmcs.log_activity(client, &note).await {
                    tracing::warn!(%instance, client, %error, "cannot note an alert in the client's WHMCS log");
                }
            })
            .await;
    }

    /// Where `instance`'s messages go.
    fn channel<'a>(&'a self, instance: &'a InstanceName) -> Channel<'a> {
        let whatsapp = &self.config.for_instance(instance).whatsapp;
        match (whatsapp.mode, self.cloud.get(instance)) {
            (WhatsAppMode::Cloud, Some(cloud)) => Channel::Cloud(SendFrom {
                cloud,
                instance,
                number: whatsapp.phone_number_id.as_deref().unwrap_or_default(),
                rate: whatsapp.send_rate,
            }),
            _ => Channel::DryRun,
        }
    }

    /// Writes the outcomes waiting in `settled`, in one commit.
    async fn record(&self, settled: &mut Vec<Settled>) -> anyhow::Result<()> {
        if settled.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(settled);
        self.store
            .settle_messages(batch)
            .await
            .context("cannot record the messages' outcomes")
    }

    /// How long to wait before the next pass, after one that did `report`:
    /// none when it took a full batch (more may be due now), else until the
    /// earliest planned retry or deferral, at most a minute. (A new alert
    /// wakes the worker sooner.)
    pub async fn pause_after(&self, report: &DrainReport) -> Duration {
        if report.handled() >= BATCH as usize {
            return Duration::ZERO;
        }
        let now = jiff::Timestamp::now();
        let next = self.store.next_message_due_after(now).await;
        match next {
            Ok(Some(at)) => {
                let wait = now
                    .duration_until(at)
                    .unsigned_abs()
                    .max(Duration::from_millis(1));
                wait.min(IDLE_PASS)
            }
            Ok(None) => IDLE_PASS,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "cannot read when the next alert is due");
                IDLE_PASS
            }
        }
    }

    /// Until when sending from `sender` is paused, if it is; a pause that
    /// ran out is lifted (and its alarm cleared).
    fn paused(&self, sender: &str, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
        let mut paused_until = self
            .paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match paused_until.get(sender) {
            Some(until) if *until > now => Some(*until),
            Some(_) => {
                paused_until.remove(sender);
                self.set_paused_alarm(sender, false);
                None
            }
            None => None,
        }
    }

    fn pause(&self, sender: &str, until: jiff::Timestamp) {
        self.paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(sender.to_owned(), until);
        self.set_paused_alarm(sender, true);
    }

    /// The alarm of every instance that sends from `sender`.
    fn set_paused_alarm(&self, sender: &str, paused: bool) {
        for (instance, _) in self.config.senders_of(sender) {
            self.metrics.set_sending_paused(instance, paused);
        }
    }

    /// Marks the message `sending` (durably), sends it, and says what the
    /// answer means.
    async fn send(
        &self,
        from: SendFrom<'_>,
        message: &DueMessage,
        rendered: Rendered,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Option<(Outcome, SendAttempt)>> {
        let Rendered {
            body,
            language,
            to,
            client,
        } = rendered;
        if !self
            .store
            .mark_message_sending(message.held(), body.clone())
            .await
            .context("cannot mark a message as sending")?
        {
            // Moved meanwhile (an operator, a webhook, another replica):
            // not this pass's to send.
            return Ok(None);
        }
        let answer = from.cloud.send(&body).await;
        let attempt = |outcome, http_status, detail| SendAttempt {
            outcome,
            http_status,
            meta_code: None,
            fbtrace_id: None,
            detail,
        };
        Ok(Some(match answer {
            SendResult::Accepted { wamid } => (
                Outcome::Sent {
                    body,
                    language,
                    wamid,
                    to,
                    client,
                },
                attempt("accepted", Some(200), String::new()),
            ),
            SendResult::Refused {
                http_status,
                code,
                fbtrace_id,
                detail,
            } => {
                let reason = format!(
                    "Meta refused it (HTTP {http_status}, code {}): {detail}",
                    code.map_or("none".into(), |c| c.to_string())
                );
                let outcome = self.refused(from, message, reason, code, http_status, now);
                (
                    outcome,
                    SendAttempt {
                        outcome: "refused",
                        http_status: Some(http_status),
                        meta_code: code,
                        fbtrace_id,
                        detail,
                    },
                )
            }
            SendResult::NotSent(detail) => (
                self.retry(
                    from.instance,
                    message,
                    format!("the Cloud API could not be reached: {detail}"),
                    now,
                    Duration::ZERO,
                ),
                attempt("not_sent", None, detail),
            ),
            SendResult::Unknown(detail) => (
                Outcome::Uncertain(format!(
                    "no answer from the Cloud API after sending ({detail}); it may have reached the client"
                )),
                attempt("unknown", None, detail),
            ),
        }))
    }

    /// What Meta's refusal means: another try, a dead letter, or sending
    /// from this number paused (the token, permissions or account).
    fn refused(
        &self,
        from: SendFrom<'_>,
        message: &DueMessage,
        reason: String,
        code: Option<i64>,
        http_status: u16,
        now: jiff::Timestamp,
    ) -> Outcome {
        match meta_errors::classify(code, http_status) {
            SendFailure::Retry(after) => self.retry(from.instance, message, reason, now, after),
            SendFailure::Permanent => Outcome::Dead(reason),
            SendFailure::Halt => {
                tracing::error!(%reason, instance = %from.instance, sender = from.number, "WhatsApp sending from this number paused: Meta refused the token, permissions or account");
                self.pause(from.number, now + PAUSE);
                Outcome::Deferred {
                    reason,
                    at: now + PAUSE,
                }
            }
        }
    }

    /// Another try at the next delay of the instance's schedule (at least
    /// `at_least`, what Meta asked for), or a dead letter when none is left.
    fn retry(
        &self,
        instance: &InstanceName,
        message: &DueMessage,
        reason: String,
        now: jiff::Timestamp,
        at_least: Duration,
    ) -> Outcome {
        let schedule = &self.config.for_instance(instance).outbox_retry;
        let jitter = RetrySchedule::jitter_from(jitter_byte(now));
        match schedule.after(message.attempts + 1, at_least, jitter) {
            Some(delay) => Outcome::Retry {
                reason,
                at: now + delay,
            },
            None => Outcome::Dead(format!(
                "gave up after {} tries: {reason}",
                schedule.tries()
            )),
        }
    }

    /// What the message says and to whom, read from WHMCS and rendered;
    /// or its fate when it cannot go now (sending paused: nothing is asked
    /// of WHMCS meanwhile).
    async fn prepare(
        &self,
        instance: &InstanceName,
        channel: Channel<'_>,
        message: &DueMessage,
        now: jiff::Timestamp,
    ) -> (Prepared, Option<u64>) {
        if let Channel::Cloud(from) = channel
            && let Some(until) = self.paused(from.number, now)
        {
            return (
                Prepared::Done(Outcome::Deferred {
                    reason: "sending from this number is paused".into(),
                    at: until,
                }),
                None,
            );
        }
        let retry = |reason: String| {
            (
                Prepared::Done(self.retry(instance, message, reason, now, Duration::ZERO)),
                message.client_id,
            )
        };
        let Some(whmcs) = self.whmcs.get(instance) else {
            return retry(format!(
                "instance {instance} has no WHMCS API settings (PUENTE_WHMCS_URL, …)"
            ));
        };
        let public_url = self.config.public_url_of(instance);
        let rules = self.config.for_instance(instance);
        let facts = match facts::resolve(whmcs, message, &public_url, &rules.alerts).await {
            Ok(facts) => facts,
            Err(Unresolved { why, client }) => {
                return match why {
                    NotReady::Skip(reason) => (Prepared::Done(Outcome::Skipped(reason)), client),
                    NotReady::Gone(reason) => (Prepared::Done(Outcome::Dead(reason)), client),
                    NotReady::Retry(reason) => retry(reason),
                };
            }
        };
        let client = Some(facts.client.id);
        let templates = &rules.alert_templates;
        let language = templates
            .language_for(message.kind, &facts.client.language)
            .to_owned();
        // Meta would refuse it after a round trip, or fill the wrong slots.
        if let Some(problem) = self
            .templates
            .problem(instance.as_str(), message.kind, &language)
        {
            return retry(problem);
        }
        let mut values = facts.values;
        facts::localise(message.kind, &language, &mut values);
        if let Some(brand) = &rules.alerts.brand {
            values.insert(Parameter::Brand.as_str(), brand.clone());
        }
        let values = &values;
        let prepared = match templates.message_body(
            message.kind,
            &language,
            &facts.to,
            |parameter: Parameter| values.get(parameter.as_str()).cloned(),
        ) {
            Ok(body) => Prepared::Ready(Rendered {
                body: body.to_string(),
                language,
                to: facts.to.digits().to_owned(),
                client: facts.client.id,
            }),
            Err(error) => Prepared::Done(Outcome::Dead(error.to_string())),
        };
        (prepared, client)
    }
}

/// WHMCS log notes asked for at once.
const NOTES_AT_ONCE: usize = 4;

/// Longest reason written in a WHMCS log note.
const NOTE_REASON_CHARS: usize = 300;

/// The line a final outcome leaves in the client's WHMCS log (Clients >
/// Log), so staff see it without leaving WHMCS; `None` for one that is not
/// final (a retry, a deferral).
fn whmcs_note(kind: AlertKind, outcome: &Outcome, dry_run: bool) -> Option<String> {
    let alert = kind.as_str();
    let short = |reason: &str| reason.chars().take(NOTE_REASON_CHARS).collect::<String>();
    match outcome {
        Outcome::Sent { .. } if dry_run => Some(format!(
            "puente: WhatsApp alert {alert} recorded, not sent (dry-run mode)"
        )),
        Outcome::Sent { wamid, .. } => {
            Some(format!("puente: WhatsApp alert {alert} sent ({wamid})"))
        }
        Outcome::Skipped(reason) => Some(format!(
            "puente: WhatsApp alert {alert} not sent: {}",
            short(reason)
        )),
        Outcome::Dead(reason) => Some(format!(
            "puente: WhatsApp alert {alert} failed: {}",
            short(reason)
        )),
        Outcome::Uncertain(reason) => Some(format!(
            "puente: WhatsApp alert {alert} may not have arrived, and is not sent again: {}",
            short(reason)
        )),
        Outcome::Retry { .. } | Outcome::Deferred { .. } => None,
    }
}

/// A message in `dry-run`: its body is recorded and it counts as sent.
fn dry_run(message: &DueMessage, rendered: Rendered) -> Outcome {
    Outcome::Sent {
        body: rendered.body,
        language: rendered.language,
        wamid: format!("dryrun.{}", message.id),
        to: rendered.to,
        client: rendered.client,
    }
}

/// A random byte for a retry's jitter. Without randomness from the OS the
/// clock's nanoseconds stand in: retries still spread out, rather than all
/// coming 20 % early (what a zero byte would mean).
fn jitter_byte(now: jiff::Timestamp) -> u8 {
    let mut random = [0u8; 1];
    match getrandom::fill(&mut random) {
        Ok(()) => random[0],
        Err(_) => (now.subsec_nanosecond() % 256) as u8,
    }
}

impl super::Worker for Outbox {
    const NAME: &'static str = "outbox";
    const WORK: Option<crate::store::Work> = Some(crate::store::Work::Alerts);

    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    async fn start(&self) -> anyhow::Result<()> {
        self.recover_interrupted().await.map(|_| ())
    }

    /// Every message due now; then rests until the earliest planned retry
    /// or deferral (at most a minute), or goes on at once after a full
    /// batch.
    async fn pass(&self) -> anyhow::Result<super::Pass> {
        let report = self.drain().await?;
        let rest = self.pause_after(&report).await;
        Ok(super::Pass {
            more: rest.is_zero(),
            rest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_final_outcomes_leave_a_note_in_whmcs_and_long_reasons_are_cut() {
        let kind = AlertKind::InvoiceCreated;
        let sent = Outcome::Sent {
            body: "{}".into(),
            language: "es".into(),
            wamid: "wamid.HBg".into(),
            to: "18031234567".into(),
            client: 1842,
        };
        assert_eq!(
            whmcs_note(kind, &sent, false).as_deref(),
            Some("puente: WhatsApp alert invoice_created sent (wamid.HBg)")
        );
        assert_eq!(
            whmcs_note(kind, &sent, true).as_deref(),
            Some("puente: WhatsApp alert invoice_created recorded, not sent (dry-run mode)")
        );
        let long = "x".repeat(1000);
        let dead = whmcs_note(kind, &Outcome::Dead(long.clone()), false).expect("a note");
        assert!(dead.starts_with("puente: WhatsApp alert invoice_created failed: xxx"));
        assert!(dead.len() < 400, "{} characters", dead.len());
        let uncertain = whmcs_note(kind, &Outcome::Uncertain("no answer".into()), false);
        assert!(
            uncertain
                .expect("a note")
                .contains("is not sent again: no answer")
        );
        let at = jiff::Timestamp::UNIX_EPOCH;
        for outcome in [
            Outcome::Retry {
                reason: long.clone(),
                at,
            },
            Outcome::Deferred { reason: long, at },
        ] {
            assert_eq!(whmcs_note(kind, &outcome, false), None, "{outcome:?}");
        }
    }
}
