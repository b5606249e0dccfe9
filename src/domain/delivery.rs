//! WhatsApp delivery statuses from Meta's webhooks, which arrive out of
//! order and more than once (messaging_signing.md §2.5): a message's status
//! only ever moves forward.

use super::status::MessageStatus;

impl MessageStatus {
    /// Statuses an operator may send again.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Dead | Self::Failed | Self::Uncertain)
    }
}

/// What Meta reports about a sent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryStatus {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sent" => Some(Self::Sent),
            "delivered" => Some(Self::Delivered),
            "read" => Some(Self::Read),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
        }
    }
}

/// How far along a stored message status is. Outbox states before Meta's
/// answer rank lowest, so any report moves them on; `failed` outranks
/// `sent` but not `delivered` or `read`: a failure reported after a
/// delivery is stale, a delivery reported after a failure is news.
pub fn rank(status: &str) -> u8 {
    match status {
        "sent" => 1,
        "failed" => 2,
        "delivered" => 3,
        "read" => 4,
        _ => 0,
    }
}

/// Whether a report moves a message on from its stored status.
pub fn advances(stored: &str, reported: DeliveryStatus) -> bool {
    rank(reported.as_str()) > rank(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward_whatever_order_they_arrive_in() {
        use DeliveryStatus::*;
        let orders: [&[DeliveryStatus]; 5] = [
            &[Sent, Delivered, Read],
            &[Read, Delivered, Sent],
            &[Delivered, Sent, Read, Delivered],
            &[Failed, Delivered],
            &[Delivered, Failed, Sent],
        ];
        let finals = ["read", "read", "read", "delivered", "delivered"];
        for (order, expected) in orders.iter().zip(finals) {
            let mut stored = "uncertain";
            for &reported in *order {
                if advances(stored, reported) {
                    stored = reported.as_str();
                }
            }
            assert_eq!(stored, expected, "{order:?}");
        }
        assert!(advances("planned", Failed));
        assert_eq!(DeliveryStatus::parse("played"), None);
    }

    #[test]
    fn every_meta_status_is_read_and_ranked() {
        use DeliveryStatus::*;
        for status in [Sent, Delivered, Read, Failed] {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
        // The order a report can move a stored status along.
        let ranks: Vec<u8> = ["uncertain", "sent", "failed", "delivered", "read"]
            .into_iter()
            .map(rank)
            .collect();
        assert_eq!(ranks, [0, 1, 2, 3, 4]);
        // A lone "sent" moves an outbox status on, and is not news twice.
        assert!(advances("sending", Sent));
        assert!(!advances("sent", Sent));
    }
}
