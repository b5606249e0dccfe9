//! What the rules read of WHMCS before they decide: a service, its domain,
//! the clients of a transfer and the open invoices that carry their lines,
//! read through WHMCS's API and turned into the domain's fact types. The
//! client routes and the workers both read them here.

use crate::domain::cancel::{DomainFacts, InvoiceFacts, OpenInvoice, ServiceFacts};
use crate::domain::invoices::{ServiceLines, UpgradeRow};
use crate::domain::transfer::{ClientFacts, Facts, Recipient};

use super::{Invoice, WhmcsClient, WhmcsError};

/// A service and the open invoices that carry its lines.
#[derive(Debug, Clone)]
pub struct ServiceInvoices {
    pub service: ServiceFacts,
    pub invoices: Vec<InvoiceFacts>,
    /// The payable ones, as the client is told about them.
    pub open: Vec<OpenInvoice>,
}

/// The service as WHMCS's API has it, with the client's open invoices that
/// carry a line of it, its addons' or its upgrades' (`upgrades`: the rows
/// the addon read); `None` when WHMCS has no such service.
///
/// Paid invoices are not read: a paid renewal moved the next due date
/// already, so only an open one can cover a later period.
pub async fn service_facts(
    whmcs: &WhmcsClient,
    service_id: u64,
    upgrades: &[UpgradeRow],
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
    let addons = whmcs.service_addons(service_id).await?;
    let lines = ServiceLines::new(service_id, addons, None, upgrades);
    let found = whmcs.open_invoices_of(service.client_id, &lines).await?;
    if !found.complete {
        tracing::warn!(
            client = service.client_id,
            "the client has more open invoices than puente reads; the list may be short"
        );
    }
    let invoices = found
        .invoices
        .iter()
        .map(|invoice| InvoiceFacts {
            id: invoice.id,
            status: invoice.status.clone(),
            due_date: invoice.duedate,
            total: invoice.total,
            balance: invoice.balance,
            renews: invoice
                .items
                .iter()
                .any(|item| lines.renews(&item.kind, item.relid)),
        })
        .collect();
    Ok(Some(ServiceInvoices {
        service,
        invoices,
        open: found
            .invoices
            .iter()
            .map(|invoice| told(invoice, public_url))
            .collect(),
    }))
}

/// The domain as WHMCS's API has it, whether its renewal is off already,
/// and the client's open invoices with a line of it.
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
    let found = whmcs
        .open_invoices_of(client_id, &ServiceLines::of_domain(domain_id))
        .await?;
    Ok(Some((
        facts,
        domain.donotrenew,
        found
            .invoices
            .iter()
            .map(|invoice| told(invoice, public_url))
            .collect(),
    )))
}

/// An open invoice as the client is told about it, with where to pay it.
fn told(invoice: &Invoice, public_url: &str) -> OpenInvoice {
    OpenInvoice {
        id: invoice.id,
        total: invoice.total.to_string(),
        balance: invoice.balance.to_string(),
        duedate: invoice.duedate.map(|date| date.to_string()),
        url: format!("{public_url}viewinvoice.php?id={}", invoice.id),
    }
}

/// What the service is called and where it points, for the clients' pages
/// and alerts.
#[derive(Debug, Clone, Default)]
pub struct ServiceNames {
    pub name: String,
    pub domain: String,
}

/// What a step asks of WHMCS.
#[derive(Debug, Clone)]
pub struct Question<'a> {
    pub service_id: u64,
    /// Who should own the service (the one asking, at request time).
    pub owner_client_id: u64,
    pub recipient_email: &'a str,
    /// At acceptance: the client the request named.
    pub expected_recipient: Option<u64>,
    pub acting_client_id: u64,
    pub acting_user_id: Option<u64>,
    pub domain_id: Option<u64>,
    pub other_transfer_open: bool,
    /// The service's upgrade rows, as the addon read them.
    pub upgrades: &'a [UpgradeRow],
}

/// The facts every precondition reads; `None` when WHMCS has no such
/// service.
pub async fn transfer_facts(
    whmcs: &WhmcsClient,
    question: &Question<'_>,
) -> Result<Option<(Facts, ServiceNames)>, WhmcsError> {
    let Some(product) = whmcs.product(question.service_id).await? else {
        return Ok(None);
    };
    let owner = client(whmcs, question.owner_client_id).await?;
    let found = whmcs.clients_by_email(question.recipient_email).await?;
    let recipient = match found.as_slice() {
        [] => Recipient::NotFound,
        [one] if question.expected_recipient.is_none_or(|id| id == one.id) => {
            Recipient::Found(client(whmcs, one.id).await?)
        }
        // At acceptance the email now names someone else.
        [_] => Recipient::NotFound,
        _ => Recipient::Ambiguous,
    };
    let addons = whmcs.service_addons(question.service_id).await?;
    let domain = match question.domain_id {
        Some(id) => whmcs
            .domain(id)
            .await?
            .map(|domain| (domain.id, domain.userid, domain.status))
            .or(Some((id, 0, String::new()))),
        None => None,
    };
    let lines = ServiceLines::new(
        question.service_id,
        addons,
        question.domain_id,
        question.upgrades,
    );
    let open = whmcs.open_invoices_of(product.clientid, &lines).await?;
    let facts = Facts {
        service_id: question.service_id,
        service_client_id: product.clientid,
        service_status: product.status.clone(),
        owner,
        recipient,
        acting_user_id: question.acting_user_id,
        acting_client_id: question.acting_client_id,
        unpaid_invoices: open.ids(),
        open_invoices_complete: open.complete,
        other_transfer_open: question.other_transfer_open,
        domain,
    };
    Ok(Some((
        facts,
        ServiceNames {
            name: product.name,
            domain: product.domain,
        },
    )))
}

async fn client(whmcs: &WhmcsClient, id: u64) -> Result<ClientFacts, WhmcsError> {
    let details = whmcs.client_details(id).await?;
    Ok(ClientFacts {
        id: details.id,
        status: details.status,
        owner_user_id: details.owner_user_id,
        language: details.language,
    })
}
