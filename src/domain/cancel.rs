//! Cancellations ("baja del servicio", SPEC §2.3), decided from facts WHMCS
//! gave and the day of the request in the installation's timezone (`today`
//! comes in): who may cancel, when the service stops, which invoices stay
//! payable, and when its backups expire. Nothing here refunds or credits:
//! the rule has no such outcome.
//!
//! - `Immediate`: terminated the same calendar day as the request.
//! - `End of Billing Period`: fully operational until the end of the period
//!   its last generated invoice covers (an invoice already generated for the
//!   next period extends it, and stays payable), then terminated.
//! - A domain is never cancelled: its renewal is switched off.

use jiff::ToSpan as _;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde_json::Value;

use super::cycle::Cycle;
use super::envelope::{Actor, ActorKind, Source};
use super::ids::whmcs_id;
use super::invoices;
pub use super::status::CancellationStatus;
use super::texts::{Language, Text};

/// How long the backups of a terminated service are kept.
pub const BACKUP_RETENTION_YEARS: i16 = 10;

/// The two types of WHMCS's cancellation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelType {
    Immediate,
    EndOfBillingPeriod,
}

impl CancelType {
    /// WHMCS's spelling (`Immediate`, `End of Billing Period`), any case.
    pub fn parse(text: &str) -> Option<Self> {
        let key: String = text
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        match key.as_str() {
            "immediate" => Some(Self::Immediate),
            "endofbillingperiod" => Some(Self::EndOfBillingPeriod),
            _ => None,
        }
    }

    /// As WHMCS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "Immediate",
            Self::EndOfBillingPeriod => "End of Billing Period",
        }
    }

    /// The type as a client reads it.
    pub fn label(self, language: Language) -> &'static str {
        match self {
            Self::Immediate => Text::CancelTypeImmediate,
            Self::EndOfBillingPeriod => Text::CancelTypeEndOfPeriod,
        }
        .get(language)
    }
}

impl CancellationStatus {
    /// What the dashboard lists unless asked for another status: the open
    /// ones.
    pub const IN_FLIGHT: &'static [Self] = &[
        Self::Unconfirmed,
        Self::Requested,
        Self::Scheduled,
        Self::Terminating,
        Self::Failed,
    ];

    /// A service has at most one open cancellation.
    pub fn is_open(self) -> bool {
        Self::IN_FLIGHT.contains(&self)
    }

    /// What happens next to a cancellation in this status.
    pub fn next_step(self) -> &'static str {
        match self {
            Self::Unconfirmed => {
                "the client confirms it with their email and password on puente's page; until \
                 then nothing is terminated and WHMCS's cron is held (delete the request in \
                 WHMCS to withdraw it)"
            }
            Self::Requested => "the worker reads its dates from WHMCS",
            Self::Scheduled => "terminated on its effective date, if WHMCS still holds the request",
            Self::Terminating => "waiting for WHMCS's ModuleTerminate",
            Self::Failed => "fix what WHMCS refused (see the error), then retry",
            Self::Terminated | Self::RenewalDisabled => "none: done",
            Self::Withdrawn => "none: WHMCS no longer holds the request, so nothing was terminated",
        }
    }
}

/// A service as WHMCS's API describes it (`GetClientsProducts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFacts {
    pub id: u64,
    pub client_id: u64,
    /// `Active`, `Suspended`, `Pending`, `Terminated`, `Cancelled`, `Fraud`, `Completed`.
    pub status: String,
    pub billing_cycle: String,
    pub next_due_date: Option<Date>,
}

/// A domain as WHMCS's API describes it (`GetClientsDomains`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainFacts {
    pub id: u64,
    pub client_id: u64,
    pub status: String,
}

/// An invoice WHMCS generated with a line of the service or domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceFacts {
    pub id: u64,
    /// `Unpaid`, `Paid`, `Cancelled`, `Refunded`, `Draft`, `Collections`, `Payment Pending`.
    pub status: String,
    pub due_date: Option<Date>,
    pub total: Decimal,
    pub balance: Decimal,
    /// It renews the service for a period that starts on its due date (a
    /// `Hosting` line of the service), rather than only charging for it.
    pub renews: bool,
}

impl InvoiceFacts {
    /// Still to be paid: the client owes it whether or not they cancel.
    pub fn is_payable(&self) -> bool {
        invoices::is_open(&self.status)
    }

    /// Issued to the client: a draft is not, and a cancelled or refunded
    /// invoice covers nothing.
    fn is_generated(&self) -> bool {
        !["draft", "cancelled", "refunded"]
            .iter()
            .any(|status| self.status.eq_ignore_ascii_case(status))
    }
}

/// Why a cancellation is refused; `code` is the client API's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The client asking does not own the service or domain.
    NotOwner,
    /// Cancelled or terminated already, or a cancellation was requested.
    AlreadyCancelled,
    /// Pending or under fraud review: there is nothing running to cancel.
    NotActive,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotOwner => "not_owner",
            Self::AlreadyCancelled => "already_cancelled",
            Self::NotActive => "service_not_active",
        }
    }

    /// The explanation shown to the client.
    pub fn message(self, language: Language) -> &'static str {
        match self {
            Self::NotOwner => Text::CancelNotOwner,
            Self::AlreadyCancelled => Text::CancelAlreadyCancelled,
            Self::NotActive => Text::CancelNotActive,
        }
        .get(language)
    }
}

/// An accepted cancellation of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub kind: CancelType,
    /// The day the service stops; it is fully operational until then.
    pub effective_date: Date,
    /// Invoices that stay payable: nothing already invoiced is waived.
    pub open_invoices: Vec<u64>,
}

impl Accepted {
    /// Terminated on the effective date.
    pub fn termination_date(&self) -> Date {
        self.effective_date
    }
}

/// The end of the backups' retention after a termination.
pub fn backup_retention_end(termination: Date) -> Date {
    termination
        .checked_add(BACKUP_RETENTION_YEARS.years())
        .unwrap_or(Date::MAX)
}

/// The client's request for a service: refused, or accepted with its dates.
/// `already_requested`: a cancellation of it is on record.
pub fn decide_service(
    client_id: u64,
    service: &ServiceFacts,
    invoices: &[InvoiceFacts],
    kind: CancelType,
    already_requested: bool,
    today: Date,
) -> Result<Accepted, Refusal> {
    if service.client_id != client_id {
        return Err(Refusal::NotOwner);
    }
    let status = service.status.trim().to_ascii_lowercase();
    if already_requested || matches!(status.as_str(), "cancelled" | "terminated") {
        return Err(Refusal::AlreadyCancelled);
    }
    if matches!(status.as_str(), "pending" | "fraud") {
        return Err(Refusal::NotActive);
    }
    Ok(schedule(service, invoices, kind, today))
}

/// The dates of a cancellation WHMCS already accepted (its own form, staff
/// or the API): no refusal applies, only the dates. `requested_on` is the
/// request's day.
pub fn schedule(
    service: &ServiceFacts,
    invoices: &[InvoiceFacts],
    kind: CancelType,
    requested_on: Date,
) -> Accepted {
    let effective_date = match kind {
        CancelType::Immediate => requested_on,
        // Never before the request's day.
        CancelType::EndOfBillingPeriod => end_of_billed_period(service, invoices)
            .map_or(requested_on, |end| end.max(requested_on)),
    };
    Accepted {
        kind,
        effective_date,
        open_invoices: open_invoices(invoices),
    }
}

/// The day after the last one paid for or invoiced: the later of the next
/// due date and the end of the period the newest generated renewal invoice
/// covers. None for services without periods (One Time, Free Account) and
/// services WHMCS gives no due date.
pub fn end_of_billed_period(service: &ServiceFacts, invoices: &[InvoiceFacts]) -> Option<Date> {
    let cycle = Cycle::parse(&service.billing_cycle)?;
    cycle.months()?;
    let invoiced = invoices
        .iter()
        .filter(|invoice| invoice.renews && invoice.is_generated())
        .filter_map(|invoice| invoice.due_date)
        .filter_map(|start| cycle.after(start))
        .max();
    match (service.next_due_date, invoiced) {
        (Some(due), Some(invoiced)) => Some(due.max(invoiced)),
        (due, invoiced) => due.or(invoiced),
    }
}

/// The payable invoices, by id.
fn open_invoices(invoices: &[InvoiceFacts]) -> Vec<u64> {
    let mut open: Vec<u64> = invoices
        .iter()
        .filter(|invoice| invoice.is_payable())
        .map(|invoice| invoice.id)
        .collect();
    open.sort_unstable();
    open.dedup();
    open
}

/// A domain's cancellation: its renewal is switched off instead.
pub fn decide_domain(
    client_id: u64,
    domain: &DomainFacts,
    already_requested: bool,
) -> Result<(), Refusal> {
    if domain.client_id != client_id {
        return Err(Refusal::NotOwner);
    }
    let status = domain.status.trim().to_ascii_lowercase();
    if already_requested || matches!(status.as_str(), "cancelled" | "transferred away") {
        return Err(Refusal::AlreadyCancelled);
    }
    if status.starts_with("pending") || status == "fraud" {
        return Err(Refusal::NotActive);
    }
    Ok(())
}

/// What is being cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Service(u64),
    Domain(u64),
}

impl Target {
    /// (`service` | `domain`, id), as stored.
    pub fn columns(self) -> (&'static str, u64) {
        match self {
            Self::Service(id) => ("service", id),
            Self::Domain(id) => ("domain", id),
        }
    }
}

/// An invoice that stays payable, as the client is told about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpenInvoice {
    pub id: u64,
    pub total: String,
    pub balance: String,
    pub duedate: Option<String>,
    /// Where the client pays it.
    pub url: String,
}

/// The client's request on puente's page, re-authenticated, which WHMCS
/// took (`AddCancelRequest`, or `UpdateClientDomain` for a domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    pub target: Target,
    pub client_id: u64,
    /// None for a domain, whose renewal was switched off.
    pub kind: Option<CancelType>,
    pub reason: String,
    pub requested_on: Date,
    /// The day the service stops; none for a domain.
    pub effective_date: Option<Date>,
    pub open_invoices: Vec<OpenInvoice>,
}

/// Who made a request WHMCS recorded, and so whether puente may carry it
/// out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOrigin {
    /// The client on WHMCS's own cancellation form, which asks for no email
    /// and password: never carried out until the client confirms on
    /// puente's page, and WHMCS's cron is held meanwhile.
    ClientForm,
    /// Staff, the API, or puente's own call after the client re-entered
    /// their email and password: WHMCS's business, carried out on its date.
    Whmcs,
}

impl RequestOrigin {
    /// The origin of a `CancellationRequest` by `actor` through `source`.
    /// `handled_by_puente` is the addon's "puente handles cancellations"
    /// setting (`data._puente.handles_cancellations`; an addon that does
    /// not say is taken to handle them): with it off, the administrator
    /// chose WHMCS's own form, and its requests are WHMCS's business.
    pub fn of(actor: &Actor, source: Source, handled_by_puente: Option<bool>) -> Self {
        let the_client_in_the_client_area =
            actor.kind == ActorKind::Client && source == Source::Clientarea;
        if the_client_in_the_client_area && handled_by_puente.unwrap_or(true) {
            Self::ClientForm
        } else {
            Self::Whmcs
        }
    }
}

/// What an event tells the cancellation rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// WHMCS recorded a cancellation request (`CancellationRequest`): from
    /// its own form, staff, the API, or puente's own call.
    Requested {
        service_id: u64,
        client_id: u64,
        kind: CancelType,
        reason: String,
        /// The request's day in the installation's timezone.
        requested_on: Date,
        origin: RequestOrigin,
    },
    /// The client asked on puente's page (the client action's event).
    Accepted(Box<ClientRequest>),
    /// The service was terminated (`AfterModuleTerminate`).
    Terminated { service_id: u64, on: Date },
}

/// The hooks the cancellation rule reads.
pub const HOOKS: [&str; 2] = ["CancellationRequest", "AfterModuleTerminate"];

/// Why a hook tells the rule nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotObserved {
    #[error("the event lacks {0}")]
    Missing(&'static str),
}

/// What the hook `hook` of day `on`, caused by `actor` through `source`,
/// tells the rule.
pub fn observe(
    hook: &str,
    data: &Value,
    actor: &Actor,
    source: Source,
    on: Date,
) -> Result<Option<Observed>, NotObserved> {
    let id = |pointer: &str| data.pointer(pointer).and_then(whmcs_id);
    match hook {
        "CancellationRequest" => {
            let service_id = id("/relid").ok_or(NotObserved::Missing("relid"))?;
            let client_id = id("/userid").ok_or(NotObserved::Missing("userid"))?;
            let kind = data
                .get("type")
                .and_then(Value::as_str)
                .and_then(CancelType::parse)
                .ok_or(NotObserved::Missing(
                    "type (Immediate or End of Billing Period)",
                ))?;
            let reason = data
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned();
            let handled = data
                .pointer("/_puente/handles_cancellations")
                .and_then(Value::as_bool);
            Ok(Some(Observed::Requested {
                service_id,
                client_id,
                kind,
                reason,
                requested_on: on,
                origin: RequestOrigin::of(actor, source, handled),
            }))
        }
        "AfterModuleTerminate" => {
            let service_id =
                id("/params/serviceid").ok_or(NotObserved::Missing("params.serviceid"))?;
            Ok(Some(Observed::Terminated { service_id, on }))
        }
        _ => Ok(None),
    }
}

/// The open cancellation of a service as far as a termination by WHMCS is
/// concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Made on WHMCS's own form, not confirmed by the client.
    Unconfirmed,
    /// Scheduled for `effective_date`.
    Scheduled {
        kind: CancelType,
        effective_date: Date,
    },
}

/// Whether WHMCS's automation must be stopped from terminating the service
/// now (`PreModuleTerminate`'s `abortcmd`). Only the automation is held
/// (staff may still terminate by hand), and only while WHMCS still holds
/// the request (`request_held`; staff withdraw one by deleting it):
/// - a request nobody confirmed is never carried out by WHMCS either;
/// - a cancellation at the end of a later billed period waits for its day
///   (WHMCS terminates at the next due date, which can be earlier).
pub fn hold_termination(
    pending: Pending,
    request_held: bool,
    today: Date,
    by_automation: bool,
) -> bool {
    if !by_automation || !request_held {
        return false;
    }
    match pending {
        Pending::Unconfirmed => true,
        Pending::Scheduled {
            kind,
            effective_date,
        } => kind == CancelType::EndOfBillingPeriod && today < effective_date,
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use serde_json::json;

    use super::*;

    fn service(cycle: &str, due: Date) -> ServiceFacts {
        ServiceFacts {
            id: 7731,
            client_id: 1842,
            status: "Active".into(),
            billing_cycle: cycle.into(),
            next_due_date: Some(due),
        }
    }

    fn invoice(id: u64, status: &str, due: Date, renews: bool) -> InvoiceFacts {
        InvoiceFacts {
            id,
            status: status.into(),
            due_date: Some(due),
            total: Decimal::new(10000, 2),
            balance: if status == "Paid" {
                Decimal::new(0, 2)
            } else {
                Decimal::new(10000, 2)
            },
            renews,
        }
    }

    #[test]
    fn immediate_ends_the_same_day_whatever_the_cycle() {
        for cycle in [
            "Monthly",
            "Quarterly",
            "Semi-Annually",
            "Annually",
            "Biennially",
            "Triennially",
            "One Time",
            "Free Account",
        ] {
            let accepted = decide_service(
                1842,
                &service(cycle, date(2026, 3, 1)),
                &[],
                CancelType::Immediate,
                false,
                date(2025, 12, 1),
            )
            .expect(cycle);
            assert_eq!(accepted.effective_date, date(2025, 12, 1), "{cycle}");
            assert_eq!(accepted.termination_date(), date(2025, 12, 1));
        }
    }

    #[test]
    fn end_of_period_is_the_next_due_date_for_each_cycle() {
        for (cycle, months) in [
            ("Monthly", 1),
            ("Quarterly", 3),
            ("Semi-Annually", 6),
            ("Annually", 12),
            ("Biennially", 24),
            ("Triennially", 36),
        ] {
            let due = date(2026, 1, 1);
            // The invoice paid for the current period began a cycle before.
            let start = due.checked_sub(months.months()).expect("date");
            let paid = invoice(900, "Paid", start, true);
            let accepted = decide_service(
                1842,
                &service(cycle, due),
                &[paid],
                CancelType::EndOfBillingPeriod,
                false,
                date(2025, 12, 1),
            )
            .expect(cycle);
            assert_eq!(accepted.effective_date, due, "{cycle}");
            assert!(accepted.open_invoices.is_empty());
        }
    }

    #[test]
    fn an_invoice_already_generated_for_the_next_period_extends_it_and_stays_payable() {
        // Annual service paid until 2026-01-01; the renewal for 2026 was
        // generated on 2025-12-18 and is unpaid.
        let facts = service("Annually", date(2026, 1, 1));
        let invoices = [
            invoice(900, "Paid", date(2025, 1, 1), true),
            invoice(902, "Unpaid", date(2026, 1, 1), true),
            // An unpaid charge of the service that renews nothing.
            invoice(905, "Unpaid", date(2025, 12, 20), false),
            // A cancelled renewal covers nothing.
            invoice(906, "Cancelled", date(2027, 1, 1), true),
        ];
        let accepted = decide_service(
            1842,
            &facts,
            &invoices,
            CancelType::EndOfBillingPeriod,
            false,
            date(2025, 12, 20),
        )
        .expect("accepted");
        assert_eq!(accepted.effective_date, date(2027, 1, 1));
        assert_eq!(accepted.open_invoices, [902, 905]);

        // Immediate: the same invoices stay payable; nothing is waived.
        let now = decide_service(
            1842,
            &facts,
            &invoices,
            CancelType::Immediate,
            false,
            date(2025, 12, 20),
        )
        .expect("accepted");
        assert_eq!(now.effective_date, date(2025, 12, 20));
        assert_eq!(now.open_invoices, [902, 905]);
    }

    #[test]
    fn month_ends_clamp_and_a_past_due_date_ends_on_the_request_day() {
        let facts = service("Monthly", date(2026, 1, 31));
        let next = invoice(910, "Unpaid", date(2026, 1, 31), true);
        let accepted = schedule(
            &facts,
            &[next],
            CancelType::EndOfBillingPeriod,
            date(2026, 1, 20),
        );
        assert_eq!(accepted.effective_date, date(2026, 2, 28));
        let leap = schedule(
            &service("Monthly", date(2024, 1, 31)),
            &[invoice(911, "Unpaid", date(2024, 1, 31), true)],
            CancelType::EndOfBillingPeriod,
            date(2024, 1, 20),
        );
        assert_eq!(leap.effective_date, date(2024, 2, 29));
        // Overdue: the period ended already, so it stops on the request day.
        let overdue = schedule(
            &service("Monthly", date(2025, 11, 1)),
            &[],
            CancelType::EndOfBillingPeriod,
            date(2025, 12, 1),
        );
        assert_eq!(overdue.effective_date, date(2025, 12, 1));
        // No periods: One Time stops on the request day.
        let once = schedule(
            &service("One Time", date(2030, 1, 1)),
            &[],
            CancelType::EndOfBillingPeriod,
            date(2025, 12, 1),
        );
        assert_eq!(once.effective_date, date(2025, 12, 1));
    }

    #[test]
    fn each_refusal_has_its_code() {
        let today = date(2025, 12, 1);
        let ask = |facts: &ServiceFacts, client: u64, already: bool| {
            decide_service(client, facts, &[], CancelType::Immediate, already, today)
                .map(|_| ())
                .map_err(Refusal::code)
        };
        let active = service("Annually", date(2026, 1, 1));
        assert_eq!(ask(&active, 9, false), Err("not_owner"));
        assert_eq!(ask(&active, 1842, true), Err("already_cancelled"));
        for (status, code) in [
            ("Cancelled", Err("already_cancelled")),
            ("Terminated", Err("already_cancelled")),
            ("Pending", Err("service_not_active")),
            ("Fraud", Err("service_not_active")),
            ("Suspended", Ok(())),
            ("Active", Ok(())),
        ] {
            let facts = ServiceFacts {
                status: status.into(),
                ..active.clone()
            };
            assert_eq!(ask(&facts, 1842, false), code, "{status}");
        }
        assert!(
            Refusal::NotOwner
                .message(Language::English)
                .contains("owner")
        );
        assert!(
            Refusal::NotOwner
                .message(Language::Spanish)
                .contains("titular")
        );
    }

    #[test]
    fn a_domain_only_stops_renewing() {
        let domain = |status: &str| DomainFacts {
            id: 912,
            client_id: 1842,
            status: status.into(),
        };
        assert_eq!(decide_domain(1842, &domain("Active"), false), Ok(()));
        assert_eq!(decide_domain(1842, &domain("Expired"), false), Ok(()));
        assert_eq!(
            decide_domain(5, &domain("Active"), false),
            Err(Refusal::NotOwner)
        );
        assert_eq!(
            decide_domain(1842, &domain("Cancelled"), false),
            Err(Refusal::AlreadyCancelled)
        );
        assert_eq!(
            decide_domain(1842, &domain("Active"), true),
            Err(Refusal::AlreadyCancelled)
        );
        assert_eq!(
            decide_domain(1842, &domain("Pending Transfer"), false),
            Err(Refusal::NotActive)
        );
    }

    #[test]
    fn backups_are_kept_ten_years() {
        assert_eq!(backup_retention_end(date(2025, 12, 1)), date(2035, 12, 1));
        assert_eq!(backup_retention_end(date(2024, 2, 29)), date(2034, 2, 28));
    }

    #[test]
    fn a_request_at_half_past_eleven_local_time_is_that_local_day() {
        // 23:30 in Buenos Aires (UTC-3) is 02:30 UTC the next day.
        let at: jiff::Timestamp = "2025-12-02T02:30:00Z".parse().expect("time");
        let local = jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires")
            .expect("zone")
            .to_datetime(at)
            .date();
        assert_eq!(local, date(2025, 12, 1));
        let accepted = decide_service(
            1842,
            &service("Monthly", date(2026, 1, 1)),
            &[],
            CancelType::Immediate,
            false,
            local,
        )
        .expect("accepted");
        assert_eq!(accepted.termination_date(), date(2025, 12, 1));
    }

    fn actor(kind: ActorKind, id: Option<u64>) -> Actor {
        Actor {
            kind,
            id,
            user_id: None,
        }
    }

    #[test]
    fn hooks_tell_the_rule_what_whmcs_recorded() {
        let api = actor(ActorKind::Api, None);
        let requested = observe(
            "CancellationRequest",
            &json!({"userid": "1842", "relid": 7731, "reason": " Too expensive ", "type": "End of Billing Period"}),
            &api,
            Source::Api,
            date(2025, 12, 1),
        );
        assert_eq!(
            requested,
            Ok(Some(Observed::Requested {
                service_id: 7731,
                client_id: 1842,
                kind: CancelType::EndOfBillingPeriod,
                reason: "Too expensive".into(),
                requested_on: date(2025, 12, 1),
                origin: RequestOrigin::Whmcs,
            }))
        );
        let terminated = observe(
            "AfterModuleTerminate",
            &json!({"params": {"serviceid": 7731, "userid": 1842}}),
            &actor(ActorKind::System, None),
            Source::Cron,
            date(2025, 12, 2),
        );
        assert_eq!(
            terminated,
            Ok(Some(Observed::Terminated {
                service_id: 7731,
                on: date(2025, 12, 2)
            }))
        );
        assert!(
            observe(
                "CancellationRequest",
                &json!({"relid": 1, "userid": 2, "type": "Whenever"}),
                &api,
                Source::Api,
                date(2025, 12, 1)
            )
            .is_err()
        );
        assert_eq!(
            observe(
                "InvoicePaid",
                &json!({}),
                &api,
                Source::Api,
                date(2025, 12, 1)
            ),
            Ok(None)
        );
    }

    #[test]
    fn only_the_clients_own_request_on_whmcs_form_needs_confirming() {
        use RequestOrigin::{ClientForm, Whmcs};
        let client = actor(ActorKind::Client, Some(1842));
        let admin = actor(ActorKind::Admin, Some(1));
        let api = actor(ActorKind::Api, None);
        let system = actor(ActorKind::System, None);
        for (who, source, handled, origin) in [
            (&client, Source::Clientarea, Some(true), ClientForm),
            // An addon that does not say handles cancellations.
            (&client, Source::Clientarea, None, ClientForm),
            // The administrator chose WHMCS's own form.
            (&client, Source::Clientarea, Some(false), Whmcs),
            // Staff logged in as the client, in the admin area, the API
            // (puente's own AddCancelRequest included), the cron.
            (&admin, Source::Clientarea, Some(true), Whmcs),
            (&admin, Source::Adminarea, Some(true), Whmcs),
            (&api, Source::Api, Some(true), Whmcs),
            (&system, Source::Cron, Some(true), Whmcs),
            (&system, Source::Clientarea, Some(true), Whmcs),
        ] {
            assert_eq!(
                RequestOrigin::of(who, source, handled),
                origin,
                "{who:?} {source:?} {handled:?}"
            );
        }
        let observed = observe(
            "CancellationRequest",
            &json!({"userid": 1842, "relid": 7731, "type": "Immediate",
                    "_puente": {"handles_cancellations": true}}),
            &client,
            Source::Clientarea,
            date(2025, 12, 1),
        );
        assert!(
            matches!(
                observed,
                Ok(Some(Observed::Requested {
                    origin: ClientForm,
                    ..
                }))
            ),
            "{observed:?}"
        );
    }

    #[test]
    fn only_the_automation_is_held_and_only_while_whmcs_holds_the_request() {
        let day = date(2026, 1, 1);
        let before = date(2025, 12, 31);
        let eobp = Pending::Scheduled {
            kind: CancelType::EndOfBillingPeriod,
            effective_date: day,
        };
        let immediate = Pending::Scheduled {
            kind: CancelType::Immediate,
            effective_date: day,
        };
        assert!(hold_termination(eobp, true, before, true));
        assert!(!hold_termination(eobp, true, day, true));
        assert!(!hold_termination(eobp, true, before, false));
        assert!(!hold_termination(eobp, false, before, true));
        assert!(!hold_termination(immediate, true, before, true));
        // Unconfirmed: held whatever the day, while WHMCS holds it.
        assert!(hold_termination(Pending::Unconfirmed, true, day, true));
        assert!(hold_termination(
            Pending::Unconfirmed,
            true,
            date(2030, 1, 1),
            true
        ));
        assert!(!hold_termination(Pending::Unconfirmed, true, day, false));
        assert!(!hold_termination(Pending::Unconfirmed, false, day, true));
    }

    #[test]
    fn types_parse_in_either_spelling_and_read_in_the_clients_language() {
        assert_eq!(
            CancelType::parse("end of billing period"),
            Some(CancelType::EndOfBillingPeriod)
        );
        assert_eq!(CancelType::parse("Immediate"), Some(CancelType::Immediate));
        assert_eq!(CancelType::parse("later"), None);
        assert_eq!(CancelType::Immediate.label(Language::Spanish), "inmediata");
        assert_eq!(
            CancelType::EndOfBillingPeriod.label(Language::English),
            "at the end of the billed period"
        );
    }

    #[test]
    fn types_and_targets_are_stored_as_whmcs_and_puente_write_them() {
        for (kind, text) in [
            (CancelType::Immediate, "Immediate"),
            (CancelType::EndOfBillingPeriod, "End of Billing Period"),
        ] {
            assert_eq!(kind.as_str(), text);
            assert_eq!(CancelType::parse(text), Some(kind));
        }
        assert_eq!(Target::Service(7731).columns(), ("service", 7731));
        assert_eq!(Target::Domain(55).columns(), ("domain", 55));
    }
}
