//! What a planned alert needs from WHMCS before it can be written: the
//! recipient client, their number and language, and the template values.

use std::collections::HashMap;

use crate::config::{Alerts, Consent};
use crate::domain::alerts::AlertKind;
use crate::domain::cancel::CancelType;
use crate::domain::phone::{PhoneError, PhoneNumber};
use crate::domain::templates::Parameter;
use crate::domain::texts::Language;
use crate::store::messages::DueMessage;
use crate::whmcs::{ClientDetails, WhmcsClient, WhmcsError};

/// Puts the values that depend on the message's language into it: the
/// cancellation type is stored as WHMCS spells it.
pub fn localise(kind: AlertKind, language: &str, values: &mut HashMap<&'static str, String>) {
    if kind != AlertKind::CancellationRequested {
        return;
    }
    let key = Parameter::CancellationType.as_str();
    if let Some(label) = values
        .get(key)
        .and_then(|stored| CancelType::parse(stored))
        .map(|kind| kind.label(Language::named(language)))
    {
        values.insert(key, label.to_owned());
    }
}

/// Everything a message needs.
#[derive(Debug, Clone)]
pub struct Facts {
    pub client: ClientDetails,
    pub to: PhoneNumber,
    pub values: HashMap<&'static str, String>,
}

/// Why a message cannot be prepared.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NotReady {
    /// Recorded as skipped; never retried.
    #[error("{0}")]
    Skip(String),
    /// WHMCS knows no such record: recorded as dead.
    #[error("{0}")]
    Gone(String),
    /// Worth another try later.
    #[error("{0}")]
    Retry(String),
}

impl From<WhmcsError> for NotReady {
    fn from(error: WhmcsError) -> Self {
        match error {
            WhmcsError::Rejected { .. } => Self::Gone(error.to_string()),
            _ => Self::Retry(error.to_string()),
        }
    }
}

impl From<PhoneError> for NotReady {
    fn from(error: PhoneError) -> Self {
        Self::Skip(format!("no usable phone number: {error}"))
    }
}

/// The WHMCS email-preference category whose opt-out also silences an
/// alert; security alerts (password, details) are always sent.
fn category(kind: AlertKind) -> Option<&'static str> {
    match kind {
        AlertKind::InvoiceCreated | AlertKind::InvoiceCancelled | AlertKind::PaymentReceived => {
            Some("invoice")
        }
        AlertKind::ServiceSuspended
        | AlertKind::ServiceReactivated
        | AlertKind::ServiceTerminated
        | AlertKind::UpgradeApplied
        | AlertKind::CancellationRequested
        | AlertKind::TransferRequested
        | AlertKind::TransferAccepted
        | AlertKind::TransferDeclined
        | AlertKind::TransferExpired
        | AlertKind::TransferCompleted => Some("product"),
        AlertKind::DomainDeleted => Some("domain"),
        AlertKind::Welcome | AlertKind::QuoteAvailable => Some("general"),
        AlertKind::PasswordChanged | AlertKind::DetailsChanged => None,
    }
}

/// Whether the client may get this alert: explicit opt-in when the
/// install asks for it, then the client's own opt-outs (a custom field
/// listing alert kinds or `all`, then WHMCS's email preferences).
fn consent(client: &ClientDetails, kind: AlertKind, alerts: &Alerts) -> Result<(), String> {
    let field = |id: Option<u64>| {
        id.and_then(|id| client.customfields.iter().find(|field| field.id == id))
            .map(|field| field.value.trim().to_lowercase())
            .unwrap_or_default()
    };
    if alerts.consent == Consent::Explicit {
        let answer = field(alerts.optin_field);
        if !matches!(
            answer.as_str(),
            "on" | "yes" | "sí" | "si" | "1" | "true" | "x"
        ) {
            return Err("the client has not opted in to WhatsApp alerts".into());
        }
    }
    let refused = field(alerts.optout_field);
    let silenced = refused
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .any(|entry| matches!(entry, "all" | "todas" | "todo") || entry == kind.as_str());
    if silenced {
        return Err(format!(
            "the client opted out of `{}` alerts",
            kind.as_str()
        ));
    }
    match opted_out(client, kind) {
        Some(category) => Err(format!(
            "the client opted out of `{category}` messages in WHMCS"
        )),
        None => Ok(()),
    }
}

fn opted_out(client: &ClientDetails, kind: AlertKind) -> Option<&'static str> {
    let preferences = &client.email_preferences;
    let category = category(kind)?;
    let on = match category {
        "invoice" => preferences.invoice,
        "product" => preferences.product,
        "domain" => preferences.domain,
        _ => preferences.general,
    };
    (!on).then_some(category)
}

/// Why a message cannot be prepared, and its client if that was known by
/// then (for the note in the client's WHMCS log).
#[derive(Debug)]
pub struct Unresolved {
    pub why: NotReady,
    pub client: Option<u64>,
}

/// Reads what the message needs from WHMCS. `public_url` ends with `/`.
pub async fn resolve(
    whmcs: &WhmcsClient,
    message: &DueMessage,
    public_url: &str,
    alerts: &Alerts,
) -> Result<Facts, Unresolved> {
    let mut client = message.client_id;
    resolve_noting_client(whmcs, message, public_url, alerts, &mut client)
        .await
        .map_err(|why| Unresolved { why, client })
}

/// [`resolve`], writing the client to `client` as soon as it is known.
async fn resolve_noting_client(
    whmcs: &WhmcsClient,
    message: &DueMessage,
    public_url: &str,
    alerts: &Alerts,
    known_client: &mut Option<u64>,
) -> Result<Facts, NotReady> {
    let mut values: HashMap<&'static str, String> = message.details.clone();
    let link = |path: &str| format!("{public_url}{path}");
    values.insert(Parameter::PanelLink.as_str(), link("clientarea.php"));
    let subject = message.subject_id.unwrap_or_default();

    // The client: named by the event, or the owner of the subject.
    let mut client_id = message.client_id;
    let mut amount = None;
    match message.subject_kind.as_str() {
        "invoice" => {
            let invoice = whmcs.invoice(subject).await?;
            client_id = client_id.or(Some(invoice.userid));
            let number = if invoice.invoicenum.is_empty() {
                invoice.id.to_string()
            } else {
                invoice.invoicenum.clone()
            };
            values.insert(Parameter::InvoiceNumber.as_str(), number);
            values.insert(
                Parameter::InvoiceLink.as_str(),
                link(&format!("viewinvoice.php?id={}", invoice.id)),
            );
            amount = Some((Parameter::InvoiceTotal, invoice.total));
        }
        "quote" => {
            let quote = whmcs
                .quote(subject)
                .await?
                .ok_or_else(|| NotReady::Gone(format!("WHMCS has no quote {subject}")))?;
            if quote.stage.eq_ignore_ascii_case("draft") {
                return Err(NotReady::Skip("the quote is back in draft".into()));
            }
            client_id = client_id.or(Some(quote.userid));
            values.insert(Parameter::QuoteNumber.as_str(), quote.id.to_string());
            values.insert(
                Parameter::QuoteLink.as_str(),
                link(&format!("viewquote.php?id={}", quote.id)),
            );
            amount = Some((Parameter::QuoteTotal, quote.total));
        }
        _ => {}
    }
    let client_id = client_id.ok_or_else(|| NotReady::Gone("the alert names no client".into()))?;
    *known_client = Some(client_id);
    let client = whmcs.client_details(client_id).await?;
    consent(&client, message.kind, alerts).map_err(NotReady::Skip)?;
    if let Some((parameter, total)) = amount {
        values.insert(
            parameter.as_str(),
            format!("{total} {}", client.currency_code)
                .trim()
                .to_owned(),
        );
    }
    match message.subject_kind.as_str() {
        "service" => {
            // Read by its id alone: an alert goes to the client who owned
            // the service when its event happened (the event names them),
            // even if the service moved to another client since; the new
            // owner is told only of what happens after the move.
            let service = whmcs.product(subject).await?;
            let service =
                service.ok_or_else(|| NotReady::Gone(format!("WHMCS has no service {subject}")))?;
            let domain = if service.domain.is_empty() {
                service.name.clone()
            } else {
                service.domain.clone()
            };
            if let Some(due) = service.nextduedate {
                values.insert(Parameter::NextDueDate.as_str(), due.to_string());
            }
            values.insert(Parameter::ServiceName.as_str(), service.name);
            values.insert(Parameter::ServiceDomain.as_str(), domain);
        }
        "domain" => {
            // A deleted domain may be gone from WHMCS already: its id then.
            let name = whmcs
                .client_domain(client_id, subject)
                .await
                .ok()
                .flatten()
                .map_or_else(|| format!("#{subject}"), |domain| domain.domainname);
            values.insert(Parameter::DomainName.as_str(), name);
        }
        _ => {}
    }
    let name = if client.firstname.is_empty() {
        client.companyname.clone()
    } else {
        client.firstname.clone()
    };
    values.insert(Parameter::ClientName.as_str(), name);
    let to = match &message.previous_phone {
        Some((phone, country)) => PhoneNumber::from_whmcs(phone, "", country)?,
        None => {
            PhoneNumber::from_whmcs(&client.phonenumber, &client.phonecc, client.country_code())?
        }
    };
    Ok(Facts { client, to, values })
}
