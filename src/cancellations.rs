//! Cancellations carried out: WHMCS's facts about a service read through its
//! API (owner, status, cycle, due date, the invoices with its lines), and the
//! worker that keeps the promise of each recorded cancellation. A request
//! WHMCS recorded gets its dates (and the client's alert); on the effective
//! day the service is terminated, once: `terminating` is committed before
//! the call, WHMCS's own status is read before every call, and a completed
//! termination is never asked for again. Nothing here refunds or credits.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use jiff::civil::Date;

use crate::config::Config;
use crate::domain::cancel::{
    self, CancelType, DomainFacts, InvoiceFacts, OpenInvoice, ServiceFacts,
};
use crate::domain::ids::InstanceName;
use crate::metrics::Metrics;
use crate::store::cancellations::{self, OpenCancellation};
use crate::store::{Database, Writer};
use crate::whmcs::{Termination, WhmcsClient, WhmcsError};

/// Unpaid invoices read per client: more than any client has open.
const UNPAID_INVOICES: u32 = 100;

/// A service and the invoices that carry its lines.
#[derive(Debug, Clone)]
pub struct ServiceInvoices {
    pub service: ServiceFacts,
    pub invoices: Vec<InvoiceFacts>,
    /// The payable ones, as the client is told about them.
    pub open: Vec<OpenInvoice>,
}

/// The service as WHMCS's API has it, with the client's unpaid invoices
/// that carry a line of it; `None` when WHMCS has no such service.
///
/// Paid invoices are not read: a paid renewal moved the next due date
/// already, so only an unpaid one can cover a later period.
pub async fn service_facts(
    whmcs: &WhmcsClient,
    service_id: u64,
    public_url: &str,
) -> Result<Option<ServiceInvoices>, WhmcsError> {
    let Some(product) = whmcs.product(service_id).await? else {
        return Ok(None);
    };
    let service = ServiceFacts {
        id: product.id,
        client_id: product.clientid,
        status: product.status.clone(),
        billing_cycle: product.billingcycle.clone(),
        next_due_date: product.nextduedate,
    };
    let (invoices, open) = unpaid_with(whmcs, service.client_id, |item| {
        (item.kind == "Hosting" || item.kind == "PromoHosting") && item.relid == Some(service_id)
    })
    .await?;
    Ok(Some(ServiceInvoices {
        service,
        invoices,
        open: open
            .into_iter()
            .map(|invoice| with_url(invoice, public_url))
            .collect(),
    }))
}

/// The domain as WHMCS's API has it, whether its renewal is off already,
/// and the client's unpaid invoices with a line of it.
pub async fn domain_facts(
    whmcs: &WhmcsClient,
    client_id: u64,
    domain_id: u64,
    public_url: &str,
) -> Result<Option<(DomainFacts, bool, Vec<OpenInvoice>)>, WhmcsError> {
    let Some(domain) = whmcs.domain(domain_id).await? else {
        return Ok(None);
    };
    let facts = DomainFacts {
        id: domain.id,
        client_id: domain.userid,
        status: domain.status.clone(),
    };
    if facts.client_id != client_id {
        // Its invoices are someone else's business.
        return Ok(Some((facts, domain.donotrenew, Vec::new())));
    }
    let (_, open) = unpaid_with(whmcs, client_id, |item| {
        item.kind.starts_with("Domain") && item.relid == Some(domain_id)
    })
    .await?;
    Ok(Some((
        facts,
        domain.donotrenew,
        open.into_iter()
            .map(|invoice| with_url(invoice, public_url))
            .collect(),
    )))
}

/// The client's unpaid invoices with a line `of` the subject (whether each
/// renews a service period: a `Hosting` line), and the payable ones as told
/// to the client.
async fn unpaid_with(
    whmcs: &WhmcsClient,
    client_id: u64,
    of: impl Fn(&crate::whmcs::InvoiceItem) -> bool,
) -> Result<(Vec<InvoiceFacts>, Vec<OpenInvoice>), WhmcsError> {
    let mut found = Vec::new();
    let mut open = Vec::new();
    for summary in whmcs
        .client_invoices(client_id, "Unpaid", UNPAID_INVOICES)
        .await?
    {
        let invoice = whmcs.invoice(summary.id).await?;
        if !invoice.items.iter().any(&of) {
            continue;
        }
        let renews = invoice
            .items
            .iter()
            .any(|item| item.kind == "Hosting" && of(item));
        let facts = InvoiceFacts {
            id: invoice.id,
            status: invoice.status.clone(),
            due_date: invoice.duedate,
            total: invoice.total,
            balance: invoice.balance,
            renews,
        };
        if facts.is_payable() {
            open.push(OpenInvoice {
                id: invoice.id,
                total: invoice.total.to_string(),
                balance: invoice.balance.to_string(),
                duedate: invoice.duedate.map(|date| date.to_string()),
                url: String::new(),
            });
        }
        found.push(facts);
    }
    open.sort_by_key(|invoice| invoice.id);
    Ok((found, open))
}

fn with_url(mut invoice: OpenInvoice, public_url: &str) -> OpenInvoice {
    invoice.url = format!("{public_url}viewinvoice.php?id={}", invoice.id);
    invoice
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CancellationReport {
    /// Requests WHMCS recorded whose dates were read.
    pub scheduled: usize,
    pub terminated: usize,
    /// WHMCS refused: kept as `failed` with its answer.
    pub failed: usize,
    /// WHMCS unreachable or not configured: tried again on the next pass.
    pub waiting: usize,
    /// The pass stopped at [`PASS_LIMIT`] advanced cancellations: more may
    /// be due now.
    pub more: bool,
}

/// Most cancellations one pass advances, so that the worker looks up (at a
/// flood of hooks, see `run`) between batches.
pub const PASS_LIMIT: usize = 100;

#[derive(Clone)]
pub struct CancellationWorker {
    config: Arc<Config>,
    database: Database,
    writer: Writer,
    whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
    metrics: Arc<Metrics>,
    /// Cancellations WHMCS could not take yet, left alone a while.
    backoff: crate::backoff::Backoff,
    /// To give way to a flood of hooks.
    flood: crate::store::FloodWatch,
}

/// Where one cancellation got to in a pass.
enum Step {
    Scheduled,
    Terminated,
    NotDue,
    Failed,
    Waiting,
}

impl CancellationWorker {
    pub fn new(
        config: Arc<Config>,
        database: Database,
        writer: Writer,
        whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            config,
            database,
            flood: writer.flood_watch(),
            writer,
            whmcs,
            metrics,
            backoff: crate::backoff::Backoff::default(),
        }
    }

    /// Resolves after a commit that recorded a cancellation.
    pub async fn planned_cancellations(&self) {
        self.writer.planned_cancellations().await;
    }

    /// Carries out every open cancellation as of now.
    pub async fn drain(&self) -> anyhow::Result<CancellationReport> {
        self.drain_at(jiff::Timestamp::now()).await
    }

    /// Carries out every open cancellation as of `now`: the day each
    /// installation's timezone gives it decides what is due.
    pub async fn drain_at(&self, now: jiff::Timestamp) -> anyhow::Result<CancellationReport> {
        let database = self.database.clone();
        let open = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let connection = database.reader()?;
            Ok(cancellations::open(&connection)?)
        })
        .await
        .context("the cancellation query stopped")??;
        let mut report = CancellationReport::default();
        let mut advanced = 0;
        for cancellation in open {
            if !self.backoff.due(cancellation.id, now) {
                report.waiting += 1;
                continue;
            }
            if advanced == PASS_LIMIT {
                report.more = true;
                break;
            }
            let mut steps = vec![self.advance(&cancellation, now).await?];
            if !matches!(steps[0], Step::NotDue) {
                advanced += 1;
            }
            if matches!(steps[0], Step::Scheduled) {
                // An Immediate request is due the day it is scheduled.
                let mut scheduled = cancellation.clone();
                scheduled.status = "scheduled".to_owned();
                scheduled.effective_date = self.effective_date(scheduled.id).await?;
                steps.push(self.advance(&scheduled, now).await?);
            }
            if matches!(steps.last(), Some(Step::Waiting)) {
                self.backoff.wait(cancellation.id, now);
            } else {
                self.backoff.done(cancellation.id);
            }
            for step in steps {
                match step {
                    Step::Scheduled => report.scheduled += 1,
                    Step::Terminated => report.terminated += 1,
                    Step::Failed => report.failed += 1,
                    Step::Waiting => report.waiting += 1,
                    Step::NotDue => {}
                }
            }
        }
        Ok(report)
    }

    async fn effective_date(&self, id: i64) -> anyhow::Result<Option<Date>> {
        let database = self.database.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Date>> {
            let connection = database.reader()?;
            let date: Option<String> = connection.query_row(
                "SELECT effective_date FROM cancellations WHERE id = ?1",
                [id],
                |row| row.get(0),
            )?;
            Ok(date.and_then(|text| text.parse().ok()))
        })
        .await
        .context("the cancellation query stopped")?
    }

    async fn advance(
        &self,
        cancellation: &OpenCancellation,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Step> {
        let id = cancellation.id;
        let Some((instance, whmcs)) = InstanceName::parse(&cancellation.instance)
            .ok()
            .and_then(|name| self.whmcs.get(&name).map(|client| (name, client)))
        else {
            let reason = format!(
                "instance {} has no WHMCS API settings (PUENTE_WHMCS_URL, …)",
                cancellation.instance
            );
            self.change(move |c| cancellations::mark_retry(c, id, &reason, now))
                .await?;
            return Ok(Step::Waiting);
        };
        let local = self.local_time(&instance, now);
        let today = local.date();
        match cancellation.status.as_str() {
            "requested" => self.schedule(cancellation, whmcs, &instance, now).await,
            _ => match cancellation.effective_date {
                Some(day) if day < today => self.terminate(cancellation, whmcs, today, now).await,
                Some(day) if day == today && self.hour_reached(&instance, cancellation, local) => {
                    self.terminate(cancellation, whmcs, today, now).await
                }
                _ => Ok(Step::NotDue),
            },
        }
    }

    /// Reads the dates of a request WHMCS recorded, and tells the client.
    async fn schedule(
        &self,
        cancellation: &OpenCancellation,
        whmcs: &WhmcsClient,
        instance: &InstanceName,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Step> {
        let id = cancellation.id;
        let public_url = self.public_url(instance);
        let facts = match service_facts(whmcs, cancellation.service_id, &public_url).await {
            Ok(Some(facts)) => facts,
            Ok(None) => {
                let reason = format!("WHMCS has no service {}", cancellation.service_id);
                self.change(move |c| cancellations::mark_failed(c, id, &reason, now))
                    .await?;
                return Ok(Step::Failed);
            }
            Err(error) => return self.not_now(id, &error, now).await,
        };
        if is_gone(&facts.service.status) {
            let today = self.local_date(instance, now);
            let gone = cancellation.clone();
            self.change(move |c| cancellations::mark_terminated(c, &gone, today, false, now))
                .await?;
            return Ok(Step::Terminated);
        }
        let accepted = cancel::schedule(
            &facts.service,
            &facts.invoices,
            cancellation.kind,
            cancellation.requested_on,
        );
        let row = cancellation.clone();
        let open = facts.open;
        let planned = self
            .change(move |c| {
                cancellations::mark_scheduled(c, &row, accepted.effective_date, &open, now)
            })
            .await?;
        if planned {
            self.writer.alert_planned();
        }
        self.metrics
            .record_cancellation("scheduled", &cancellation.instance);
        Ok(Step::Scheduled)
    }

    /// Terminates a service whose day has come, unless WHMCS did.
    async fn terminate(
        &self,
        cancellation: &OpenCancellation,
        whmcs: &WhmcsClient,
        today: Date,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Step> {
        let id = cancellation.id;
        let service_id = cancellation.service_id;
        // WHMCS's cron, staff or an earlier interrupted pass may have
        // terminated it: read before asking.
        let status = match whmcs.product(service_id).await {
            Ok(Some(product)) => product.status,
            Ok(None) => {
                let reason = format!("WHMCS has no service {service_id}");
                self.change(move |c| cancellations::mark_failed(c, id, &reason, now))
                    .await?;
                return Ok(Step::Failed);
            }
            Err(error) => return self.not_now(id, &error, now).await,
        };
        let done = cancellation.clone();
        if is_gone(&status) {
            self.change(move |c| cancellations::mark_terminated(c, &done, today, false, now))
                .await?;
            self.metrics
                .record_cancellation("terminated_by_whmcs", &cancellation.instance);
            return Ok(Step::Terminated);
        }
        if !self
            .change(move |c| cancellations::mark_terminating(c, id, now))
            .await?
        {
            return Ok(Step::NotDue);
        }
        let outcome = match whmcs.module_terminate(service_id).await {
            Ok(Termination::Terminated) => Ok(false),
            // No provisioning module: WHMCS fires no AfterModuleTerminate,
            // so puente sets the status and tells the client itself.
            Ok(Termination::NoModule) => whmcs
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
                let planned = self
                    .change(move |c| cancellations::mark_terminated(c, &done, today, alert, now))
                    .await?;
                if planned {
                    self.writer.alert_planned();
                }
                tracing::info!(
                    service = service_id,
                    termination_date = %today,
                    "service terminated as its cancellation asked"
                );
                self.metrics
                    .record_cancellation("terminated", &cancellation.instance);
                Ok(Step::Terminated)
            }
            Err(error @ WhmcsError::Rejected { .. }) => {
                tracing::error!(service = service_id, %error, "WHMCS refused to terminate a cancelled service");
                self.metrics
                    .record_cancellation("failed", &cancellation.instance);
                let reason = error.to_string();
                self.change(move |c| cancellations::mark_failed(c, id, &reason, now))
                    .await?;
                Ok(Step::Failed)
            }
            Err(error) => self.not_now(id, &error, now).await,
        }
    }

    /// WHMCS could not be reached: the next pass tries again.
    async fn not_now(
        &self,
        id: i64,
        error: &WhmcsError,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Step> {
        tracing::warn!(cancellation = id, %error, "cancellation not carried out yet; will retry");
        let reason = error.to_string();
        self.change(move |c| cancellations::mark_retry(c, id, &reason, now))
            .await?;
        Ok(Step::Waiting)
    }

    fn local_date(&self, instance: &InstanceName, at: jiff::Timestamp) -> Date {
        self.local_time(instance, at).date()
    }

    fn local_time(&self, instance: &InstanceName, at: jiff::Timestamp) -> jiff::civil::DateTime {
        self.config
            .instances
            .get(instance)
            .map_or(jiff::tz::TimeZone::UTC, |settings| {
                settings.timezone.clone()
            })
            .to_datetime(at)
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

    fn public_url(&self, instance: &InstanceName) -> String {
        self.config.public_url_of(instance)
    }

    async fn change<T, F>(&self, change: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.writer
            .change(change)
            .await
            .context("cannot record the cancellation's state")
    }
}

/// WHMCS no longer runs the service.
fn is_gone(status: &str) -> bool {
    status.eq_ignore_ascii_case("terminated") || status.eq_ignore_ascii_case("cancelled")
}

/// Carries out cancellations whenever a commit records one, and every
/// minute for those whose day comes or whose WHMCS call must be tried again.
pub async fn run(worker: CancellationWorker) {
    loop {
        // While hooks flood in, the work waits: nothing here is urgent to
        // the second, and WHMCS is waiting on every hook.
        if worker.flood.flooded() {
            tokio::time::sleep(crate::store::GIVE_WAY).await;
            continue;
        }
        match worker.drain().await {
            Ok(report) if report.more => continue,
            Ok(_) => {}
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "cancellation pass failed");
            }
        }
        tokio::select! {
            () = worker.planned_cancellations() => {}
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
    }
}
