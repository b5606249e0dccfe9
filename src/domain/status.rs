//! The status vocabularies of the tables that carry work: each written
//! once, as an enum whose names are the stored text. The SQL `CHECK` of
//! each table is compared with its enum by a test (`store::sqlite::tests`).

/// Defines a status enum from `Variant = "text"` pairs: the enum, every
/// status in order (`ALL`, `NAMES`), its text and its parse.
macro_rules! statuses {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every status, in the table's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// Every status's stored text, in [`Self::ALL`]'s order.
            pub const NAMES: &'static [&'static str] = &[$($text,)+];

            /// The stored text.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }

            /// The status a stored text names.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $( $text => Some(Self::$variant), )+
                    _ => None,
                }
            }
        }

        impl $crate::domain::status::Named for $name {
            fn name(self) -> &'static str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use statuses;

/// A status's stored text, for code that lists statuses of any table.
pub trait Named: Copy {
    fn name(self) -> &'static str;
}

/// The stored texts of `statuses`.
pub fn names<S: Named>(statuses: &[S]) -> Vec<&'static str> {
    statuses.iter().map(|status| status.name()).collect()
}

statuses! {
    /// Where an alert stands (the `messages` table's `status`).
    pub enum MessageStatus {
        /// Waiting for the outbox (new, or a retry whose time will come).
        Planned = "planned",
        /// Never sent, with why (opted out, no phone, coalesced…).
        Skipped = "skipped",
        /// Committed before the Cloud API call.
        Sending = "sending",
        /// The service stopped while sending it: it may have reached the
        /// client; only an operator sends it again.
        Uncertain = "uncertain",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        /// Meta refused it for good, or reported a failure.
        Failed = "failed",
        /// Every try of the retry schedule failed.
        Dead = "dead",
    }
}

statuses! {
    /// Where a recorded upgrade stands (`upgrade_applications.status`).
    pub enum UpgradeStatus {
        Planned = "planned",
        /// Committed before the WHMCS call.
        Applying = "applying",
        Applied = "applied",
        /// WHMCS refused the change; `last_error` says why.
        Failed = "failed",
        /// A kind WHMCS applies itself: recorded, never applied.
        Recorded = "recorded",
        /// Refused by the rules.
        Refused = "refused",
    }
}

statuses! {
    /// Where a cancellation stands (`cancellations.status`).
    pub enum CancellationStatus {
        /// Made on WHMCS's own form; waits for the client to confirm it with
        /// their email and password on puente's page. Never carried out.
        Unconfirmed = "unconfirmed",
        /// WHMCS took it; its dates are not read yet.
        Requested = "requested",
        /// The effective date is known; the service runs until then.
        Scheduled = "scheduled",
        /// Committed before puente asks WHMCS to terminate the service.
        Terminating = "terminating",
        Terminated = "terminated",
        /// WHMCS refused the termination; `last_error` says why.
        Failed = "failed",
        /// WHMCS no longer holds the request (staff deleted it): never
        /// carried out.
        Withdrawn = "withdrawn",
        /// A domain: its renewal was switched off, nothing else.
        RenewalDisabled = "renewal_disabled",
    }
}

statuses! {
    /// Where a transfer stands.
    pub enum TransferStatus {
        Requested = "requested",
        Accepted = "accepted",
        Approved = "approved",
        /// Committed before the addon is asked to move the service.
        Moving = "moving",
        Completed = "completed",
        Declined = "declined",
        Withdrawn = "withdrawn",
        Expired = "expired",
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cancel::CancellationStatus;
    use crate::domain::status::MessageStatus;
    use crate::domain::transfer::{Approval, Status as TransferStatus};
    use crate::domain::upgrade_apply::UpgradeStatus;

    fn round_trips<S: Named + PartialEq + std::fmt::Debug>(
        all: &[S],
        names_: &[&str],
        parse: fn(&str) -> Option<S>,
    ) {
        assert_eq!(names(all), names_);
        for status in all {
            assert_eq!(parse(status.name()), Some(*status));
        }
        assert_eq!(parse("nonsense"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn every_status_reads_back_from_its_stored_text() {
        round_trips(
            MessageStatus::ALL,
            MessageStatus::NAMES,
            MessageStatus::parse,
        );
        round_trips(
            UpgradeStatus::ALL,
            UpgradeStatus::NAMES,
            UpgradeStatus::parse,
        );
        round_trips(
            CancellationStatus::ALL,
            CancellationStatus::NAMES,
            CancellationStatus::parse,
        );
        round_trips(
            TransferStatus::ALL,
            TransferStatus::NAMES,
            TransferStatus::parse,
        );
        assert_eq!(UpgradeStatus::Applying.to_string(), "applying");
    }

    #[test]
    fn the_work_in_flight_and_the_next_step_of_each_status() {
        assert_eq!(
            names(UpgradeStatus::IN_FLIGHT),
            ["planned", "applying", "failed"]
        );
        assert_eq!(
            names(CancellationStatus::IN_FLIGHT),
            [
                "unconfirmed",
                "requested",
                "scheduled",
                "terminating",
                "failed"
            ]
        );
        assert_eq!(
            names(TransferStatus::IN_FLIGHT),
            ["requested", "accepted", "approved", "moving", "failed"]
        );
        let retryable: Vec<_> = MessageStatus::ALL
            .iter()
            .filter(|status| status.is_retryable())
            .map(|status| status.as_str())
            .collect();
        assert_eq!(retryable, ["uncertain", "failed", "dead"]);
        let open: Vec<_> = CancellationStatus::ALL
            .iter()
            .filter(|status| status.is_open())
            .copied()
            .collect();
        assert_eq!(open, CancellationStatus::IN_FLIGHT);
        let moves: Vec<_> = TransferStatus::ALL
            .iter()
            .filter(|status| status.awaits_move())
            .map(|status| status.as_str())
            .collect();
        assert_eq!(moves, ["accepted", "approved"]);

        // Work in flight has something to wait for; the rest is done.
        for status in UpgradeStatus::ALL {
            let done = status.next_step().starts_with("none");
            assert_eq!(done, !UpgradeStatus::IN_FLIGHT.contains(status), "{status}");
        }
        for status in CancellationStatus::ALL {
            let done = status.next_step().starts_with("none");
            assert_eq!(done, !status.is_open(), "{status}");
        }
        for approval in [Approval::None, Approval::Staff] {
            for status in TransferStatus::ALL {
                let done = status.next_step(approval).starts_with("none");
                assert_eq!(
                    done,
                    !TransferStatus::IN_FLIGHT.contains(status),
                    "{status}"
                );
            }
        }
        assert_eq!(
            UpgradeStatus::Planned.next_step(),
            "the worker sets the new product and price in WHMCS (UpdateClientProduct)"
        );
        assert_eq!(
            UpgradeStatus::Recorded.next_step(),
            "none: WHMCS applies this kind itself"
        );
        assert_eq!(
            CancellationStatus::Withdrawn.next_step(),
            "none: WHMCS no longer holds the request, so nothing was terminated"
        );
        assert_eq!(
            CancellationStatus::Scheduled.next_step(),
            "terminated on its effective date, if WHMCS still holds the request"
        );
        assert_eq!(
            TransferStatus::Accepted.next_step(Approval::Staff),
            "staff approval (approve below)"
        );
        assert_eq!(
            TransferStatus::Accepted.next_step(Approval::None),
            "the worker moves the service through the addon"
        );
        assert_eq!(
            TransferStatus::Declined.next_step(Approval::None),
            "none: closed"
        );
        assert_eq!(
            TransferStatus::Completed.next_step(Approval::None),
            "none: moved"
        );
        let distinct = |steps: Vec<&str>| {
            steps
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let upgrades = UpgradeStatus::ALL.iter().map(|status| status.next_step());
        assert_eq!(distinct(upgrades.collect()), 6, "each says its own step");
        let cancellations = CancellationStatus::ALL
            .iter()
            .map(|status| status.next_step());
        // Terminated and renewal_disabled are both done.
        assert_eq!(distinct(cancellations.collect()), 7);
    }
}
