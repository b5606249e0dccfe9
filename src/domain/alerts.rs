//! Which WhatsApp alerts a hook event causes (SPEC §2.5), decided from the
//! event alone: the alert kind, the client (or the WHMCS record whose owner
//! is the client), and the keys that keep it to one message. Reading WHMCS
//! (amounts, names, the phone) and sending happen later, outside this
//! module.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::envelope::{Actor, ActorKind};
use super::ids::whmcs_id;

/// The eleven alerts of the seed's "Alertas por whatsapp", the upgrade
/// applied on payment (SPEC §2.1), which puente plans itself once WHMCS has
/// the new due date, the cancellation requested (SPEC §2.3), planned once
/// its effective date is known, and the steps of a transfer (SPEC §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    Welcome,
    PasswordChanged,
    InvoiceCreated,
    DetailsChanged,
    InvoiceCancelled,
    PaymentReceived,
    ServiceSuspended,
    ServiceReactivated,
    ServiceTerminated,
    QuoteAvailable,
    DomainDeleted,
    UpgradeApplied,
    CancellationRequested,
    TransferRequested,
    TransferAccepted,
    TransferDeclined,
    TransferExpired,
    TransferCompleted,
}

impl AlertKind {
    pub const ALL: [Self; 18] = [
        Self::Welcome,
        Self::PasswordChanged,
        Self::InvoiceCreated,
        Self::DetailsChanged,
        Self::InvoiceCancelled,
        Self::PaymentReceived,
        Self::ServiceSuspended,
        Self::ServiceReactivated,
        Self::ServiceTerminated,
        Self::QuoteAvailable,
        Self::DomainDeleted,
        Self::UpgradeApplied,
        Self::CancellationRequested,
        Self::TransferRequested,
        Self::TransferAccepted,
        Self::TransferDeclined,
        Self::TransferExpired,
        Self::TransferCompleted,
    ];

    /// The name used in configuration, opt-outs and the message log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::PasswordChanged => "password_changed",
            Self::InvoiceCreated => "invoice_created",
            Self::DetailsChanged => "details_changed",
            Self::InvoiceCancelled => "invoice_cancelled",
            Self::PaymentReceived => "payment_received",
            Self::ServiceSuspended => "service_suspended",
            Self::ServiceReactivated => "service_reactivated",
            Self::ServiceTerminated => "service_terminated",
            Self::QuoteAvailable => "quote_available",
            Self::DomainDeleted => "domain_deleted",
            Self::UpgradeApplied => "upgrade_applied",
            Self::CancellationRequested => "cancellation_requested",
            Self::TransferRequested => "transfer_requested",
            Self::TransferAccepted => "transfer_accepted",
            Self::TransferDeclined => "transfer_declined",
            Self::TransferExpired => "transfer_expired",
            Self::TransferCompleted => "transfer_completed",
        }
    }
}

/// The WHMCS record an alert is about; its owner is the recipient when the
/// event does not name the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Client,
    Invoice(u64),
    Service(u64),
    Domain(u64),
    Quote(u64),
}

/// Which number of the client gets the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// The client's number as WHMCS has it now.
    Current,
    /// The number the client just replaced (told of the change too).
    Previous { phone: String, country: String },
}

/// Alerts of one group are one change reported by several hooks: an alert
/// with `skip_within` is not sent when another of its group was planned
/// that long before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coalesce {
    pub group: String,
    pub skip_within: Option<Duration>,
}

/// One alert to prepare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAlert {
    pub kind: AlertKind,
    /// The client, when the event names it; otherwise the subject's owner.
    pub client_id: Option<u64>,
    pub subject: Subject,
    pub recipient: Recipient,
    /// At most one message per key, however often the event is delivered.
    pub dedupe_key: String,
    pub coalesce: Option<Coalesce>,
    /// Template values known when the alert is planned and not in WHMCS
    /// later (parameter name -> text).
    pub details: BTreeMap<&'static str, String>,
}

/// Why an event causes no alert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoAlert {
    #[error("no alert is sent for {0}")]
    NotAnAlertHook(String),
    #[error("the client did not make this change (actor: {0})")]
    NotTheClient(&'static str),
    #[error("the quote is a draft")]
    DraftQuote,
    #[error("the quote's new status is {0}, not Delivered")]
    QuoteNotDelivered(String),
    #[error("the event lacks {0}")]
    Missing(&'static str),
}

/// The hooks whose events may cause an alert.
pub const ALERT_HOOKS: [&str; 14] = [
    "ClientAdd",
    "ClientChangePassword",
    "UserChangePassword",
    "ClientEdit",
    "InvoiceCreated",
    "InvoiceCancelled",
    "AddInvoicePayment",
    "InvoicePaid",
    "AfterModuleSuspend",
    "AfterModuleUnsuspend",
    "AfterModuleTerminate",
    "QuoteCreated",
    "QuoteStatusChange",
    "DomainDelete",
];

/// Two hooks of one change arrive within seconds; this is generous.
const SAME_CHANGE: Duration = Duration::from_secs(120);
/// InvoicePaid follows the AddInvoicePayment of the payment that completed
/// the invoice; a bare InvoicePaid (credit, marked paid) has none.
const SAME_PAYMENT: Duration = Duration::from_secs(3600);

/// The alerts an event causes. `event_id` is its `webhook-id`.
pub fn plan(
    hook: &str,
    data: &Value,
    actor: &Actor,
    event_id: &str,
) -> Result<Vec<PlannedAlert>, NoAlert> {
    let one = |kind, client_id, subject, dedupe_key: String, coalesce| {
        Ok(vec![PlannedAlert {
            kind,
            client_id,
            subject,
            recipient: Recipient::Current,
            dedupe_key,
            coalesce,
            details: BTreeMap::new(),
        }])
    };
    match hook {
        "ClientAdd" => {
            let client = id_at(data, &["client_id"]).or_else(|| id_at(data, &["userid"]));
            let client = client.ok_or(NoAlert::Missing("client_id"))?;
            one(
                AlertKind::Welcome,
                Some(client),
                Subject::Client,
                format!("welcome:{client}"),
                None,
            )
        }
        "ClientChangePassword" => {
            let client = id_at(data, &["userid"]).ok_or(NoAlert::Missing("userid"))?;
            Ok(vec![password_changed(client, event_id)])
        }
        "UserChangePassword" => {
            let clients = data
                .pointer("/_puente/client_ids")
                .and_then(Value::as_array)
                .ok_or(NoAlert::Missing(
                    "_puente.client_ids (the clients the user owns)",
                ))?;
            Ok(clients
                .iter()
                .filter_map(whmcs_id)
                .map(|client| password_changed(client, event_id))
                .collect())
        }
        "ClientEdit" => details_changed(data, actor, event_id),
        "InvoiceCreated" | "InvoiceCancelled" => {
            let invoice = id_at(data, &["invoiceid"]).ok_or(NoAlert::Missing("invoiceid"))?;
            let (kind, key) = if hook == "InvoiceCreated" {
                (AlertKind::InvoiceCreated, "invoice_created")
            } else {
                (AlertKind::InvoiceCancelled, "invoice_cancelled")
            };
            one(
                kind,
                None,
                Subject::Invoice(invoice),
                format!("{key}:{invoice}"),
                None,
            )
        }
        "AddInvoicePayment" | "InvoicePaid" => {
            let invoice = id_at(data, &["invoiceid"]).ok_or(NoAlert::Missing("invoiceid"))?;
            let client = id_at(data, &["invoice", "userid"]);
            let key = if hook == "InvoicePaid" {
                format!("payment:{invoice}:paid")
            } else {
                format!("payment:{invoice}:{event_id}")
            };
            // The AddInvoicePayment of the payment that completes an invoice
            // comes before its InvoicePaid, which then says nothing new.
            let coalesce = Coalesce {
                group: format!("payment:{invoice}"),
                skip_within: (hook == "InvoicePaid").then_some(SAME_PAYMENT),
            };
            one(
                AlertKind::PaymentReceived,
                client,
                Subject::Invoice(invoice),
                key,
                Some(coalesce),
            )
        }
        "AfterModuleSuspend" | "AfterModuleUnsuspend" | "AfterModuleTerminate" => {
            let service = id_at(data, &["params", "serviceid"])
                .ok_or(NoAlert::Missing("params.serviceid"))?;
            let client =
                id_at(data, &["params", "userid"]).ok_or(NoAlert::Missing("params.userid"))?;
            let kind = match hook {
                "AfterModuleSuspend" => AlertKind::ServiceSuspended,
                "AfterModuleUnsuspend" => AlertKind::ServiceReactivated,
                _ => AlertKind::ServiceTerminated,
            };
            let key = format!("{}:{service}:{event_id}", kind.as_str());
            one(kind, Some(client), Subject::Service(service), key, None)
        }
        "QuoteCreated" | "QuoteStatusChange" => {
            let quote = id_at(data, &["quoteid"]).ok_or(NoAlert::Missing("quoteid"))?;
            let status = data
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if hook == "QuoteCreated" && status.eq_ignore_ascii_case("draft") {
                return Err(NoAlert::DraftQuote);
            }
            if hook == "QuoteStatusChange" && !status.eq_ignore_ascii_case("delivered") {
                return Err(NoAlert::QuoteNotDelivered(status.to_owned()));
            }
            // Once per quote, whichever hook says it first.
            one(
                AlertKind::QuoteAvailable,
                None,
                Subject::Quote(quote),
                format!("quote_available:{quote}"),
                None,
            )
        }
        "DomainDelete" => {
            let domain = id_at(data, &["domainid"]).ok_or(NoAlert::Missing("domainid"))?;
            let client = id_at(data, &["userid"]).ok_or(NoAlert::Missing("userid"))?;
            one(
                AlertKind::DomainDeleted,
                Some(client),
                Subject::Domain(domain),
                format!("domain_deleted:{domain}"),
                None,
            )
        }
        other => Err(NoAlert::NotAnAlertHook(other.to_owned())),
    }
}

/// The event type of alerts staff send from the dashboard. Never planned
/// from `POST /v1/hooks` (no rule reads it there): only the dashboard builds
/// its plan, with [`manual`].
pub const MANUAL_SEND: &str = "puente.send";

/// Most recipients of one send.
pub const MANUAL_SEND_LIMIT: usize = 500;

/// What a manual send of `kind` names: `client` (the client), or the record
/// whose owner gets it (`invoice`, `service`, `domain`, `quote`). `None`
/// for the kinds whose text needs facts only their hook carries (a
/// cancellation's type and date, a transfer's link, an upgrade's new plan).
pub fn manual_target(kind: AlertKind) -> Option<&'static str> {
    match kind {
        AlertKind::Welcome | AlertKind::PasswordChanged | AlertKind::DetailsChanged => {
            Some("client")
        }
        AlertKind::InvoiceCreated | AlertKind::InvoiceCancelled | AlertKind::PaymentReceived => {
            Some("invoice")
        }
        AlertKind::ServiceSuspended
        | AlertKind::ServiceReactivated
        | AlertKind::ServiceTerminated => Some("service"),
        AlertKind::DomainDeleted => Some("domain"),
        AlertKind::QuoteAvailable => Some("quote"),
        AlertKind::UpgradeApplied
        | AlertKind::CancellationRequested
        | AlertKind::TransferRequested
        | AlertKind::TransferAccepted
        | AlertKind::TransferDeclined
        | AlertKind::TransferExpired
        | AlertKind::TransferCompleted => None,
    }
}

/// The alerts of a send staff started: one `kind` alert per target (client
/// ids, or the records [`manual_target`] names, whose owners get them), in
/// the order given, each once (`manual:<event>:<target>`); never coalesced
/// with what hooks planned.
pub fn manual(
    kind: AlertKind,
    targets: &[u64],
    event_id: &str,
) -> Result<Vec<PlannedAlert>, String> {
    let target = manual_target(kind).ok_or_else(|| {
        format!(
            "{} alerts cannot be sent by hand: their text needs what only their hook carries",
            kind.as_str()
        )
    })?;
    if targets.is_empty() {
        return Err(format!("name at least one {target}"));
    }
    if targets.len() > MANUAL_SEND_LIMIT {
        return Err(format!(
            "at most {MANUAL_SEND_LIMIT} recipients in one send, not {}",
            targets.len()
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    Ok(targets
        .iter()
        .filter(|id| seen.insert(**id))
        .map(|&id| {
            let (client_id, subject) = match target {
                "client" => (Some(id), Subject::Client),
                "invoice" => (None, Subject::Invoice(id)),
                "service" => (None, Subject::Service(id)),
                "domain" => (None, Subject::Domain(id)),
                _ => (None, Subject::Quote(id)),
            };
            PlannedAlert {
                kind,
                client_id,
                subject,
                recipient: Recipient::Current,
                dedupe_key: format!("manual:{event_id}:{id}"),
                coalesce: None,
                details: BTreeMap::new(),
            }
        })
        .collect())
}

fn password_changed(client: u64, event_id: &str) -> PlannedAlert {
    PlannedAlert {
        kind: AlertKind::PasswordChanged,
        client_id: Some(client),
        subject: Subject::Client,
        recipient: Recipient::Current,
        dedupe_key: format!("password_changed:{client}:{event_id}"),
        // ClientChangePassword and UserChangePassword may both report it.
        coalesce: Some(Coalesce {
            group: format!("password_changed:{client}"),
            skip_within: Some(SAME_CHANGE),
        }),
        details: BTreeMap::new(),
    }
}

/// `ClientEdit`: only the client's own edits; a new phone number is told
/// to the old number as well.
fn details_changed(
    data: &Value,
    actor: &Actor,
    event_id: &str,
) -> Result<Vec<PlannedAlert>, NoAlert> {
    let client = id_at(data, &["userid"]).ok_or(NoAlert::Missing("userid"))?;
    if actor.kind != ActorKind::Client || actor.id != Some(client) {
        return Err(NoAlert::NotTheClient(actor.kind.as_str()));
    }
    let alert = |recipient, dedupe_key| PlannedAlert {
        kind: AlertKind::DetailsChanged,
        client_id: Some(client),
        subject: Subject::Client,
        recipient,
        dedupe_key,
        coalesce: None,
        details: BTreeMap::new(),
    };
    let mut alerts = vec![alert(
        Recipient::Current,
        format!("details_changed:{client}:{event_id}"),
    )];
    let phone = |value: &Value| {
        value
            .get("phonenumber")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let (new_phone, old_phone) = (
        phone(data),
        data.get("olddata").map(phone).unwrap_or_default(),
    );
    if !old_phone.is_empty() && digits(&old_phone) != digits(&new_phone) {
        let country = data
            .pointer("/olddata/country")
            .or_else(|| data.get("country"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        alerts.push(alert(
            Recipient::Previous {
                phone: old_phone,
                country,
            },
            format!("details_changed_old_number:{client}:{event_id}"),
        ));
    }
    Ok(alerts)
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// A positive id at a path of object keys, as a number or numeric string.
fn id_at(data: &Value, path: &[&str]) -> Option<u64> {
    path.iter()
        .try_fold(data, |value, key| value.get(key))
        .and_then(whmcs_id)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fixture(hook: &str) -> Value {
        let path = format!("{}/fixtures/whmcs/{hook}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).expect("fixture");
        serde_json::from_str::<Value>(&text).expect("JSON")["vars"].clone()
    }

    #[test]
    fn a_manual_send_plans_one_alert_per_recipient_once_and_refuses_what_needs_a_hook() {
        let alerts = manual(AlertKind::Welcome, &[7, 9, 7], "dash_1").expect("plan");
        let planned: Vec<(Option<u64>, &str)> = alerts
            .iter()
            .map(|alert| (alert.client_id, alert.dedupe_key.as_str()))
            .collect();
        assert_eq!(
            planned,
            [(Some(7), "manual:dash_1:7"), (Some(9), "manual:dash_1:9")]
        );
        assert!(alerts.iter().all(|alert| alert.coalesce.is_none()));
        // An invoice alert goes to the invoice's owner, never to a client
        // named beside it.
        let invoice = manual(AlertKind::InvoiceCreated, &[30517], "dash_2").expect("plan");
        assert_eq!(
            (invoice[0].client_id, &invoice[0].subject),
            (None, &Subject::Invoice(30517))
        );
        assert!(manual(AlertKind::TransferRequested, &[7], "dash_3").is_err());
        assert!(manual(AlertKind::Welcome, &[], "dash_4").is_err());
        let too_many: Vec<u64> = (1..=(MANUAL_SEND_LIMIT as u64 + 1)).collect();
        assert!(manual(AlertKind::Welcome, &too_many, "dash_5").is_err());
        assert!(
            !ALERT_HOOKS.contains(&MANUAL_SEND),
            "never planned from a hook"
        );
    }

    fn actor(kind: ActorKind, id: Option<u64>) -> Actor {
        Actor {
            kind,
            id,
            user_id: None,
        }
    }

    fn system() -> Actor {
        actor(ActorKind::System, None)
    }

    fn only(hook: &str, data: &Value, actor: &Actor) -> PlannedAlert {
        let mut alerts = plan(hook, data, actor, "evt_1").expect(hook);
        assert_eq!(alerts.len(), 1, "{hook}: {alerts:?}");
        alerts.remove(0)
    }

    #[test]
    fn each_alert_hook_names_its_kind_client_and_subject() {
        let cases: [(&str, AlertKind, Option<u64>, Subject, &str); 12] = [
            (
                "ClientAdd",
                AlertKind::Welcome,
                Some(1842),
                Subject::Client,
                "welcome:1842",
            ),
            (
                "ClientChangePassword",
                AlertKind::PasswordChanged,
                Some(1842),
                Subject::Client,
                "password_changed:1842:evt_1",
            ),
            (
                "InvoiceCreated",
                AlertKind::InvoiceCreated,
                None,
                Subject::Invoice(30517),
                "invoice_created:30517",
            ),
            (
                "InvoiceCancelled",
                AlertKind::InvoiceCancelled,
                None,
                Subject::Invoice(30522),
                "invoice_cancelled:30522",
            ),
            (
                "AddInvoicePayment",
                AlertKind::PaymentReceived,
                None,
                Subject::Invoice(30517),
                "payment:30517:evt_1",
            ),
            (
                "InvoicePaid",
                AlertKind::PaymentReceived,
                Some(1842),
                Subject::Invoice(30517),
                "payment:30517:paid",
            ),
            (
                "AfterModuleSuspend",
                AlertKind::ServiceSuspended,
                Some(1842),
                Subject::Service(7731),
                "service_suspended:7731:evt_1",
            ),
            (
                "AfterModuleUnsuspend",
                AlertKind::ServiceReactivated,
                Some(1842),
                Subject::Service(7731),
                "service_reactivated:7731:evt_1",
            ),
            (
                "AfterModuleTerminate",
                AlertKind::ServiceTerminated,
                Some(1842),
                Subject::Service(7731),
                "service_terminated:7731:evt_1",
            ),
            (
                "QuoteCreated",
                AlertKind::QuoteAvailable,
                None,
                Subject::Quote(88),
                "quote_available:88",
            ),
            (
                "QuoteStatusChange",
                AlertKind::QuoteAvailable,
                None,
                Subject::Quote(88),
                "quote_available:88",
            ),
            (
                "DomainDelete",
                AlertKind::DomainDeleted,
                Some(1842),
                Subject::Domain(912),
                "domain_deleted:912",
            ),
        ];
        for (hook, kind, client, subject, key) in cases {
            let alert = only(hook, &fixture(hook), &system());
            assert_eq!(
                (
                    alert.kind,
                    alert.client_id,
                    alert.subject,
                    alert.dedupe_key.as_str()
                ),
                (kind, client, subject, key),
                "{hook}"
            );
            assert_eq!(alert.recipient, Recipient::Current, "{hook}");
        }
    }

    #[test]
    fn a_user_password_change_alerts_every_client_the_user_owns_once_with_the_client_hook() {
        let data = json!({"userid": 1907, "_puente": {"client_ids": [1842, 2210]}});

        let alerts = plan("UserChangePassword", &data, &system(), "evt_u").expect("alerts");
        let client_hook = only(
            "ClientChangePassword",
            &fixture("ClientChangePassword"),
            &system(),
        );

        assert_eq!(
            alerts.iter().map(|a| a.client_id).collect::<Vec<_>>(),
            [Some(1842), Some(2210)]
        );
        assert_eq!(
            alerts[0].coalesce, client_hook.coalesce,
            "both hooks coalesce into one alert per client"
        );
        assert_eq!(
            alerts[0].coalesce.as_ref().and_then(|c| c.skip_within),
            Some(SAME_CHANGE)
        );
        assert_eq!(
            plan(
                "UserChangePassword",
                &fixture("UserChangePassword"),
                &system(),
                "evt_u"
            ),
            Err(NoAlert::Missing(
                "_puente.client_ids (the clients the user owns)"
            ))
        );
    }

    #[test]
    fn a_payment_alerts_once_and_the_completing_invoice_paid_adds_nothing() {
        let payment = only(
            "AddInvoicePayment",
            &fixture("AddInvoicePayment"),
            &system(),
        );
        let paid = only("InvoicePaid", &fixture("InvoicePaid"), &system());

        let (payment_group, paid_group) = (
            payment.coalesce.expect("group"),
            paid.coalesce.expect("group"),
        );
        assert_eq!(payment_group.group, paid_group.group);
        assert_eq!(
            payment_group.skip_within, None,
            "every payment alerts, partial ones included"
        );
        assert_eq!(paid_group.skip_within, Some(SAME_PAYMENT));
    }

    #[test]
    fn client_edits_alert_only_when_the_client_made_them() {
        let data = fixture("ClientEdit");
        for staff in [
            actor(ActorKind::Admin, Some(3)),
            actor(ActorKind::Api, None),
            system(),
            actor(ActorKind::Client, Some(9)),
        ] {
            assert!(
                matches!(
                    plan("ClientEdit", &data, &staff, "evt_1"),
                    Err(NoAlert::NotTheClient(_))
                ),
                "{staff:?}"
            );
        }
        let mut same_phone = data.clone();
        same_phone["olddata"]["phonenumber"] = json!("+234 803 987 6543");
        let alert = only(
            "ClientEdit",
            &same_phone,
            &actor(ActorKind::Client, Some(1842)),
        );
        assert_eq!(alert.kind, AlertKind::DetailsChanged);
    }

    #[test]
    fn a_new_phone_number_is_told_to_the_old_number_too() {
        let alerts = plan(
            "ClientEdit",
            &fixture("ClientEdit"),
            &actor(ActorKind::Client, Some(1842)),
            "evt_e",
        )
        .expect("alerts");

        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].recipient, Recipient::Current);
        assert_eq!(
            alerts[1].recipient,
            Recipient::Previous {
                phone: "+234.8031234567".into(),
                country: "NG".into()
            }
        );
        assert_ne!(alerts[0].dedupe_key, alerts[1].dedupe_key);
    }

    #[test]
    fn quotes_alert_once_when_available_and_never_as_drafts() {
        assert_eq!(
            plan(
                "QuoteCreated",
                &json!({"quoteid": 88, "status": "Draft"}),
                &system(),
                "e"
            ),
            Err(NoAlert::DraftQuote)
        );
        assert_eq!(
            plan(
                "QuoteStatusChange",
                &json!({"quoteid": 88, "status": "Accepted"}),
                &system(),
                "e"
            ),
            Err(NoAlert::QuoteNotDelivered("Accepted".into()))
        );
        let created = only(
            "QuoteCreated",
            &json!({"quoteid": "88", "status": "Delivered"}),
            &system(),
        );
        let delivered = only(
            "QuoteStatusChange",
            &json!({"quoteid": 88, "status": "Delivered"}),
            &system(),
        );
        assert_eq!(created.dedupe_key, delivered.dedupe_key);
    }

    #[test]
    fn other_hooks_and_incomplete_events_cause_no_alert() {
        assert_eq!(
            plan("ServiceEdit", &fixture("ServiceEdit"), &system(), "e"),
            Err(NoAlert::NotAnAlertHook("ServiceEdit".into()))
        );
        assert_eq!(
            plan("InvoicePaid", &json!({}), &system(), "e"),
            Err(NoAlert::Missing("invoiceid"))
        );
        assert_eq!(
            plan(
                "AfterModuleSuspend",
                &json!({"params": {"serviceid": 7}}),
                &system(),
                "e"
            ),
            Err(NoAlert::Missing("params.userid"))
        );
        assert_eq!(
            plan("ClientAdd", &json!({"client_id": 0}), &system(), "e"),
            Err(NoAlert::Missing("client_id"))
        );
        assert_eq!(AlertKind::ALL.len(), 18);
        for hook in ALERT_HOOKS {
            assert!(
                !matches!(
                    plan(hook, &json!({}), &system(), "e"),
                    Err(NoAlert::NotAnAlertHook(_))
                ),
                "{hook}"
            );
        }
    }

    #[test]
    fn only_the_alert_hooks_are_alert_hooks() {
        for hook in [
            "ClientAdd",
            "InvoicePaid",
            "AfterModuleSuspend",
            "DomainDelete",
        ] {
            assert!(ALERT_HOOKS.contains(&hook), "{hook}");
        }
        for hook in ["ClientLogin", "OrderPaid", "ServiceEdit", "", "invoicepaid"] {
            assert!(!ALERT_HOOKS.contains(&hook), "{hook}");
        }
    }
}
