//! Cancellations carried out: WHMCS's facts about a service read through its
//! API (owner, status, cycle, due date, the open invoices with its lines)
//! and the addon (its upgrade rows, whether WHMCS still holds the request),
//! and the worker that keeps the promise of each recorded cancellation. A
//! request WHMCS recorded gets its dates (and the client's alert); on the
//! effective day the service is terminated, once: WHMCS's own status and
//! its cancellation request are read before every call, `terminating` is
//! committed before the call, and a completed termination is never asked
//! for again. A request WHMCS no longer holds (staff deleted it) is
//! `withdrawn`; one made on WHMCS's own form waits for the client's
//! confirmation and is never carried out before it. Nothing here refunds or
//! credits.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use super::{Budget, Turn};
use jiff::civil::Date;

use crate::config::Config;
use crate::domain::cancel::{self, CancelType};
use crate::domain::ids::InstanceName;
use crate::domain::invoices::UpgradeRow;
use crate::metrics::Metrics;
use crate::store::cancellations::{OpenCancellation, Status};
use anyhow::Context as _;

use crate::store::Store;
use crate::whmcs::{AddonClient, Termination, WhmcsClient, WhmcsError};

/// What a failed write of this worker failed to record.
const STATE: &str = "cannot record the cancellation's state";

/// How often a cancellation that waits (for the client's confirmation, or
/// for its day) is checked against WHMCS's requests: staff withdraw one by
/// deleting it in WHMCS, which tells nobody.
const RECHECK_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_hours(6);

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CancellationReport {
    /// Requests WHMCS recorded whose dates were read.
    pub scheduled: usize,
    pub terminated: usize,
    /// WHMCS refused: kept as `failed` with its answer.
    pub failed: usize,
    /// WHMCS no longer holds the request: never carried out.
    pub withdrawn: usize,
    /// WHMCS unreachable or not configured: tried again on a later pass.
    pub waiting: usize,
    /// The pass stopped at [`PASS_LIMIT`] advanced cancellations: more may
    /// be due now.
    pub more: bool,
}

/// Most cancellations one pass advances, so that the worker looks up (at a
/// flood of hooks, see `run`) between batches.
pub const PASS_LIMIT: usize = 100;

/// A request WHMCS recorded this recently may not be visible to the addon
/// yet (the hook fires while WHMCS creates it): not finding it is not yet a
/// withdrawal.
const NEWLY_RECORDED: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

#[derive(Clone)]
pub struct CancellationWorker {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
    addons: Arc<BTreeMap<InstanceName, AddonClient>>,
    metrics: Arc<Metrics>,
    /// Cancellations WHMCS could not take yet, left alone a while.
    backoff: crate::workers::backoff::Backoff,
    /// When each waiting cancellation was last found among WHMCS's requests
    /// (in memory: after a restart each is checked once more).
    checked: Arc<Mutex<HashMap<i64, jiff::Timestamp>>>,
}

/// Where one cancellation got to in a pass.
enum Advanced {
    Scheduled,
    Terminated,
    /// Nothing to do yet; WHMCS was not asked.
    NotDue,
    /// WHMCS still holds the request; nothing else to do yet.
    StillHeld,
    Withdrawn,
    Failed,
    Waiting,
}

/// One instance's WHMCS: its API and its addon.
struct Whmcs<'a> {
    instance: InstanceName,
    api: &'a WhmcsClient,
    addon: &'a AddonClient,
}

impl CancellationWorker {
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
        addons: Arc<BTreeMap<InstanceName, AddonClient>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            config,
            store,
            whmcs,
            addons,
            metrics,
            backoff: crate::workers::backoff::Backoff::default(),
            checked: Arc::default(),
        }
    }

    /// Carries out every open cancellation as of now.
    pub async fn drain(&self) -> anyhow::Result<CancellationReport> {
        self.drain_at(jiff::Timestamp::now()).await
    }

    /// Carries out every open cancellation as of `now`: the day each
    /// installation's timezone gives it decides what is due.
    pub async fn drain_at(&self, now: jiff::Timestamp) -> anyhow::Result<CancellationReport> {
        let open = self
            .store
            .open_cancellations()
            .await
            .context("cannot read the open cancellations")?;
        let mut report = CancellationReport::default();
        let mut budget = Budget::new(&self.backoff, now, PASS_LIMIT);
        for cancellation in open {
            match budget.turn(cancellation.id) {
                Turn::Skip => continue,
                Turn::Stop => break,
                Turn::Go => {}
            }
            let mut steps = vec![self.advance(&cancellation, now).await?];
            if !matches!(steps[0], Advanced::NotDue) {
                budget.spend();
            }
            if matches!(steps[0], Advanced::Scheduled) {
                // An Immediate request is due the day it is scheduled.
                let mut scheduled = cancellation.clone();
                scheduled.status = Status::Scheduled;
                scheduled.effective_date = self.effective_date(scheduled.id).await?;
                steps.push(self.advance(&scheduled, now).await?);
            }
            if matches!(steps.last(), Some(Advanced::Waiting)) {
                self.backoff.wait(cancellation.id, now);
            } else {
                self.backoff.done(cancellation.id);
            }
            for step in steps {
                match step {
                    Advanced::Scheduled => report.scheduled += 1,
                    Advanced::Terminated => report.terminated += 1,
                    Advanced::Failed => report.failed += 1,
                    Advanced::Withdrawn => report.withdrawn += 1,
                    Advanced::Waiting => report.waiting += 1,
                    Advanced::NotDue | Advanced::StillHeld => {}
                }
            }
        }
        report.waiting += budget.skipped;
        report.more = budget.more;
        Ok(report)
    }

    async fn effective_date(&self, id: i64) -> anyhow::Result<Option<Date>> {
        self.store
            .cancellation_effective_date(id)
            .await
            .context("cannot read a cancellation's date")
    }

    async fn advance(
        &self,
        cancellation: &OpenCancellation,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Advanced> {
        let whmcs = InstanceName::parse(&cancellation.instance)
            .ok()
            .and_then(|instance| {
                let api = self.whmcs.get(&instance)?;
                let addon = self.addons.get(&instance)?;
                Some(Whmcs {
                    instance,
                    api,
                    addon,
                })
            });
        let Some(whmcs) = whmcs else {
            let reason = format!(
                "instance {} has no WHMCS API settings (PUENTE_WHMCS_URL, …)",
                cancellation.instance
            );
            self.store
                .mark_cancellation_retry(cancellation.held(), reason, now)
                .await
                .context(STATE)?;
            return Ok(Advanced::Waiting);
        };
        let local = self.local_time(&whmcs.instance, now);
        let today = local.date();
        match cancellation.status {
            // Never carried out; only watched for its withdrawal.
            Status::Unconfirmed => self.recheck(cancellation, &whmcs, now).await,
            Status::Requested => self.schedule(cancellation, &whmcs, now).await,
            _ => match cancellation.effective_date {
                Some(day) if day < today => self.terminate(cancellation, &whmcs, today, now).await,
                Some(day)
                    if day == today && self.hour_reached(&whmcs.instance, cancellation, local) =>
                {
                    self.terminate(cancellation, &whmcs, today, now).await
                }
                _ => self.recheck(cancellation, &whmcs, now).await,
            },
        }
    }

    /// Whether WHMCS still holds the request of a cancellation that waits,
    /// every [`RECHECK_EVERY`]; `withdrawn` when it does not.
    async fn recheck(
        &self,
        cancellation: &OpenCancellation,
        whmcs: &Whmcs<'_>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Advanced> {
        let last = self.lock_checked().get(&cancellation.id).copied();
        if last.is_some_and(|at| now.duration_since(at) < RECHECK_EVERY) {
            return Ok(Advanced::NotDue);
        }
        match self.request_held(cancellation, whmcs, now).await? {
            Held::Yes(_) => Ok(Advanced::StillHeld),
            Held::No => self.withdraw(cancellation, now).await,
            // Checked again on a later pass; nothing changes meanwhile.
            Held::Unknown => Ok(Advanced::NotDue),
        }
    }

    /// Asks the addon whether WHMCS holds the request, with the service's
    /// upgrade rows. A request recorded moments ago and not found yet is
    /// taken as held (WHMCS may still be creating it).
    async fn request_held(
        &self,
        cancellation: &OpenCancellation,
        whmcs: &Whmcs<'_>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Held> {
        let id = cancellation.id;
        match whmcs.addon.service_facts(cancellation.service_id).await {
            Ok(facts) if facts.cancellation_request.is_some() => {
                self.lock_checked().insert(id, now);
                Ok(Held::Yes(facts.upgrades))
            }
            Ok(facts) => {
                let age = now.duration_since(cancellation.recorded_at());
                if age < NEWLY_RECORDED {
                    Ok(Held::Yes(facts.upgrades))
                } else {
                    Ok(Held::No)
                }
            }
            Err(error) => {
                let reason =
                    format!("cannot ask the addon whether WHMCS holds the request: {error}");
                tracing::warn!(cancellation = id, %error, "the addon could not be asked about a cancellation request");
                let stored = reason.clone();
                self.store
                    .mark_cancellation_retry(cancellation.held(), stored, now)
                    .await
                    .context(STATE)?;
                self.lock_checked().insert(id, now);
                Ok(Held::Unknown)
            }
        }
    }

    async fn withdraw(
        &self,
        cancellation: &OpenCancellation,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Advanced> {
        let id = cancellation.id;
        let why = "WHMCS no longer holds the cancellation request (deleted in WHMCS): \
                   it was withdrawn and nothing was terminated";
        if self
            .store
            .mark_cancellation_withdrawn(cancellation.held(), why, now)
            .await
            .context(STATE)?
        {
            self.metrics
                .record_cancellation("withdrawn", &cancellation.instance);
            tracing::info!(
                cancellation = id,
                service = cancellation.service_id,
                "cancellation withdrawn in WHMCS; the service is not terminated"
            );
        }
        self.lock_checked().remove(&id);
        Ok(Advanced::Withdrawn)
    }

    /// Reads the dates of a request WHMCS recorded, and tells the client.
    async fn schedule(
        &self,
        cancellation: &OpenCancellation,
        whmcs: &Whmcs<'_>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Advanced> {
        let upgrades = match self.request_held(cancellation, whmcs, now).await? {
            Held::Yes(upgrades) => upgrades,
            Held::No => return self.withdraw(cancellation, now).await,
            Held::Unknown => return Ok(Advanced::Waiting),
        };
        let public_url = self.config.public_url_of(&whmcs.instance);
        let facts = match crate::whmcs::facts::service_facts(
            whmcs.api,
            cancellation.service_id,
            &upgrades,
            &public_url,
        )
        .await
        {
            Ok(Some(facts)) => facts,
            Ok(None) => {
                let reason = format!("WHMCS has no service {}", cancellation.service_id);
                self.store
                    .mark_cancellation_failed(cancellation.held(), reason, now)
                    .await
                    .context(STATE)?;
                return Ok(Advanced::Failed);
            }
            Err(error) => return self.not_now(cancellation.held(), &error, now).await,
        };
        if is_gone(&facts.service.status) {
            let today = self.local_date(&whmcs.instance, now);
            let gone = cancellation.clone();
            self.store
                .mark_cancellation_terminated(gone, today, false, now)
                .await
                .context(STATE)?;
            return Ok(Advanced::Terminated);
        }
        let accepted = cancel::schedule(
            &facts.service,
            &facts.invoices,
            cancellation.kind,
            cancellation.requested_on,
        );
        let row = cancellation.clone();
        let open = facts.open;
        self.store
            .mark_cancellation_scheduled(row, accepted.effective_date, open, now)
            .await
            .context(STATE)?;
        self.metrics
            .record_cancellation("scheduled", &cancellation.instance);
        Ok(Advanced::Scheduled)
    }

    /// Terminates a service whose day has come, unless WHMCS did, or WHMCS
    /// no longer holds the request.
    async fn terminate(
        &self,
        cancellation: &OpenCancellation,
        whmcs: &Whmcs<'_>,
        today: Date,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Advanced> {
        let id = cancellation.id;
        let service_id = cancellation.service_id;
        // WHMCS's cron, staff or an earlier interrupted pass may have
        // terminated it: read before asking.
        let status = match whmcs.api.product(service_id).await {
            Ok(Some(product)) => product.status,
            Ok(None) => {
                let reason = format!("WHMCS has no service {service_id}");
                self.store
                    .mark_cancellation_failed(cancellation.held(), reason, now)
                    .await
                    .context(STATE)?;
                return Ok(Advanced::Failed);
            }
            Err(error) => return self.not_now(cancellation.held(), &error, now).await,
        };
        let done = cancellation.clone();
        if is_gone(&status) {
            self.store
                .mark_cancellation_terminated(done, today, false, now)
                .await
                .context(STATE)?;
            self.metrics
                .record_cancellation("terminated_by_whmcs", &cancellation.instance);
            return Ok(Advanced::Terminated);
        }
        // Staff withdraw a request by deleting it in WHMCS: never terminate
        // one that is gone.
        match self.request_held(cancellation, whmcs, now).await? {
            Held::Yes(_) => {}
            Held::No => return self.withdraw(cancellation, now).await,
            Held::Unknown => return Ok(Advanced::Waiting),
        }
        if !self
            .store
            .mark_cancellation_terminating(cancellation.held(), now)
            .await
            .context(STATE)?
        {
            return Ok(Advanced::NotDue);
        }
        let outcome = match whmcs.api.module_terminate(service_id).await {
            Ok(Termination::Terminated) => Ok(false),
            // No provisioning module: WHMCS fires no AfterModuleTerminate,
            // so puente sets the status and tells the client itself.
            Ok(Termination::NoModule) => whmcs
                .api
                .update_client_product(
                    service_id,
                    &[
                        ("status", "Terminated".to_owned()),
                        ("terminationdate", today.to_string()),
                    ],
                )
                .await
                .map(|()| true),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(alert) => {
                self.store
                    .mark_cancellation_terminated(done, today, alert, now)
                    .await
                    .context(STATE)?;
                self.lock_checked().remove(&id);
                tracing::info!(
                    service = service_id,
                    termination_date = %today,
                    "service terminated as its cancellation asked"
                );
                self.metrics
                    .record_cancellation("terminated", &cancellation.instance);
                Ok(Advanced::Terminated)
            }
            Err(error @ WhmcsError::Rejected { .. }) => {
                tracing::error!(service = service_id, %error, "WHMCS refused to terminate a cancelled service");
                self.metrics
                    .record_cancellation("failed", &cancellation.instance);
                let reason = error.to_string();
                self.store
                    .mark_cancellation_failed(cancellation.held(), reason, now)
                    .await
                    .context(STATE)?;
                Ok(Advanced::Failed)
            }
            Err(error) => self.not_now(cancellation.held(), &error, now).await,
        }
    }

    /// WHMCS could not be reached: the next pass tries again.
    async fn not_now(
        &self,
        cancellation: crate::store::Held,
        error: &WhmcsError,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Advanced> {
        tracing::warn!(cancellation = cancellation.id, %error, "cancellation not carried out yet; will retry");
        let reason = error.to_string();
        self.store
            .mark_cancellation_retry(cancellation, reason, now)
            .await
            .context(STATE)?;
        Ok(Advanced::Waiting)
    }

    fn lock_checked(&self) -> std::sync::MutexGuard<'_, HashMap<i64, jiff::Timestamp>> {
        self.checked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn local_date(&self, instance: &InstanceName, at: jiff::Timestamp) -> Date {
        self.local_time(instance, at).date()
    }

    fn local_time(&self, instance: &InstanceName, at: jiff::Timestamp) -> jiff::civil::DateTime {
        self.config.timezone_of(instance).to_datetime(at)
    }

    /// On its day, an Immediate cancellation waits for the instance's
    /// configured hour, if any; an End of Billing Period one is due all day.
    fn hour_reached(
        &self,
        instance: &InstanceName,
        cancellation: &OpenCancellation,
        local: jiff::civil::DateTime,
    ) -> bool {
        let hour = self
            .config
            .for_instance(instance)
            .cancellations
            .immediate_hour;
        match (cancellation.kind, hour) {
            (CancelType::Immediate, Some(hour)) => local.hour() >= hour,
            _ => true,
        }
    }
}

/// Whether WHMCS holds a cancellation's request.
enum Held {
    /// It does (or it was recorded moments ago); the service's upgrade rows.
    Yes(Vec<UpgradeRow>),
    No,
    /// The addon could not be asked (the reason is recorded on the row).
    Unknown,
}

/// WHMCS no longer runs the service.
fn is_gone(status: &str) -> bool {
    status.eq_ignore_ascii_case("terminated") || status.eq_ignore_ascii_case("cancelled")
}

impl super::Worker for CancellationWorker {
    const NAME: &'static str = "cancellations";
    const WORK: Option<crate::store::Work> = Some(crate::store::Work::Cancellations);

    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    async fn pass(&self) -> anyhow::Result<super::Pass> {
        Ok(super::Pass::done(self.drain().await?.more))
    }
}
