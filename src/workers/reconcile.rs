//! Alerts even when WHMCS forgets a hook. WHMCS does not fire `InvoicePaid`
//! for every way an invoice gets paid, nor `InvoiceCancelled` when its API
//! cancels one (see docs/WHMCS-ASSUMPTIONS.md). Every `reconcile_minutes`
//! this worker asks each install's API for the invoices paid and cancelled
//! since its last pass, and for each whose hook planned no alert it stores
//! the event the hook would have been: the same rules plan it
//! ([`crate::ingest::planned`]) under the hook's own dedupe keys, so a hook
//! that comes late, or a second pass, sends nothing twice.
//!
//! `GetInvoices` has no date filter: pages of one status are read newest
//! invoice date first, until invoices dated [`LOOKBACK_DAYS`] before the
//! last pass; an invoice paid or cancelled longer than that after its date
//! is not looked for. The first pass of an install only sets where it
//! stands: nothing that happened before puente compared is alerted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;
use sha2::Digest as _;

use crate::config::Config;
use crate::domain::envelope::Envelope;
use crate::domain::ids::{EventId, InstanceName};
use crate::ingest::ReceivedEvent;
use crate::store::{Inserted, Store};
use crate::whmcs::{InvoiceSummary, WhmcsClient, WhmcsError};

/// Invoices dated this many days before the last pass are still read.
pub const LOOKBACK_DAYS: i64 = 90;
/// How far before the last pass a payment still counts: WHMCS's clock and
/// puente's differ, and WHMCS writes `datepaid` before its hooks run.
const OVERLAP: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);
/// Invoices read per page, and pages per status and pass at most.
const PAGE: u32 = 100;
const MAX_PAGES: u64 = 20;

/// The hooks this worker stands in for: (hook, invoice status, the
/// invoice's field that says when it got there).
const HOOKS: [(&str, &str); 2] = [("InvoicePaid", "Paid"), ("InvoiceCancelled", "Cancelled")];

/// What one install's pass found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// The first pass: only where it stands was recorded.
    pub started: bool,
    /// Invoices paid or cancelled since the last pass.
    pub changed: usize,
    /// Events stored for hooks WHMCS never fired.
    pub stored: usize,
}

#[derive(Clone)]
pub struct ReconcileWorker {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
}

impl ReconcileWorker {
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
    ) -> Self {
        Self {
            config,
            store,
            whmcs,
        }
    }

    /// One pass over every install that reconciles, as of `now`. An
    /// install whose WHMCS cannot be read keeps where it stood, and the
    /// others go on.
    pub async fn pass_at(
        &self,
        now: jiff::Timestamp,
    ) -> anyhow::Result<BTreeMap<InstanceName, Reconciled>> {
        let mut found = BTreeMap::new();
        let mut failed = Vec::new();
        for (instance, whmcs) in self.whmcs.iter() {
            if self.config.for_instance(instance).reconcile_every.is_none() {
                continue;
            }
            match self.reconcile(instance, whmcs, now).await {
                Ok(reconciled) => {
                    found.insert(instance.clone(), reconciled);
                }
                Err(error) => {
                    let error = format!("{error:#}");
                    tracing::warn!(%instance, %error, "reconciliation failed");
                    failed.push(format!("{instance}: {error}"));
                }
            }
        }
        anyhow::ensure!(failed.is_empty(), "{}", failed.join("; "));
        Ok(found)
    }

    async fn reconcile(
        &self,
        instance: &InstanceName,
        whmcs: &WhmcsClient,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Reconciled> {
        let since = self
            .store
            .reconciled_since(instance.clone())
            .await
            .context("cannot read where the reconciliation stands")?;
        let Some(since) = since else {
            self.store
                .record_reconciliation(
                    instance.clone(),
                    now,
                    "started: invoices paid or cancelled from now on are compared".into(),
                    now,
                )
                .await
                .context("cannot record the reconciliation")?;
            return Ok(Reconciled {
                started: true,
                ..Reconciled::default()
            });
        };
        let timezone = self.config.timezone_of(instance);
        let mut reconciled = Reconciled::default();
        let outcome = async {
            for (hook, status) in HOOKS {
                for (invoice, at) in
                    changed_since(whmcs, status, since - OVERLAP, &timezone).await?
                {
                    reconciled.changed += 1;
                    if self.stand_in(instance, hook, &invoice, at).await? {
                        reconciled.stored += 1;
                    }
                }
            }
            anyhow::Ok(())
        }
        .await;
        let (next_since, result) = match &outcome {
            Ok(()) => (
                now,
                format!(
                    "{} invoices paid or cancelled since the last pass; {} alerted for a hook WHMCS did not fire",
                    reconciled.changed, reconciled.stored
                ),
            ),
            Err(error) => (since, format!("failed, tried again next pass: {error:#}")),
        };
        self.store
            .record_reconciliation(instance.clone(), next_since, result, now)
            .await
            .context("cannot record the reconciliation")?;
        outcome.map(|()| reconciled)
    }

    /// Stores the event `hook` would have been for `invoice`, unless every
    /// alert it plans was planned already (the hook came); whether it did.
    async fn stand_in(
        &self,
        instance: &InstanceName,
        hook: &str,
        invoice: &InvoiceSummary,
        at: jiff::Timestamp,
    ) -> anyhow::Result<bool> {
        let event = stand_in_event(instance, hook, invoice, at)?;
        let planned = crate::ingest::planned(event, &self.config);
        let keys: Vec<String> = planned
            .plan
            .alerts
            .iter()
            .map(|alert| alert.dedupe_key.clone())
            .collect();
        if keys.is_empty() {
            return Ok(false);
        }
        let existing = self
            .store
            .planned_alert_keys(instance.clone(), keys.clone())
            .await
            .context("cannot read the alerts planned")?;
        if keys.iter().all(|key| existing.contains(key)) {
            return Ok(false);
        }
        let id = planned.id.clone();
        let inserted = self
            .store
            .insert_event(planned)
            .await
            .context("cannot store a reconciled event")?;
        tracing::info!(%instance, hook, invoice = invoice.id, %id, "WHMCS did not fire this hook; its alerts are planned from the reconciliation");
        Ok(inserted == Inserted::Accepted)
    }
}

/// The invoices of `status` that got there at or after `from` (by the
/// invoice's own time of it, read in the install's time zone), with when.
async fn changed_since(
    whmcs: &WhmcsClient,
    status: &str,
    from: jiff::Timestamp,
    timezone: &jiff::tz::TimeZone,
) -> Result<Vec<(InvoiceSummary, jiff::Timestamp)>, WhmcsError> {
    let oldest_date = timezone
        .to_datetime(from)
        .date()
        .checked_sub(jiff::Span::new().days(LOOKBACK_DAYS))
        .unwrap_or(jiff::civil::Date::MIN);
    let mut changed = Vec::new();
    for page in 0..MAX_PAGES {
        let (invoices, more) = whmcs
            .invoices_by_date(status, page * u64::from(PAGE), PAGE)
            .await?;
        let mut older = false;
        for invoice in invoices {
            older |= invoice.date.is_some_and(|date| date < oldest_date);
            let when = match status {
                "Paid" => &invoice.datepaid,
                _ if invoice.date_cancelled.starts_with("0000")
                    || invoice.date_cancelled.is_empty() =>
                {
                    &invoice.updated_at
                }
                _ => &invoice.date_cancelled,
            };
            if let Some(at) = whmcs_time(when, timezone)
                && at >= from
            {
                changed.push((invoice, at));
            }
        }
        if !more || older {
            break;
        }
    }
    Ok(changed)
}

/// A WHMCS `Y-m-d H:i:s` in the install's time zone; `None` for WHMCS's
/// zero date or anything else.
fn whmcs_time(text: &str, timezone: &jiff::tz::TimeZone) -> Option<jiff::Timestamp> {
    let civil = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text.trim()).ok()?;
    timezone.to_timestamp(civil).ok()
}

/// The event a hook WHMCS never fired would have been: the hook's own type
/// and data, from the system, with a webhook-id of its own per install,
/// hook and invoice (so a second pass finds it stored).
fn stand_in_event(
    instance: &InstanceName,
    hook: &str,
    invoice: &InvoiceSummary,
    at: jiff::Timestamp,
) -> anyhow::Result<ReceivedEvent> {
    let install = sha2::Sha256::digest(instance.as_str().as_bytes());
    let install: String = install[..6].iter().map(|b| format!("{b:02x}")).collect();
    let id = EventId::parse(&format!("rcn_{install}_{hook}_{}", invoice.id))
        .map_err(|error| anyhow::anyhow!(error))?;
    let body = serde_json::to_vec(&json!({
        "type": hook,
        "timestamp": at.to_string(),
        "data": {"invoiceid": invoice.id, "_puente": {"reconciled": true}},
        "context": {"instance": instance.as_str(), "actor": {"kind": "system"}, "source": "api"},
    }))?;
    let envelope = Envelope::from_json(&body).map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(ReceivedEvent {
        id,
        instance: instance.clone(),
        envelope,
        body,
    })
}

impl super::Worker for ReconcileWorker {
    const NAME: &'static str = "reconcile";
    const WORK: Option<crate::store::Work> = None;

    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Every install's pass, then a rest of the shortest interval; on a
    /// replica that does not lead, nothing (one replica asks WHMCS).
    async fn pass(&self) -> anyhow::Result<super::Pass> {
        if !self.store.is_leader() {
            return Ok(super::Pass::done(false));
        }
        let rest = self
            .config
            .instances
            .keys()
            .filter_map(|instance| self.config.for_instance(instance).reconcile_every)
            .min()
            .unwrap_or(Duration::from_secs(3600));
        self.pass_at(jiff::Timestamp::now()).await?;
        Ok(super::Pass { more: false, rest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whmcs_times_are_read_in_the_installs_zone_and_the_zero_date_is_none() {
        let bogota = jiff::tz::TimeZone::get("America/Bogota").expect("zone");
        assert_eq!(
            whmcs_time("2026-12-07 09:41:17", &bogota).map(|at| at.to_string()),
            Some("2026-12-07T14:41:17Z".to_owned())
        );
        assert_eq!(whmcs_time("0000-00-00 00:00:00", &bogota), None);
        assert_eq!(whmcs_time("", &jiff::tz::TimeZone::UTC), None);
    }

    #[test]
    fn a_stand_in_is_the_hooks_own_event_with_an_id_per_install_and_invoice() {
        let invoice: InvoiceSummary =
            serde_json::from_value(json!({"id": "30517", "status": "Paid"})).expect("invoice");
        let at = jiff::Timestamp::UNIX_EPOCH;
        let alfa = InstanceName::parse("alfa").expect("name");
        let beta = InstanceName::parse("beta").expect("name");
        let event = stand_in_event(&alfa, "InvoicePaid", &invoice, at).expect("event");
        assert_eq!(event.envelope.hook.as_str(), "InvoicePaid");
        assert_eq!(event.envelope.data["invoiceid"], 30517);
        assert!(
            event.id.as_str().starts_with("rcn_")
                && event.id.as_str().ends_with("_InvoicePaid_30517")
        );
        let again = stand_in_event(&alfa, "InvoicePaid", &invoice, at).expect("event");
        assert_eq!(event.id, again.id, "the same id every pass");
        let other = stand_in_event(&beta, "InvoicePaid", &invoice, at).expect("event");
        assert_ne!(event.id, other.id, "each install its own");
    }
}
