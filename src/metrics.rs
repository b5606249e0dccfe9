//! Prometheus metrics: what operators graph and alert on.
//!
//! Labels are bounded: routes are matched patterns, reasons are error codes,
//! `whmcs_instance` holds configured instance names (or the names of
//! authenticated events; empty when a refused request named none that is
//! configured). It is not called `instance`: Prometheus gives that label to
//! every scrape target (the replica's host:port) and would rename ours.
//!
//! Every series whose outcomes are known is created at 0 when the service
//! starts ([`Metrics::start_series`]): `increase()` needs two samples, so
//! a counter that appears at 1 hides its first increment, and an alert on
//! the first dead letter or failed cancellation after a start would never
//! fire.

// Measurements (seconds, ratios) are floats, as Prometheus takes them;
// no money or rule goes through here.
#![allow(clippy::disallowed_types)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::ids::InstanceName;
use crate::domain::status::TransferStatus;

/// `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    outcome: &'static str,
    reason: &'static str,
    whmcs_instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
    whmcs_instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabels {
    whmcs_instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplicaLabels {
    replica: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkLabels {
    worker: &'static str,
    whmcs_instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerLabels {
    worker: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TemplateLabels {
    whmcs_instance: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RescueLabels {
    kind: &'static str,
}

/// Outcomes of `puente_whatsapp_messages_total` (`store::messages::Outcome`).
const MESSAGE_OUTCOMES: &[&str] = &[
    "sent",
    "skipped",
    "retried",
    "deferred",
    "dead",
    "uncertain",
];

/// Outcomes of `puente_upgrades_total`: quotes by where the paid amount came
/// from, then the worker's.
const UPGRADE_OUTCOMES: &[&str] = &[
    "paid_invoices",
    "paid_upgrade_restart",
    "paid_recurring_amount_fallback",
    "paid_free_account",
    "applied",
    "apply_failed",
    "manual_ticket",
];

/// Outcomes of `puente_cancellations_total`.
const CANCELLATION_OUTCOMES: &[&str] = &[
    "requested",
    "renewal_disabled",
    "scheduled",
    "terminated",
    "terminated_by_whmcs",
    "failed",
    "held",
    "withdrawn",
];

/// Outcomes of `puente_whatsapp_replies_total`.
const REPLY_OUTCOMES: &[&str] = &[
    "opted_out",
    "opted_in",
    "ticket",
    "kept",
    "retried",
    "failed",
];

/// Kinds of `puente_lease_rescues_total`.
const RESCUE_KINDS: &[&str] = &[
    "message_uncertain",
    "message",
    "upgrade",
    "cancellation",
    "transfer",
];

/// Workers of `puente_worker_pass_failures_total`.
const WORKERS: &[&str] = &[
    "outbox",
    "upgrades",
    "cancellations",
    "transfers",
    "retention",
    "templates",
    "replies",
    "reconcile",
];

/// Workers whose due work is read at each scrape (`store::dashboard`).
const DUE_WORKERS: &[&str] = &[
    "outbox",
    "upgrades",
    "cancellations",
    "transfers",
    "replies",
];

/// Tables of `puente_retention_deleted_total` (`store::retention::Purged`).
const RETENTION_TABLES: &[&str] = &["events", "messages", "message_attempts"];

/// What happened to one event offered to `/v1/hooks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Accepted,
    Duplicate,
    /// Refused, with the API error code as the reason.
    Rejected(&'static str),
}

/// Every metric the service exports, shared by the HTTP workers and the
/// storage writer.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    events: Family<EventLabels, Counter>,
    commit_batch_size: Histogram,
    commit_seconds: Histogram,
    messages: Family<OutcomeLabels, Counter>,
    sending_paused: Family<InstanceLabels, Gauge>,
    unknown_sender_statuses: Counter,
    upgrades: Family<OutcomeLabels, Counter>,
    cancellations: Family<OutcomeLabels, Counter>,
    transfers: Family<OutcomeLabels, Counter>,
    replies: Family<OutcomeLabels, Counter>,
    retention: Family<TableLabels, Counter>,
    replica_heartbeat_age: Family<ReplicaLabels, Gauge>,
    leader: Family<ReplicaLabels, Gauge>,
    rescues: Family<RescueLabels, Counter>,
    ready: Gauge,
    work_backlog: Family<WorkLabels, Gauge>,
    work_oldest_due: Family<WorkLabels, Gauge>,
    dead_letters: Family<InstanceLabels, Gauge>,
    pass_failures: Family<WorkerLabels, Counter>,
    templates: Family<TemplateLabels, Gauge>,
    templates_checked: Family<InstanceLabels, Gauge>,
    /// Commit times since the last [`Metrics::sample`], for the dashboard.
    commit_window: CommitWindow,
    /// The dashboard's charts: one sample a minute, the last hour.
    history: Mutex<History>,
    /// The last outcome of each instance's connections.
    links: Mutex<BTreeMap<(String, Link), LinkStatus>>,
    /// The configured instances, whose gauges read 0 rather than vanish.
    instances: Mutex<Vec<String>>,
}

/// Commit times since the last sample, in microseconds.
#[derive(Default)]
struct CommitWindow {
    count: AtomicU64,
    sum_us: AtomicU64,
    max_us: AtomicU64,
}

#[derive(Default)]
struct History {
    samples: VecDeque<Sample>,
    /// Events accepted by each instance up to the last sample.
    totals: BTreeMap<String, u64>,
}

/// Samples the dashboard keeps: one hour at one a minute.
pub const HISTORY_LEN: usize = 60;

/// One minute of the figures the dashboard charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub at: jiff::Timestamp,
    /// Events accepted since the previous sample, by instance.
    pub events: BTreeMap<String, u64>,
    /// Alerts waiting to be sent at the sample's time, by instance.
    pub backlog: BTreeMap<String, u64>,
    /// Mean and slowest group commit since the previous sample (0 when
    /// there was none).
    pub commit_mean_us: u64,
    pub commit_max_us: u64,
}

/// A connection puente makes for an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Link {
    Whmcs,
    /// The addon's signed `action.php` inside WHMCS.
    Addon,
    Meta,
}

/// What the last calls over a connection gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStatus {
    pub last_ok: Option<jiff::Timestamp>,
    /// When and why the last call failed.
    pub last_error: Option<(jiff::Timestamp, String)>,
    /// Whether the most recent call worked.
    pub working: bool,
}

/// A handle that records the outcome of one instance's calls over one
/// connection.
#[derive(Clone)]
pub struct LinkHealth {
    metrics: Arc<Metrics>,
    instance: String,
    link: Link,
}

impl LinkHealth {
    pub fn new(metrics: &Arc<Metrics>, instance: &InstanceName, link: Link) -> Self {
        Self {
            metrics: Arc::clone(metrics),
            instance: instance.as_str().to_owned(),
            link,
        }
    }

    /// Records a call's outcome: `Err` with a reason that holds no secret.
    pub fn record(&self, outcome: Result<(), String>) {
        let now = jiff::Timestamp::now();
        let mut links = self
            .metrics
            .links
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let status = links.entry((self.instance.clone(), self.link)).or_default();
        match outcome {
            Ok(()) => {
                status.last_ok = Some(now);
                status.working = true;
            }
            Err(reason) => {
                status.last_error = Some((now, reason));
                status.working = false;
            }
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabels {
    table: &'static str,
    whmcs_instance: String,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("puente");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "events",
            "Hook events offered to /v1/hooks, by outcome and rejection reason",
            events.clone(),
        );
        let commit_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        registry.register(
            "commit_batch_size",
            "Events made durable by one group commit",
            commit_batch_size.clone(),
        );
        let commit_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "commit_seconds",
            "Time to write and fsync one group commit",
            commit_seconds.clone(),
        );
        let messages = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "whatsapp_messages",
            "WhatsApp alerts handled by the outbox, by outcome (sent, skipped, retried, dead, uncertain)",
            messages.clone(),
        );
        let sending_paused = Family::<InstanceLabels, Gauge>::default();
        registry.register(
            "whatsapp_sending_paused",
            "1 while an instance's sending is paused because Meta refused its number's token, \
             permissions or account (alarm)",
            sending_paused.clone(),
        );
        let unknown_sender_statuses = Counter::default();
        registry.register(
            "whatsapp_unknown_sender_statuses",
            "Meta delivery statuses for a number no instance sends from, acknowledged and ignored",
            unknown_sender_statuses.clone(),
        );
        let upgrades = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "upgrades",
            "Upgrade work by outcome: quotes by where the paid amount came from (paid_invoices, \
             paid_upgrade_restart, paid_recurring_amount_fallback, paid_free_account), applied, \
             apply_failed, manual_ticket",
            upgrades.clone(),
        );
        let cancellations = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "cancellations",
            "Cancellation work by outcome: requested (client page), renewal_disabled, scheduled \
             (dates read for a request WHMCS recorded), terminated, terminated_by_whmcs, failed, \
             held (WHMCS's automation told to wait), withdrawn (staff deleted the request in \
             WHMCS: never terminated)",
            cancellations.clone(),
        );
        let transfers = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "transfers",
            "Transfer steps by outcome: requested, accepted, declined, withdrawn, approved, \
             expired, completed, failed",
            transfers.clone(),
        );
        let replies = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "whatsapp_replies",
            "Messages clients sent on WhatsApp, by what puente did: what the replies worker did with \
             each message of a known client: opted_out and opted_in (written to WHMCS), ticket \
             (opened or added to), kept (nothing to do: no opt-out field, tickets off), retried \
             (WHMCS unavailable), failed",
            replies.clone(),
        );
        let retention = Family::<TableLabels, Counter>::default();
        registry.register(
            "retention_deleted",
            "Rows deleted by retention, by table (events, messages, message_attempts) and instance",
            retention.clone(),
        );
        let replica_heartbeat_age = Family::<ReplicaLabels, Gauge>::default();
        registry.register(
            "replica_heartbeat_age_seconds",
            "Seconds since each live replica's last heartbeat, as this replica last read them \
             (PostgreSQL; a replica silent 10 s is dead and leaves the list)",
            replica_heartbeat_age.clone(),
        );
        let leader = Family::<ReplicaLabels, Gauge>::default();
        registry.register(
            "leader",
            "1 for the replica that leads (runs retention and rescues), as this replica last read it",
            leader.clone(),
        );
        let rescues = Family::<RescueLabels, Counter>::default();
        registry.register(
            "lease_rescues",
            "Rows a dead replica held that this replica's leader sweep took back: \
             message_uncertain (was sending: never resent by itself), message, upgrade, \
             cancellation, transfer (handed back for any replica to carry out)",
            rescues.clone(),
        );
        let ready = Gauge::default();
        registry.register(
            "ready",
            "1 when this replica's store committed a probe write at the last scrape, as /readyz \
             asks; 0 when it did not",
            ready.clone(),
        );
        let work_backlog = Family::<WorkLabels, Gauge>::default();
        registry.register(
            "work_backlog",
            "Records a worker (outbox, upgrades, cancellations, transfers) must act on now, by \
             instance, read at each scrape; waiting on a client or staff is not due",
            work_backlog.clone(),
        );
        let work_oldest_due = Family::<WorkLabels, Gauge>::default();
        registry.register(
            "work_oldest_due_seconds",
            "How long the oldest record a worker must act on has been due, by instance, read at \
             each scrape (0 when nothing is due)",
            work_oldest_due.clone(),
        );
        let dead_letters = Family::<InstanceLabels, Gauge>::default();
        registry.register(
            "dead_letters",
            "WhatsApp alerts that used up their tries and wait for an operator's retry, by \
             instance, read at each scrape",
            dead_letters.clone(),
        );
        let pass_failures = Family::<WorkerLabels, Counter>::default();
        registry.register(
            "worker_pass_failures",
            "Worker passes that failed (the worker rests a minute and tries again), by worker",
            pass_failures.clone(),
        );
        let templates = Family::<TemplateLabels, Gauge>::default();
        registry.register(
            "whatsapp_templates",
            "Alert templates (one per alert kind and language) by what the last reading of the \
             WhatsApp Business Account found: ready, missing, not_approved, parameters_differ, \
             other_variables; alerts whose template is not ready are not sent",
            templates.clone(),
        );
        let templates_checked = Family::<InstanceLabels, Gauge>::default();
        registry.register(
            "whatsapp_templates_checked_timestamp_seconds",
            "Unix time of the last reading of the WhatsApp Business Account's templates that \
             worked (checked at start-up and hourly)",
            templates_checked.clone(),
        );
        Arc::new(Self {
            templates,
            templates_checked,
            ready,
            work_backlog,
            work_oldest_due,
            dead_letters,
            pass_failures,
            replica_heartbeat_age,
            leader,
            rescues,
            retention,
            registry,
            upgrades,
            cancellations,
            transfers,
            replies,
            messages,
            sending_paused,
            unknown_sender_statuses,
            requests,
            events,
            commit_batch_size,
            commit_seconds,
            commit_window: CommitWindow::default(),
            history: Mutex::new(History::default()),
            links: Mutex::new(BTreeMap::new()),
            instances: Mutex::new(Vec::new()),
        })
    }

    /// Creates at 0 every series of `instances` whose outcomes are known,
    /// and every worker's; gauges of these instances read 0 from then on
    /// when nothing is due or dead.
    pub fn start_series(&self, instances: &[String]) {
        *self
            .instances
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = instances.to_vec();
        for instance in instances {
            let at_zero = |family: &Family<OutcomeLabels, Counter>, outcomes: &[&'static str]| {
                for &outcome in outcomes {
                    drop(family.get_or_create(&OutcomeLabels {
                        outcome,
                        whmcs_instance: instance.clone(),
                    }));
                }
            };
            at_zero(&self.messages, MESSAGE_OUTCOMES);
            at_zero(&self.upgrades, UPGRADE_OUTCOMES);
            at_zero(&self.cancellations, CANCELLATION_OUTCOMES);
            at_zero(&self.transfers, TransferStatus::NAMES);
            at_zero(&self.replies, REPLY_OUTCOMES);
            for outcome in ["accepted", "duplicate"] {
                drop(self.events.get_or_create(&EventLabels {
                    outcome,
                    reason: "",
                    whmcs_instance: instance.clone(),
                }));
            }
            drop(self.sending_paused.get_or_create(&InstanceLabels {
                whmcs_instance: instance.clone(),
            }));
            for &table in RETENTION_TABLES {
                drop(self.retention.get_or_create(&TableLabels {
                    table,
                    whmcs_instance: instance.clone(),
                }));
            }
        }
        for &worker in WORKERS {
            drop(self.pass_failures.get_or_create(&WorkerLabels { worker }));
        }
        for &kind in RESCUE_KINDS {
            drop(self.rescues.get_or_create(&RescueLabels { kind }));
        }
        self.record_due_work([]);
        self.record_dead_letters([]);
    }

    fn known_instances(&self) -> Vec<String> {
        self.instances
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn record_request(&self, route: &str, method: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
    }

    /// `instance`: the event's, or `None` when it was refused before one
    /// was known.
    pub fn record_event(&self, outcome: EventOutcome, instance: Option<&InstanceName>) {
        let (outcome, reason) = match outcome {
            EventOutcome::Accepted => ("accepted", ""),
            EventOutcome::Duplicate => ("duplicate", ""),
            EventOutcome::Rejected(reason) => ("rejected", reason),
        };
        self.events
            .get_or_create(&EventLabels {
                outcome,
                reason,
                whmcs_instance: instance.map_or_else(String::new, |name| name.as_str().to_owned()),
            })
            .inc();
    }

    pub fn record_commit(&self, batch_size: usize, seconds: f64) {
        self.commit_batch_size.observe(batch_size as f64);
        self.commit_seconds.observe(seconds);
        // Saturating float-to-int cast: a commit never takes 584,000 years.
        let micros = (seconds * 1e6) as u64;
        let window = &self.commit_window;
        window.count.fetch_add(1, Ordering::Relaxed);
        window.sum_us.fetch_add(micros, Ordering::Relaxed);
        window.max_us.fetch_max(micros, Ordering::Relaxed);
    }

    /// Events accepted so far for `instance`.
    fn accepted(&self, instance: &str) -> u64 {
        self.events
            .get_or_create(&EventLabels {
                outcome: "accepted",
                reason: "",
                whmcs_instance: instance.to_owned(),
            })
            .get()
    }

    /// Takes the minute's sample at `at`: events accepted since the last
    /// one, the commits since then, and the `backlog` read by the caller.
    pub fn sample(
        &self,
        at: jiff::Timestamp,
        backlog: BTreeMap<String, u64>,
        instances: &[String],
    ) {
        let window = &self.commit_window;
        let count = window.count.swap(0, Ordering::Relaxed);
        let sum = window.sum_us.swap(0, Ordering::Relaxed);
        let max = window.max_us.swap(0, Ordering::Relaxed);
        let mut history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        let mut events = BTreeMap::new();
        for name in instances {
            let total = self.accepted(name);
            let before = history.totals.insert(name.clone(), total).unwrap_or(0);
            events.insert(name.clone(), total.saturating_sub(before));
        }
        if history.samples.len() == HISTORY_LEN {
            history.samples.pop_front();
        }
        history.samples.push_back(Sample {
            at,
            events,
            backlog,
            commit_mean_us: sum.checked_div(count).unwrap_or(0),
            commit_max_us: max,
        });
    }

    /// The samples of the last hour, oldest first.
    pub fn history(&self) -> Vec<Sample> {
        self.history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .samples
            .iter()
            .cloned()
            .collect()
    }

    /// The last outcome of every connection that was used.
    pub fn links(&self) -> BTreeMap<(String, Link), LinkStatus> {
        self.links
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn outcome(
        family: &Family<OutcomeLabels, Counter>,
        known: &[&str],
        outcome: &'static str,
        instance: &str,
    ) {
        debug_assert!(
            known.contains(&outcome),
            "{outcome} is missing from its family's list of outcomes"
        );
        family
            .get_or_create(&OutcomeLabels {
                outcome,
                whmcs_instance: instance.to_owned(),
            })
            .inc();
    }

    pub fn record_message(&self, outcome: &'static str, instance: &InstanceName) {
        Self::outcome(&self.messages, MESSAGE_OUTCOMES, outcome, instance.as_str());
    }

    /// What puente did with a message a client sent (one of
    /// [`REPLY_OUTCOMES`]).
    pub fn record_reply(&self, outcome: &'static str, instance: &str) {
        Self::outcome(&self.replies, REPLY_OUTCOMES, outcome, instance);
    }

    pub fn record_upgrade(&self, outcome: &'static str, instance: &str) {
        Self::outcome(&self.upgrades, UPGRADE_OUTCOMES, outcome, instance);
    }

    pub fn record_cancellation(&self, outcome: &'static str, instance: &str) {
        Self::outcome(
            &self.cancellations,
            CANCELLATION_OUTCOMES,
            outcome,
            instance,
        );
    }

    pub fn record_transfer(&self, outcome: &'static str, instance: &str) {
        Self::outcome(&self.transfers, TransferStatus::NAMES, outcome, instance);
    }

    pub fn set_sending_paused(&self, instance: &InstanceName, paused: bool) {
        self.sending_paused
            .get_or_create(&InstanceLabels {
                whmcs_instance: instance.as_str().to_owned(),
            })
            .set(i64::from(paused));
    }

    /// Whether `instance`'s sending is paused (see `set_sending_paused`).
    pub fn sending_paused(&self, instance: &InstanceName) -> bool {
        self.sending_paused
            .get_or_create(&InstanceLabels {
                whmcs_instance: instance.as_str().to_owned(),
            })
            .get()
            == 1
    }

    /// Rows retention deleted from one table.
    pub fn record_purged(&self, instance: &str, table: &'static str, count: usize) {
        debug_assert!(
            RETENTION_TABLES.contains(&table),
            "{table} is not a kept table"
        );
        if count > 0 {
            self.retention
                .get_or_create(&TableLabels {
                    table,
                    whmcs_instance: instance.to_owned(),
                })
                .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
        }
    }

    /// The live replicas this one read at its last heartbeat, each as its
    /// id, its heartbeat age in milliseconds and whether it leads. Replaces
    /// the previous reading.
    pub fn record_replicas<'a>(&self, live: impl IntoIterator<Item = (&'a str, u64, bool)>) {
        self.replica_heartbeat_age.clear();
        self.leader.clear();
        for (id, heartbeat_age_ms, leader) in live {
            let labels = ReplicaLabels {
                replica: id.to_owned(),
            };
            self.replica_heartbeat_age
                .get_or_create(&labels)
                .set(i64::try_from(heartbeat_age_ms / 1000).unwrap_or(i64::MAX));
            self.leader.get_or_create(&labels).set(i64::from(leader));
        }
    }

    /// Rows of a dead replica taken back, by kind.
    pub fn record_rescues(&self, kind: &'static str, count: u64) {
        debug_assert!(RESCUE_KINDS.contains(&kind), "{kind} is not a known rescue");
        if count > 0 {
            self.rescues
                .get_or_create(&RescueLabels { kind })
                .inc_by(count);
        }
    }

    /// Whether the store took this scrape's probe write.
    pub fn set_ready(&self, ready: bool) {
        self.ready.set(i64::from(ready));
    }

    /// The due work read at a scrape, each as its worker, instance, count
    /// and the seconds the oldest has been due. Replaces the previous
    /// reading, so an instance with nothing due leaves the families.
    pub fn record_due_work<'a>(
        &self,
        due: impl IntoIterator<Item = (&'static str, &'a str, u64, u64)>,
    ) {
        self.work_backlog.clear();
        self.work_oldest_due.clear();
        for instance in self.known_instances() {
            for &worker in DUE_WORKERS {
                let labels = WorkLabels {
                    worker,
                    whmcs_instance: instance.clone(),
                };
                drop(self.work_backlog.get_or_create(&labels));
                drop(self.work_oldest_due.get_or_create(&labels));
            }
        }
        for (worker, instance, count, oldest_due_s) in due {
            let labels = WorkLabels {
                worker,
                whmcs_instance: instance.to_owned(),
            };
            self.work_backlog
                .get_or_create(&labels)
                .set(i64::try_from(count).unwrap_or(i64::MAX));
            self.work_oldest_due
                .get_or_create(&labels)
                .set(i64::try_from(oldest_due_s).unwrap_or(i64::MAX));
        }
    }

    /// The dead letters read at a scrape, by instance; replaces the
    /// previous reading.
    pub fn record_dead_letters<'a>(&self, dead: impl IntoIterator<Item = (&'a str, u64)>) {
        self.dead_letters.clear();
        for instance in self.known_instances() {
            drop(self.dead_letters.get_or_create(&InstanceLabels {
                whmcs_instance: instance,
            }));
        }
        for (instance, count) in dead {
            self.dead_letters
                .get_or_create(&InstanceLabels {
                    whmcs_instance: instance.to_owned(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    /// One instance's template check that worked, at `at_s` (Unix
    /// seconds): how many templates are in each state.
    pub fn record_template_check(
        &self,
        instance: &str,
        states: impl IntoIterator<Item = &'static str>,
        at_s: i64,
    ) {
        let mut counts: BTreeMap<&'static str, i64> =
            crate::domain::template_check::Verdict::STATES
                .into_iter()
                .map(|state| (state, 0))
                .collect();
        for state in states {
            *counts.entry(state).or_default() += 1;
        }
        for (state, count) in counts {
            self.templates
                .get_or_create(&TemplateLabels {
                    whmcs_instance: instance.to_owned(),
                    state,
                })
                .set(count);
        }
        self.templates_checked
            .get_or_create(&InstanceLabels {
                whmcs_instance: instance.to_owned(),
            })
            .set(at_s);
    }

    /// A pass of `worker` failed.
    pub fn record_pass_failure(&self, worker: &'static str) {
        debug_assert!(WORKERS.contains(&worker), "{worker} is not a known worker");
        self.pass_failures
            .get_or_create(&WorkerLabels { worker })
            .inc();
    }

    pub fn record_unknown_sender_statuses(&self, count: usize) {
        self.unknown_sender_statuses
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_replica_reading_replaces_the_previous_one() {
        let metrics = Metrics::new();
        metrics.record_replicas([("alfa", 2_500, true), ("beta", 900, false)]);
        let text = metrics.render();
        for line in [
            "puente_leader{replica=\"alfa\"} 1",
            "puente_leader{replica=\"beta\"} 0",
            "puente_replica_heartbeat_age_seconds{replica=\"alfa\"} 2",
            "puente_replica_heartbeat_age_seconds{replica=\"beta\"} 0",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        metrics.record_replicas([("beta", 4_000, true)]);
        let text = metrics.render();
        assert!(!text.contains("\"alfa\""), "{text}");
        assert!(text.contains("puente_leader{replica=\"beta\"} 1"), "{text}");
        assert!(
            text.contains("puente_replica_heartbeat_age_seconds{replica=\"beta\"} 4"),
            "{text}"
        );
    }

    #[test]
    fn each_reading_of_due_work_and_dead_letters_replaces_the_previous_one() {
        let metrics = Metrics::new();
        metrics.set_ready(true);
        metrics.record_due_work([("outbox", "alfa", 3, 40), ("upgrades", "beta", 1, 7)]);
        metrics.record_dead_letters([("alfa", 2)]);
        let text = metrics.render();
        for line in [
            "puente_ready 1",
            "puente_work_backlog{worker=\"outbox\",whmcs_instance=\"alfa\"} 3",
            "puente_work_oldest_due_seconds{worker=\"outbox\",whmcs_instance=\"alfa\"} 40",
            "puente_work_backlog{worker=\"upgrades\",whmcs_instance=\"beta\"} 1",
            "puente_dead_letters{whmcs_instance=\"alfa\"} 2",
        ] {
            assert!(text.lines().any(|got| got == line), "{line} in {text}");
        }
        metrics.set_ready(false);
        metrics.record_due_work([("outbox", "alfa", 1, 0)]);
        metrics.record_dead_letters([]);
        let text = metrics.render();
        assert!(text.lines().any(|got| got == "puente_ready 0"), "{text}");
        assert!(!text.contains("worker=\"upgrades\""), "{text}");
        assert!(!text.contains("puente_dead_letters{"), "{text}");
        assert!(
            text.contains("puente_work_backlog{worker=\"outbox\",whmcs_instance=\"alfa\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn a_sample_holds_the_minute_since_the_previous_one() {
        let metrics = Metrics::new();
        let alfa = InstanceName::parse("alfa").unwrap();
        let instances = ["alfa".to_owned(), "beta".to_owned()];
        for _ in 0..3 {
            metrics.record_event(EventOutcome::Accepted, Some(&alfa));
        }
        metrics.record_event(EventOutcome::Duplicate, Some(&alfa));
        metrics.record_commit(4, 0.002);
        metrics.record_commit(4, 0.004);
        let at = jiff::Timestamp::from_second(60).unwrap();
        metrics.sample(at, BTreeMap::from([("alfa".into(), 7)]), &instances);
        metrics.record_event(EventOutcome::Accepted, Some(&alfa));
        metrics.sample(at, BTreeMap::new(), &instances);
        let history = metrics.history();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].events["alfa"], 3);
        assert_eq!(history[0].events["beta"], 0);
        assert_eq!(history[0].backlog["alfa"], 7);
        assert_eq!(
            (history[0].commit_mean_us, history[0].commit_max_us),
            (3000, 4000)
        );
        assert_eq!(history[1].events["alfa"], 1);
        assert_eq!(
            (history[1].commit_mean_us, history[1].commit_max_us),
            (0, 0)
        );
        for _ in 0..HISTORY_LEN {
            metrics.sample(at, BTreeMap::new(), &instances);
        }
        assert_eq!(metrics.history().len(), HISTORY_LEN);
    }

    #[test]
    fn a_link_is_healthy_when_its_last_call_worked() {
        let metrics = Metrics::new();
        let alfa = InstanceName::parse("alfa").unwrap();
        let whmcs = LinkHealth::new(&metrics, &alfa, Link::Whmcs);
        assert!(metrics.links().is_empty());
        whmcs.record(Err("connection refused".into()));
        let status = &metrics.links()[&("alfa".to_owned(), Link::Whmcs)];
        assert!(!status.working);
        assert_eq!(status.last_error.as_ref().unwrap().1, "connection refused");
        whmcs.record(Ok(()));
        assert!(metrics.links()[&("alfa".to_owned(), Link::Whmcs)].working);
        assert!(
            !metrics
                .links()
                .contains_key(&("alfa".to_owned(), Link::Meta))
        );
    }
}
