//! What an open invoice of a service is (SPEC §2.4), one definition for
//! every rule that asks: a transfer's "the service is up to date", a
//! cancellation's invoices that stay payable and its billed period. The
//! addon's move checks the same rule on WHMCS's tables
//! (`lib/OpenInvoices.php`); both are tested against the table in
//! `fixtures/open-invoices.json`.
//!
//! - Open: `Unpaid`, `Payment Pending` or `Collections`. A `Draft` is not
//!   issued; `Paid`, `Cancelled` and `Refunded` invoices owe nothing.
//! - A line of the service: its `Hosting`, `PromoHosting` and `Setup` lines,
//!   its addons' `Addon` lines, the lines of its domain (types starting with
//!   `Domain`) when the domain goes with it, and `Upgrade` lines of an
//!   upgrade of the service or of one of its addons.

/// The statuses of an invoice that is still to be paid, as WHMCS spells
/// them (`GetInvoices` takes one per call).
pub const OPEN_STATUSES: [&str; 3] = ["Unpaid", "Payment Pending", "Collections"];

/// Whether an invoice of this status is still to be paid.
pub fn is_open(status: &str) -> bool {
    let status = status.trim();
    OPEN_STATUSES
        .iter()
        .any(|open| open.eq_ignore_ascii_case(status))
}

/// A `tblupgrades` row as the addon reads it: its `type` (`package`,
/// `service`, `configoptions`, `addon`) says what its `relid` is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct UpgradeRow {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub relid: u64,
}

/// What belongs to one service on an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLines {
    /// None for a domain on its own.
    pub service_id: Option<u64>,
    /// Its addons (`tblhostingaddons.id`).
    pub addon_ids: Vec<u64>,
    /// Its domain, when the domain goes with it.
    pub domain_id: Option<u64>,
    /// Its upgrades and its addons' (`tblupgrades.id`).
    pub upgrade_ids: Vec<u64>,
}

impl ServiceLines {
    /// The lines of `service_id` with its addons, the domain going with it,
    /// and whichever of `upgrades` are the service's or its addons'.
    pub fn new(
        service_id: u64,
        addon_ids: Vec<u64>,
        domain_id: Option<u64>,
        upgrades: &[UpgradeRow],
    ) -> Self {
        let upgrade_ids = upgrades
            .iter()
            .filter(|row| match row.kind.trim().to_ascii_lowercase().as_str() {
                "package" | "service" | "configoptions" => row.relid == service_id,
                "addon" => addon_ids.contains(&row.relid),
                _ => false,
            })
            .map(|row| row.id)
            .collect();
        Self {
            service_id: Some(service_id),
            addon_ids,
            domain_id,
            upgrade_ids,
        }
    }

    /// The lines of a domain on its own (a domain's cancellation).
    pub fn of_domain(domain_id: u64) -> Self {
        Self {
            service_id: None,
            addon_ids: Vec::new(),
            domain_id: Some(domain_id),
            upgrade_ids: Vec::new(),
        }
    }

    /// Whether an invoice line (`type`, `relid`) is one of the service's.
    pub fn carries(&self, kind: &str, relid: Option<u64>) -> bool {
        let Some(relid) = relid else {
            return false;
        };
        match kind.trim() {
            "Hosting" | "PromoHosting" | "Setup" => self.service_id == Some(relid),
            "Addon" => self.addon_ids.contains(&relid),
            "Upgrade" => self.upgrade_ids.contains(&relid),
            domain if domain.starts_with("Domain") => self.domain_id == Some(relid),
            _ => false,
        }
    }

    /// Whether a line renews the service for a period (a `Hosting` line of
    /// it): the period it pays starts on the invoice's due date.
    pub fn renews(&self, kind: &str, relid: Option<u64>) -> bool {
        kind.trim() == "Hosting" && relid.is_some() && relid == self.service_id
    }
}

/// The open invoices among `invoices` (id, status, lines as `(type,
/// relid)`) that carry a line of the service, by id.
pub fn open_of<'a>(
    lines: &ServiceLines,
    invoices: impl IntoIterator<Item = (u64, &'a str, Vec<(&'a str, Option<u64>)>)>,
) -> Vec<u64> {
    let mut open: Vec<u64> = invoices
        .into_iter()
        .filter(|(_, status, items)| {
            is_open(status)
                && items
                    .iter()
                    .any(|(kind, relid)| lines.carries(kind, *relid))
        })
        .map(|(id, ..)| id)
        .collect();
    open.sort_unstable();
    open.dedup();
    open
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    struct Table {
        open_statuses: Vec<String>,
        not_open_statuses: Vec<String>,
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct Case {
        name: String,
        service: Service,
        domain: Option<u64>,
        addons: Vec<Addon>,
        upgrades: Vec<UpgradeRow>,
        invoices: Vec<Invoice>,
        open: Vec<u64>,
    }

    #[derive(Deserialize)]
    struct Service {
        id: u64,
    }

    #[derive(Deserialize)]
    struct Addon {
        id: u64,
        service: u64,
    }

    #[derive(Deserialize)]
    struct Invoice {
        id: u64,
        status: String,
        lines: Vec<(String, u64)>,
    }

    fn table() -> Table {
        let path = format!("{}/fixtures/open-invoices.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("the table")).expect("JSON")
    }

    #[test]
    fn the_open_statuses_are_the_tables() {
        let table = table();
        assert_eq!(table.open_statuses, OPEN_STATUSES);
        for status in &table.open_statuses {
            assert!(is_open(status), "{status}");
            assert!(is_open(&status.to_ascii_uppercase()), "{status}");
        }
        for status in &table.not_open_statuses {
            assert!(!is_open(status), "{status}");
        }
        assert!(!is_open("Overdue"), "a filter of GetInvoices, not a status");
    }

    #[test]
    fn every_case_of_the_table_finds_the_same_open_invoices() {
        let table = table();
        assert!(table.cases.len() >= 7);
        for case in &table.cases {
            // WHMCS's GetClientsAddons lists the service's own addons.
            let addons = case
                .addons
                .iter()
                .filter(|addon| addon.service == case.service.id)
                .map(|addon| addon.id)
                .collect();
            let lines = ServiceLines::new(case.service.id, addons, case.domain, &case.upgrades);
            let open = open_of(
                &lines,
                case.invoices.iter().map(|invoice| {
                    (
                        invoice.id,
                        invoice.status.as_str(),
                        invoice
                            .lines
                            .iter()
                            .map(|(kind, relid)| (kind.as_str(), Some(*relid)))
                            .collect(),
                    )
                }),
            );
            assert_eq!(open, case.open, "{}", case.name);
        }
    }

    #[test]
    fn only_a_hosting_line_of_the_service_renews_it() {
        let lines = ServiceLines::new(7731, vec![31], Some(912), &[]);
        assert!(lines.renews("Hosting", Some(7731)));
        for (kind, relid) in [
            ("Hosting", Some(7732)),
            ("PromoHosting", Some(7731)),
            ("Setup", Some(7731)),
            ("Addon", Some(31)),
            ("Domain", Some(912)),
            ("Hosting", None),
        ] {
            assert!(!lines.renews(kind, relid), "{kind} {relid:?}");
        }
        assert!(!lines.carries("Hosting", None));
        // Only a line whose type names a domain is the domain's.
        for kind in ["Item", "LateFee", "AddFunds", "Invoice"] {
            assert!(!lines.carries(kind, Some(912)), "{kind}");
        }
        let domain = ServiceLines::of_domain(912);
        assert!(domain.carries("DomainRenew", Some(912)));
        assert!(!domain.carries("Hosting", Some(0)));
        assert!(!domain.renews("Hosting", Some(912)));
    }

    #[test]
    fn unknown_upgrade_types_belong_to_nothing() {
        let rows = [
            UpgradeRow {
                id: 1,
                kind: "Package".into(),
                relid: 7731,
            },
            UpgradeRow {
                id: 2,
                kind: "domain".into(),
                relid: 7731,
            },
        ];
        let lines = ServiceLines::new(7731, Vec::new(), None, &rows);
        assert_eq!(lines.upgrade_ids, [1]);
    }
}
