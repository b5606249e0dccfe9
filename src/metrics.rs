//! Prometheus metrics: what operators graph and alert on.
//!
//! Labels are bounded: routes are matched patterns, reasons are error codes,
//! instances are configured names (or the names of authenticated events;
//! empty when a refused request named none that is configured).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::ids::InstanceName;

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
    instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
    instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabels {
    instance: String,
}

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
    retention: Family<TableLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabels {
    table: &'static str,
    instance: String,
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
             held (WHMCS's automation told to wait)",
            cancellations.clone(),
        );
        let transfers = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "transfers",
            "Transfer steps by outcome: requested, accepted, declined, withdrawn, approved, \
             expired, completed, failed",
            transfers.clone(),
        );
        let retention = Family::<TableLabels, Counter>::default();
        registry.register(
            "retention_deleted",
            "Rows deleted by retention, by table (events, messages, message_attempts) and instance",
            retention.clone(),
        );
        Arc::new(Self {
            retention,
            registry,
            upgrades,
            cancellations,
            transfers,
            messages,
            sending_paused,
            unknown_sender_statuses,
            requests,
            events,
            commit_batch_size,
            commit_seconds,
        })
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
                instance: instance.map_or_else(String::new, |name| name.as_str().to_owned()),
            })
            .inc();
    }

    pub fn record_commit(&self, batch_size: usize, seconds: f64) {
        self.commit_batch_size.observe(batch_size as f64);
        self.commit_seconds.observe(seconds);
    }

    fn outcome(family: &Family<OutcomeLabels, Counter>, outcome: &'static str, instance: &str) {
        family
            .get_or_create(&OutcomeLabels {
                outcome,
                instance: instance.to_owned(),
            })
            .inc();
    }

    pub fn record_message(&self, outcome: &'static str, instance: &InstanceName) {
        Self::outcome(&self.messages, outcome, instance.as_str());
    }

    pub fn record_upgrade(&self, outcome: &'static str, instance: &str) {
        Self::outcome(&self.upgrades, outcome, instance);
    }

    pub fn record_cancellation(&self, outcome: &'static str, instance: &str) {
        Self::outcome(&self.cancellations, outcome, instance);
    }

    pub fn record_transfer(&self, outcome: &'static str, instance: &str) {
        Self::outcome(&self.transfers, outcome, instance);
    }

    pub fn set_sending_paused(&self, instance: &InstanceName, paused: bool) {
        self.sending_paused
            .get_or_create(&InstanceLabels {
                instance: instance.as_str().to_owned(),
            })
            .set(i64::from(paused));
    }

    pub fn record_retention(&self, instance: &str, purged: crate::store::retention::Purged) {
        for (table, count) in [
            ("events", purged.events),
            ("messages", purged.messages),
            ("message_attempts", purged.attempts),
        ] {
            if count > 0 {
                self.retention
                    .get_or_create(&TableLabels {
                        table,
                        instance: instance.to_owned(),
                    })
                    .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
            }
        }
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
