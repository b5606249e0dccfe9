//! The alert outbox worker: takes planned messages, reads what they need
//! from WHMCS, renders the template in the client's language, and sends
//! (in `dry-run` mode: records the exact request body and marks it sent).
//! Every outcome is written through the single writer.

mod facts;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::params;

pub use facts::{NotReady, Pending};

use crate::config::{Config, WhatsAppMode};
use crate::domain::alerts::AlertKind;
use crate::domain::ids::InstanceName;
use crate::domain::templates::{Parameter, TemplateCatalog};
use crate::store::{Database, Writer};
use crate::whmcs::{RetryPolicy, WhmcsClient};

/// Messages taken per pass.
const BATCH: u32 = 100;
/// Tries before a message that keeps failing is dead.
const MAX_ATTEMPTS: u32 = 8;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    pub sent: usize,
    pub skipped: usize,
    pub retried: usize,
    pub dead: usize,
}

/// The outbox worker's shared parts.
#[derive(Clone)]
pub struct Outbox {
    config: Arc<Config>,
    database: Database,
    writer: Writer,
    templates: Arc<TemplateCatalog>,
    whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
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
    Dead(String),
}

impl Outbox {
    pub fn new(config: Arc<Config>, database: Database, writer: Writer) -> anyhow::Result<Self> {
        let mut whmcs = BTreeMap::new();
        for (name, instance) in &config.instances {
            if let Some(api) = &instance.whmcs {
                let client = WhmcsClient::new(api, RetryPolicy::default()).with_context(|| {
                    format!("cannot set up the WHMCS API client of instance {name}")
                })?;
                whmcs.insert(name.clone(), client);
            }
        }
        Ok(Self {
            config,
            database,
            writer,
            templates: Arc::new(TemplateCatalog::defaults()),
            whmcs: Arc::new(whmcs),
        })
    }

    /// Resolves after a commit that planned alerts.
    pub async fn planned_alerts(&self) {
        self.writer.planned_alerts().await;
    }

    /// Handles every message due now, once; returns what happened.
    pub async fn drain(&self) -> anyhow::Result<DrainReport> {
        let now = jiff::Timestamp::now();
        let database = self.database.clone();
        let due = tokio::task::spawn_blocking(move || due(&database, now))
            .await
            .context("the outbox query stopped")??;
        let mut report = DrainReport::default();
        for (instance, message) in due {
            let outcome = self.prepare(&instance, &message, now).await;
            match &outcome {
                Outcome::Sent { .. } => report.sent += 1,
                Outcome::Skipped(_) => report.skipped += 1,
                Outcome::Retry { .. } => report.retried += 1,
                Outcome::Dead(_) => report.dead += 1,
            }
            let id = message.id;
            self.writer
                .change(move |connection| record(connection, id, &outcome, now))
                .await
                .context("cannot record a message's outcome")?;
        }
        Ok(report)
    }

    async fn prepare(
        &self,
        instance: &InstanceName,
        message: &Pending,
        now: jiff::Timestamp,
    ) -> Outcome {
        let retry = |reason: String| {
            if message.attempts + 1 >= MAX_ATTEMPTS {
                return Outcome::Dead(format!("gave up after {MAX_ATTEMPTS} tries: {reason}"));
            }
            let delay = Duration::from_secs(60 * 2u64.pow(message.attempts.min(10)));
            Outcome::Retry {
                reason,
                at: now + delay,
            }
        };
        let Some(whmcs) = self.whmcs.get(instance) else {
            return retry(format!(
                "instance {instance} has no WHMCS API settings (PUENTE_WHMCS_URL, …)"
            ));
        };
        let public_url = self
            .config
            .instances
            .get(instance)
            .and_then(|settings| settings.public_url.as_ref())
            .map(|url| {
                let text = url.as_str();
                if text.ends_with('/') {
                    text.to_owned()
                } else {
                    format!("{text}/")
                }
            })
            .unwrap_or_default();
        let facts = match facts::resolve(whmcs, message, &public_url).await {
            Ok(facts) => facts,
            Err(NotReady::Skip(reason)) => return Outcome::Skipped(reason),
            Err(NotReady::Gone(reason)) => return Outcome::Dead(reason),
            Err(NotReady::Retry(reason)) => return retry(reason),
        };
        let language = self
            .templates
            .language_for(message.kind, &facts.client.language)
            .to_owned();
        let values = &facts.values;
        let body = match self.templates.message_body(
            message.kind,
            &language,
            &facts.to,
            |parameter: Parameter| values.get(parameter.as_str()).cloned(),
        ) {
            Ok(body) => body.to_string(),
            Err(error) => return Outcome::Dead(error.to_string()),
        };
        match self.config.whatsapp.mode {
            WhatsAppMode::DryRun => Outcome::Sent {
                body,
                language,
                wamid: format!("dryrun.{}", message.id),
            },
            WhatsAppMode::Cloud => {
                retry("sending through the Cloud API is not in this release; use dry-run".into())
            }
        }
    }
}

/// Planned messages due at `now`, oldest first. Rows naming an instance
/// or alert this version does not know are left alone.
fn due(database: &Database, now: jiff::Timestamp) -> anyhow::Result<Vec<(InstanceName, Pending)>> {
    let connection = database.reader()?;
    let mut statement = connection.prepare(
        "SELECT id, instance, kind, client_id, subject_kind, subject_id, previous_phone, previous_country, attempts
           FROM messages
          WHERE status = 'planned' AND (next_attempt_at_ms IS NULL OR next_attempt_at_ms <= ?1)
          ORDER BY id LIMIT ?2",
    )?;
    let id = |value: Option<i64>| value.and_then(|id| u64::try_from(id).ok());
    let rows = statement.query_map(params![now.as_millisecond(), BATCH], |row| {
        let instance: String = row.get(1)?;
        let kind: String = row.get(2)?;
        let previous_phone: Option<String> = row.get(6)?;
        let previous_country: Option<String> = row.get(7)?;
        let pending = |kind| Pending {
            id: 0,
            kind,
            client_id: None,
            subject_kind: String::new(),
            subject_id: None,
            previous_phone: previous_phone
                .clone()
                .map(|phone| (phone, previous_country.clone().unwrap_or_default())),
            attempts: 0,
        };
        let known = InstanceName::parse(&instance).ok().zip(
            AlertKind::ALL
                .into_iter()
                .find(|known| known.as_str() == kind),
        );
        Ok(match known {
            None => None,
            Some((instance, kind)) => Some((
                instance,
                Pending {
                    id: row.get(0)?,
                    client_id: id(row.get(3)?),
                    subject_kind: row.get(4)?,
                    subject_id: id(row.get(5)?),
                    attempts: row.get(8)?,
                    ..pending(kind)
                },
            )),
        })
    })?;
    let mut due = Vec::new();
    for row in rows {
        due.extend(row?);
    }
    Ok(due)
}

fn record(
    connection: &rusqlite::Connection,
    id: i64,
    outcome: &Outcome,
    now: jiff::Timestamp,
) -> rusqlite::Result<()> {
    let now_ms = now.as_millisecond();
    match outcome {
        Outcome::Sent { body, language, wamid } => connection.execute(
            "UPDATE messages SET status = 'sent', request_body = ?2, language = ?3, wamid = ?4,
                                 status_at_ms = ?5, attempts = attempts + 1, reason = NULL
              WHERE id = ?1 AND status = 'planned'",
            params![id, body, language, wamid, now_ms],
        ),
        Outcome::Skipped(reason) => connection.execute(
            "UPDATE messages SET status = 'skipped', reason = ?2, status_at_ms = ?3 WHERE id = ?1 AND status = 'planned'",
            params![id, reason, now_ms],
        ),
        Outcome::Retry { reason, at } => connection.execute(
            "UPDATE messages SET attempts = attempts + 1, reason = ?2, next_attempt_at_ms = ?3
              WHERE id = ?1 AND status = 'planned'",
            params![id, reason, at.as_millisecond()],
        ),
        Outcome::Dead(reason) => connection.execute(
            "UPDATE messages SET status = 'dead', reason = ?2, status_at_ms = ?3, attempts = attempts + 1
              WHERE id = ?1 AND status = 'planned'",
            params![id, reason, now_ms],
        ),
    }
    .map(|_| ())
}
