//! A client's open invoices that carry a line of one service (the rule is
//! `domain::invoices`), read through the API with a bounded number of
//! calls: `GetInvoices` once per open status (WHMCS filters by one status
//! a call), side by side, then `GetInvoice` for the newest of them, a few
//! at a time. A client waits on this (a cancellation's page, a transfer's
//! step), so it is never a hundred calls one after another.

use futures_util::{StreamExt as _, TryStreamExt as _};

use super::{Invoice, WhmcsClient, WhmcsError};
use crate::domain::invoices::{OPEN_STATUSES, ServiceLines};

/// Most invoices listed per status and read in all: more than any client
/// has open.
pub const MOST_READ: usize = 100;
/// `GetInvoice` calls in flight at once.
const READS_AT_ONCE: usize = 8;

/// A client's open invoices with a line of the service.
#[derive(Debug, Clone, Default)]
pub struct OpenInvoices {
    /// Oldest id first.
    pub invoices: Vec<Invoice>,
    /// False when the client has more open invoices than were read (over
    /// [`MOST_READ`]): some may carry a line of the service.
    pub complete: bool,
}

impl OpenInvoices {
    /// The invoices' ids.
    pub fn ids(&self) -> Vec<u64> {
        self.invoices.iter().map(|invoice| invoice.id).collect()
    }
}

impl WhmcsClient {
    /// The open invoices of `client_id` that carry a line of `lines`.
    pub async fn open_invoices_of(
        &self,
        client_id: u64,
        lines: &ServiceLines,
    ) -> Result<OpenInvoices, WhmcsError> {
        let limit = u32::try_from(MOST_READ).unwrap_or(u32::MAX);
        let listed = futures_util::future::try_join_all(
            OPEN_STATUSES
                .iter()
                .map(|status| self.client_invoices(client_id, status, limit)),
        )
        .await?;
        let mut complete = listed.iter().all(|(_, more)| !more);
        let mut summaries: Vec<_> = listed
            .into_iter()
            .flat_map(|(summaries, _)| summaries)
            .collect();
        // The newest first: a renewal of the next period is among them.
        summaries.sort_by(|a, b| b.duedate.cmp(&a.duedate).then(b.id.cmp(&a.id)));
        summaries.dedup_by_key(|summary| summary.id);
        if summaries.len() > MOST_READ {
            summaries.truncate(MOST_READ);
            complete = false;
        }
        let mut invoices: Vec<Invoice> = futures_util::stream::iter(summaries)
            .map(|summary| self.invoice(summary.id))
            .buffer_unordered(READS_AT_ONCE)
            .try_filter(|invoice| {
                let carries = crate::domain::invoices::is_open(&invoice.status)
                    && invoice
                        .items
                        .iter()
                        .any(|item| lines.carries(&item.kind, item.relid));
                std::future::ready(carries)
            })
            .try_collect()
            .await?;
        invoices.sort_by_key(|invoice| invoice.id);
        Ok(OpenInvoices { invoices, complete })
    }
}
