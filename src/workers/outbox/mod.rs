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
use rusqlite::params;

pub use facts::{NotReady, Pending};

use crate::config::{Config, WhatsAppMode};
use crate::domain::alerts::AlertKind;
use crate::domain::ids::InstanceName;
use crate::domain::meta_errors::{self, SendFailure};
use crate::domain::retry::RetrySchedule;
use crate::domain::templates::Parameter;
use crate::metrics::Metrics;
use crate::store::{Database, Writer};
use crate::whatsapp::{CloudClient, SendResult};
use crate::whmcs::WhmcsClient;

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
    database: Database,
    writer: Writer,
    whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
    /// The Cloud API client of each instance in `cloud` mode.
    cloud: Arc<BTreeMap<InstanceName, CloudClient>>,
    metrics: Arc<Metrics>,
    /// Phone number id -> when its sending may start again.
    paused_until: Arc<Mutex<HashMap<String, jiff::Timestamp>>>,
}

/// A message's fate, to be written.
enum Outcome {
    Sent {
        body: String,
        language: String,
        wamid: String,
    },
    Skipped(String),
    Retry {
        reason: String,
        at: jiff::Timestamp,
    },
    /// Not tried now; no attempt counted.
    Deferred {
        reason: String,
        at: jiff::Timestamp,
    },
    Dead(String),
    Uncertain(String),
}

impl Outcome {
    fn name(&self) -> &'static str {
        match self {
            Self::Sent { .. } => "sent",
            Self::Skipped(_) => "skipped",
            Self::Retry { .. } => "retried",
            Self::Deferred { .. } => "deferred",
            Self::Dead(_) => "dead",
            Self::Uncertain(_) => "uncertain",
        }
    }
}

/// A message ready to go, or already decided.
enum Prepared {
    Ready {
        body: String,
        language: String,
        to: String,
    },
    Done(Outcome),
}

/// One Cloud API try, for `message_attempts`.
struct Attempt {
    outcome: &'static str,
    http_status: Option<u16>,
    meta_code: Option<i64>,
    fbtrace_id: Option<String>,
    detail: String,
}

impl Outbox {
    pub fn new(
        config: Arc<Config>,
        database: Database,
        writer: Writer,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let whmcs = crate::whmcs::clients(&config, &metrics)?;
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
            database,
            writer,
            whmcs: Arc::new(whmcs),
            cloud: Arc::new(cloud),
            metrics,
            paused_until: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// At start: a message still `sending` was interrupted by a stop or a
    /// crash, may have reached the client, and becomes `uncertain`.
    pub async fn recover_interrupted(&self) -> anyhow::Result<usize> {
        self.writer
            .change(|connection| {
                connection.execute(
                    "UPDATE messages SET status = 'uncertain',
                            reason = 'the service stopped while sending it; it may have reached the client. Retry it from the admin API if it did not'
                      WHERE status = 'sending'",
                    [],
                )
            })
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
        let database = self.database.clone();
        let due = tokio::task::spawn_blocking(move || due(&database, now))
            .await
            .context("the outbox query stopped")??;
        let mut report = DrainReport::default();
        // Per sending number: the last send to each recipient, and the
        // last send of all.
        let mut last_to: HashMap<(String, String), jiff::Timestamp> = HashMap::new();
        let mut last_send: HashMap<String, std::time::Instant> = HashMap::new();
        let mut records: Vec<Record> = Vec::new();
        for (instance, message) in due {
            let whatsapp = &self.config.for_instance(&instance).whatsapp;
            let cloud = match whatsapp.mode {
                WhatsAppMode::DryRun => None,
                WhatsAppMode::Cloud => self.cloud.get(&instance),
            };
            let sender = whatsapp.phone_number_id.clone().unwrap_or_default();
            let (outcome, attempt) = match cloud.zip(self.paused(&sender, now)) {
                // Not even prepared: nothing is asked of WHMCS meanwhile.
                Some((_, until)) => (
                    Outcome::Deferred {
                        reason: "sending from this number is paused".into(),
                        at: until,
                    },
                    None,
                ),
                None => match (self.prepare(&instance, &message, now).await, cloud) {
                    (Prepared::Done(outcome), _) => (outcome, None),
                    (Prepared::Ready { body, language, .. }, None) => {
                        let wamid = format!("dryrun.{}", message.id);
                        (
                            Outcome::Sent {
                                body,
                                language,
                                wamid,
                            },
                            None,
                        )
                    }
                    (Prepared::Ready { body, language, to }, Some(cloud)) => {
                        let pair = (sender.clone(), to);
                        if let Some(at) = last_to
                            .get(&pair)
                            .map(|last| *last + PAIR_SPACING)
                            .filter(|at| *at > now)
                        {
                            let reason =
                                "spacing messages to one recipient (Meta's pair rate)".into();
                            (Outcome::Deferred { reason, at }, None)
                        } else {
                            if let Some(last) = last_send.get(&sender) {
                                let gap = Duration::from_secs(1) / whatsapp.send_rate.max(1);
                                tokio::time::sleep(gap.saturating_sub(last.elapsed())).await;
                            }
                            last_send.insert(sender.clone(), std::time::Instant::now());
                            last_to.insert(pair, now);
                            self.record(&mut records).await?;
                            let from = SendFrom {
                                cloud,
                                instance: &instance,
                                number: &sender,
                            };
                            let (outcome, attempt) =
                                self.send(from, &message, body, language, now).await?;
                            (outcome, Some(attempt))
                        }
                    }
                },
            };
            match &outcome {
                Outcome::Sent { .. } => report.sent += 1,
                Outcome::Skipped(_) => report.skipped += 1,
                Outcome::Retry { .. } => report.retried += 1,
                Outcome::Deferred { .. } => report.deferred += 1,
                Outcome::Dead(_) => report.dead += 1,
                Outcome::Uncertain(_) => report.uncertain += 1,
            }
            self.metrics.record_message(outcome.name(), &instance);
            let sent_now = attempt.is_some();
            records.push(Record {
                id: message.id,
                outcome,
                attempt,
                now,
            });
            if sent_now || records.len() >= RECORD_BATCH {
                self.record(&mut records).await?;
            }
        }
        self.record(&mut records).await?;
        Ok(report)
    }

    /// Writes the outcomes waiting in `records`, in one commit.
    async fn record(&self, records: &mut Vec<Record>) -> anyhow::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(records);
        self.writer
            .change(move |connection| {
                for record in &batch {
                    write_outcome(connection, record)?;
                }
                Ok(())
            })
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
        let database = self.database.clone();
        let now_ms = jiff::Timestamp::now().as_millisecond();
        let next = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<i64>> {
            let connection = database.reader()?;
            Ok(connection.query_row(NEXT_DUE, [now_ms], |row| row.get(0))?)
        })
        .await;
        match next {
            Ok(Ok(Some(at_ms))) => {
                let wait_ms = u64::try_from(at_ms - now_ms).unwrap_or(0).max(1);
                Duration::from_millis(wait_ms).min(IDLE_PASS)
            }
            Ok(Ok(None)) => IDLE_PASS,
            Ok(Err(error)) => {
                tracing::warn!(error = %format!("{error:#}"), "cannot read when the next alert is due");
                IDLE_PASS
            }
            Err(_) => IDLE_PASS,
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
        message: &Pending,
        body: String,
        language: String,
        now: jiff::Timestamp,
    ) -> anyhow::Result<(Outcome, Attempt)> {
        let SendFrom {
            cloud,
            instance,
            number: sender,
        } = from;
        let (id, recorded) = (message.id, body.clone());
        self.writer
            .change(move |connection| {
                connection.execute(
                    "UPDATE messages SET status = 'sending', request_body = ?2 WHERE id = ?1 AND status = 'planned'",
                    params![id, recorded],
                )
            })
            .await
            .context("cannot mark a message as sending")?;
        let answer = cloud.send(&body).await;
        Ok(match answer {
            SendResult::Accepted { wamid } => (
                Outcome::Sent {
                    body,
                    language,
                    wamid,
                },
                Attempt {
                    outcome: "accepted",
                    http_status: Some(200),
                    meta_code: None,
                    fbtrace_id: None,
                    detail: String::new(),
                },
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
                let outcome = match meta_errors::classify(code, http_status) {
                    SendFailure::Retry(after) => self.retry(instance, message, reason, now, after),
                    SendFailure::Permanent => Outcome::Dead(reason),
                    SendFailure::Halt => {
                        tracing::error!(%reason, %instance, %sender, "WhatsApp sending from this number paused: Meta refused the token, permissions or account");
                        self.pause(sender, now + PAUSE);
                        Outcome::Deferred {
                            reason,
                            at: now + PAUSE,
                        }
                    }
                };
                (
                    outcome,
                    Attempt {
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
                    instance,
                    message,
                    format!("the Cloud API could not be reached: {detail}"),
                    now,
                    Duration::ZERO,
                ),
                Attempt {
                    outcome: "not_sent",
                    http_status: None,
                    meta_code: None,
                    fbtrace_id: None,
                    detail,
                },
            ),
            SendResult::Unknown(detail) => (
                Outcome::Uncertain(format!(
                    "no answer from the Cloud API after sending ({detail}); it may have reached the client"
                )),
                Attempt {
                    outcome: "unknown",
                    http_status: None,
                    meta_code: None,
                    fbtrace_id: None,
                    detail,
                },
            ),
        })
    }

    /// Another try at the next delay of the instance's schedule (at least
    /// `at_least`, what Meta asked for), or a dead letter when none is left.
    fn retry(
        &self,
        instance: &InstanceName,
        message: &Pending,
        reason: String,
        now: jiff::Timestamp,
        at_least: Duration,
    ) -> Outcome {
        let schedule = &self.config.for_instance(instance).outbox_retry;
        let mut random = [0u8; 1];
        let _ = getrandom::fill(&mut random);
        let jitter = RetrySchedule::jitter_from(random[0]);
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

    async fn prepare(
        &self,
        instance: &InstanceName,
        message: &Pending,
        now: jiff::Timestamp,
    ) -> Prepared {
        let retry = |reason: String| {
            Prepared::Done(self.retry(instance, message, reason, now, Duration::ZERO))
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
            Err(NotReady::Skip(reason)) => return Prepared::Done(Outcome::Skipped(reason)),
            Err(NotReady::Gone(reason)) => return Prepared::Done(Outcome::Dead(reason)),
            Err(NotReady::Retry(reason)) => return retry(reason),
        };
        let templates = &rules.alert_templates;
        let language = templates
            .language_for(message.kind, &facts.client.language)
            .to_owned();
        let mut values = facts.values;
        facts::localise(message.kind, &language, &mut values);
        if let Some(brand) = &rules.alerts.brand {
            values.insert(Parameter::Brand.as_str(), brand.clone());
        }
        let values = &values;
        match templates.message_body(
            message.kind,
            &language,
            &facts.to,
            |parameter: Parameter| values.get(parameter.as_str()).cloned(),
        ) {
            Ok(body) => Prepared::Ready {
                body: body.to_string(),
                language,
                to: facts.to.digits().to_owned(),
            },
            Err(error) => Prepared::Done(Outcome::Dead(error.to_string())),
        }
    }
}

/// The planned messages due at `?1`, at most `?2`; see [`due`].
const DUE: &str = "SELECT * FROM (
        SELECT id, instance, kind, client_id, subject_kind, subject_id, previous_phone,
               previous_country, attempts, details
          FROM messages
         WHERE status = 'planned' AND next_attempt_at_ms IS NULL
         ORDER BY id LIMIT ?2)
    UNION ALL
    SELECT * FROM (
        SELECT id, instance, kind, client_id, subject_kind, subject_id, previous_phone,
               previous_country, attempts, details
          FROM messages
         WHERE status = 'planned' AND next_attempt_at_ms <= ?1
         ORDER BY next_attempt_at_ms, id LIMIT ?2)
    ORDER BY id LIMIT ?2";

/// The earliest retry or deferral after `?1`, in milliseconds; `NULL` when
/// none is planned. One read of the `messages_due` index. (New messages are
/// taken by the pass that follows their commit, or by the next one when a
/// pass was full.)
const NEXT_DUE: &str = "SELECT min(next_attempt_at_ms) FROM messages
     WHERE status = 'planned' AND next_attempt_at_ms > ?1";

/// Planned messages due at `now`, oldest first: new ones in id order, and
/// retries that came due, earliest first. Rows naming an instance or alert
/// this version does not know are left alone.
///
/// Each half is a range of the `messages_due` index read in its own order,
/// so a pass reads at most two batches however many messages wait for a
/// later retry (one query with `IS NULL OR <=` read every planned row and
/// sorted them, on every pass, while WHMCS was unreachable).
fn due(database: &Database, now: jiff::Timestamp) -> anyhow::Result<Vec<(InstanceName, Pending)>> {
    let connection = database.reader()?;
    let mut statement = connection.prepare(DUE)?;
    let id = |value: Option<i64>| value.and_then(|id| u64::try_from(id).ok());
    let rows = statement.query_map(params![now.as_millisecond(), BATCH], |row| {
        let instance: String = row.get(1)?;
        let kind: String = row.get(2)?;
        let known = InstanceName::parse(&instance).ok().zip(
            AlertKind::ALL
                .into_iter()
                .find(|known| known.as_str() == kind),
        );
        let Some((instance, kind)) = known else {
            return Ok(None);
        };
        let previous_phone: Option<String> = row.get(6)?;
        let previous_country: Option<String> = row.get(7)?;
        Ok(Some((
            instance,
            Pending {
                id: row.get(0)?,
                kind,
                client_id: id(row.get(3)?),
                subject_kind: row.get(4)?,
                subject_id: id(row.get(5)?),
                previous_phone: previous_phone
                    .map(|phone| (phone, previous_country.unwrap_or_default())),
                attempts: row.get(8)?,
                details: facts::details(row.get::<_, Option<String>>(9)?.as_deref()),
            },
        )))
    })?;
    let mut due = Vec::new();
    for row in rows {
        due.extend(row?);
    }
    Ok(due)
}

/// Who sends a message: an instance's Cloud API client and its number.
#[derive(Clone, Copy)]
struct SendFrom<'a> {
    cloud: &'a CloudClient,
    instance: &'a InstanceName,
    number: &'a str,
}

/// A message's outcome, waiting to be written.
struct Record {
    id: i64,
    outcome: Outcome,
    attempt: Option<Attempt>,
    now: jiff::Timestamp,
}

fn write_outcome(connection: &rusqlite::Connection, record: &Record) -> rusqlite::Result<()> {
    let Record {
        id,
        outcome,
        attempt,
        now,
    } = record;
    let (id, attempt) = (*id, attempt.as_ref());
    let now_ms = now.as_millisecond();
    // Only a message this pass took: never one an operator or a webhook moved.
    match outcome {
        Outcome::Sent { body, language, wamid } => connection.execute(
            "UPDATE messages SET status = 'sent', request_body = ?2, language = ?3, wamid = ?4,
                                 status_at_ms = ?5, attempts = attempts + 1, reason = NULL
              WHERE id = ?1 AND status IN ('planned', 'sending')",
            params![id, body, language, wamid, now_ms],
        ),
        Outcome::Skipped(reason) => connection.execute(
            "UPDATE messages SET status = 'skipped', reason = ?2, status_at_ms = ?3 WHERE id = ?1 AND status = 'planned'",
            params![id, reason, now_ms],
        ),
        Outcome::Retry { reason, at } => connection.execute(
            "UPDATE messages SET status = 'planned', attempts = attempts + 1, reason = ?2, next_attempt_at_ms = ?3
              WHERE id = ?1 AND status IN ('planned', 'sending')",
            params![id, reason, at.as_millisecond()],
        ),
        Outcome::Deferred { reason, at } => connection.execute(
            "UPDATE messages SET status = 'planned', reason = ?2, next_attempt_at_ms = ?3
              WHERE id = ?1 AND status IN ('planned', 'sending')",
            params![id, reason, at.as_millisecond()],
        ),
        Outcome::Dead(reason) => connection.execute(
            "UPDATE messages SET status = 'dead', reason = ?2, status_at_ms = ?3, attempts = attempts + 1
              WHERE id = ?1 AND status IN ('planned', 'sending')",
            params![id, reason, now_ms],
        ),
        Outcome::Uncertain(reason) => connection.execute(
            "UPDATE messages SET status = 'uncertain', reason = ?2, status_at_ms = ?3, attempts = attempts + 1
              WHERE id = ?1 AND status = 'sending'",
            params![id, reason, now_ms],
        ),
    }?;
    if let Some(attempt) = attempt {
        connection.execute(
            "INSERT INTO message_attempts (message_id, at_ms, outcome, http_status, meta_code, fbtrace_id, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, now_ms, attempt.outcome, attempt.http_status, attempt.meta_code, attempt.fbtrace_id, attempt.detail],
        )?;
    }
    Ok(())
}

impl super::Worker for Outbox {
    const NAME: &'static str = "outbox";
    const WORK: Option<crate::store::Work> = Some(crate::store::Work::Alerts);

    fn writer(&self) -> &Writer {
        &self.writer
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

    fn database() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().expect("temp dir");
        let database =
            Database::open(&dir.path().join("o.db"), Duration::from_secs(1)).expect("database");
        (dir, database)
    }

    #[test]
    fn a_pass_takes_new_messages_and_due_retries_in_id_order_and_leaves_later_ones() {
        let (_dir, database) = database();
        let now = jiff::Timestamp::from_millisecond(1_000_000).expect("time");
        let connection = rusqlite::Connection::open(database.path()).expect("connect");
        connection
            .execute_batch(
                "INSERT INTO events (seq, id, instance, type, actor_kind, source, occurred_at_ms,
                                     received_at_ms, status, body)
                 VALUES (1, 'evt_1', 'default', 'ClientAdd', 'system', 'cron', 0, 0,
                         'received', x'7b7d');",
            )
            .expect("event");
        // id, when to try again (NULL: as soon as possible), status
        for (id, next, status) in [
            (1, Some(999_000), "planned"),
            (2, None, "planned"),
            (3, Some(2_000_000), "planned"),
            (4, None, "sent"),
            (5, Some(1_000_000), "planned"),
        ] {
            connection
                .execute(
                    "INSERT INTO messages (id, event_seq, instance, kind, client_id, subject_kind,
                                           dedupe_key, status, planned_at_ms, next_attempt_at_ms)
                     VALUES (?1, 1, 'default', 'welcome', 7, 'client', ?2, ?3, 0, ?4)",
                    rusqlite::params![id, format!("welcome:{id}"), status, next],
                )
                .expect("message");
        }
        let ids: Vec<i64> = due(&database, now)
            .expect("due")
            .into_iter()
            .map(|(_, message)| message.id)
            .collect();
        assert_eq!(ids, [1, 2, 5]);
    }

    #[test]
    fn the_next_due_time_is_one_index_read() {
        let (_dir, database) = database();
        let connection = database.reader().expect("reader");
        let plan: Vec<String> = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {NEXT_DUE}"))
            .expect("plan")
            .query_map([0], |row| row.get(3))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH messages USING COVERING INDEX messages_due")),
            "{plan:#?}"
        );
    }

    #[test]
    fn a_pass_reads_index_ranges_not_every_planned_message() {
        let (_dir, database) = database();
        let connection = database.reader().expect("reader");
        let mut statement = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {DUE}"))
            .expect("plan");
        let plan: Vec<String> = statement
            .query_map(params![0, BATCH], |row| row.get(3))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        let searches = plan
            .iter()
            .filter(|step| step.starts_with("SEARCH messages USING INDEX messages_due"))
            .count();
        assert_eq!(searches, 2, "{plan:#?}");
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN messages")),
            "{plan:#?}"
        );
    }
}
