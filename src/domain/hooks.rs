//! The hook points puente has a use for.
//!
//! Events of any other type are still verified and stored (the shim may be
//! newer than the service) but marked `unhandled`.

use super::ids::HookType;

/// Each handled hook point with what puente does with it.
pub const HANDLED: &[(&str, &str)] = &[
    ("ClientAdd", "welcome alert"),
    ("ClientChangePassword", "security alert"),
    (
        "UserChangePassword",
        "security alert to every client the user owns",
    ),
    (
        "ClientEdit",
        "details-changed alert when the client made the change",
    ),
    ("InvoiceCreated", "new-invoice alert with its link"),
    ("InvoiceCancelled", "invoice-cancelled alert"),
    ("AddInvoicePayment", "payment-received alert"),
    (
        "InvoicePaid",
        "payment-received alert; applies paid upgrades",
    ),
    ("OrderPaid", "applies paid upgrade orders"),
    ("AfterModuleSuspend", "service-suspended alert"),
    ("AfterModuleUnsuspend", "service-reactivated alert"),
    ("AfterModuleTerminate", "service-terminated alert"),
    ("QuoteCreated", "quote-available alert"),
    ("QuoteStatusChange", "quote-available alert when delivered"),
    ("DomainDelete", "domain-deleted alert"),
    ("CancellationRequest", "records cancellation requests"),
    ("AfterProductUpgrade", "records applied upgrades"),
    (
        "AfterConfigOptionsUpgrade",
        "records configurable-option upgrades (never applied by puente)",
    ),
    (
        "ServiceEdit",
        "keeps transfers and cancellations in step with WHMCS",
    ),
    (
        "ServiceDelete",
        "keeps transfers and cancellations in step with WHMCS",
    ),
    ("UserLogin", "audit trail of client sessions"),
];

/// Whether a rule of puente's consumes events of this type.
pub fn is_handled(hook: &HookType) -> bool {
    HANDLED.iter().any(|(name, _)| *name == hook.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_alert_hooks_are_handled_and_others_are_not() {
        let handled = |name: &str| is_handled(&HookType::parse(name).expect("valid name"));
        assert!(handled("InvoicePaid"));
        assert!(handled("DomainDelete"));
        assert!(!handled("TicketOpen"));
        assert!(!handled("invoicepaid"));
    }
}
