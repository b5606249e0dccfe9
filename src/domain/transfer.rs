//! Moving a service to another client ("cambio de titular", SPEC §2.4): the
//! consent state machine and the preconditions, decided from facts and the
//! time passed in. Who may take each step is part of the transition: the
//! owner requests and withdraws, the recipient accepts or declines, staff
//! approve when the installation asks for it, the system expires and moves.
//!
//! ```text
//! requested ─accept─► accepted ─(approve, with staff approval)─► approved
//!     │                  │  └────────────(move starts)─────────────┐    │
//!     ├─decline─► declined                                          ▼    ▼
//!     ├─withdraw─► withdrawn ◄─withdraw─┘                         moving ─► completed
//!     └─(7 days)─► expired ◄──(7 days, still awaiting approval)     └────► failed
//! ```

use jiff::{Timestamp, ToSpan as _};

pub use super::status::TransferStatus as Status;
use super::texts::{Language, Text};

impl Status {
    /// What the dashboard lists unless asked for another status.
    pub const IN_FLIGHT: &'static [Self] = &[
        Self::Requested,
        Self::Accepted,
        Self::Approved,
        Self::Moving,
        Self::Failed,
    ];

    /// What happens next to a transfer in this status under `approval`.
    pub fn next_step(self, approval: Approval) -> &'static str {
        match (self, approval) {
            (Self::Requested, _) => "the recipient accepts or declines before it expires",
            (Self::Accepted, Approval::Staff) => "staff approval (approve below)",
            (Self::Accepted | Self::Approved, _) => {
                "the worker moves the service through the addon"
            }
            (Self::Moving, _) => "waiting for the addon's move; rechecked before any new try",
            (Self::Failed, _) => "the move failed: see the error; the owner can ask again",
            (Self::Completed, _) => "none: moved",
            (Self::Declined | Self::Withdrawn | Self::Expired, _) => "none: closed",
        }
    }

    /// A step into this status leaves the transfer worker a move to make.
    pub fn awaits_move(self) -> bool {
        matches!(self, Self::Accepted | Self::Approved)
    }

    /// Still going: a service has at most one open transfer.
    pub const OPEN: &'static [Self] = &[
        Self::Requested,
        Self::Accepted,
        Self::Approved,
        Self::Moving,
    ];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

/// A gateway subscription a move cleared: it would keep charging the old
/// owner, and puente cannot cancel it at the gateway, so staff are told.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ClearedSubscription {
    /// `service`, `addon` or `domain`.
    pub kind: String,
    /// The service's, addon's or domain's id.
    pub id: u64,
    pub subscription: String,
}

impl ClearedSubscription {
    /// As staff read it: `addon #31: sub_1QwErTy`.
    pub fn describe(list: &[Self]) -> String {
        list.iter()
            .map(|cleared| format!("{} #{}: {}", cleared.kind, cleared.id, cleared.subscription))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether staff approve a transfer before the move
/// (`PUENTE_TRANSFER_APPROVAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    None,
    Staff,
}

impl Approval {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "none" => Some(Self::None),
            "staff" => Some(Self::Staff),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Staff => "staff",
        }
    }
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Owner,
    Recipient,
    Staff,
    /// puente itself: expiry, the move.
    System,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Recipient => "recipient",
            Self::Staff => "staff",
            Self::System => "system",
        }
    }
}

/// A step of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Accept,
    Decline,
    Withdraw,
    Approve,
    Expire,
    /// The move is about to be asked of the addon.
    StartMove,
    MoveDone,
    MoveFailed,
}

impl Step {
    /// The party allowed to take it.
    fn party(self) -> Party {
        match self {
            Self::Accept | Self::Decline => Party::Recipient,
            Self::Withdraw => Party::Owner,
            Self::Approve => Party::Staff,
            Self::Expire | Self::StartMove | Self::MoveDone | Self::MoveFailed => Party::System,
        }
    }
}

/// Why a step is refused; `code` is the API's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRefusal {
    /// Only the owner may take this step.
    NotOwner,
    /// Only the recipient may take this step.
    NotRecipient,
    /// Only staff (or puente) may take this step.
    NotAllowed,
    /// The transfer is not where this step starts.
    InvalidTransition,
    /// The request's time ran out.
    Expired,
}

impl StepRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotOwner => "not_owner",
            Self::NotRecipient => "not_recipient",
            Self::NotAllowed => "forbidden",
            Self::InvalidTransition => "invalid_transition",
            Self::Expired => "expired",
        }
    }
}

/// The status a step leads to from `from`, taken by `by` at `now`.
/// `expires_at`: when an unanswered request (or one awaiting approval)
/// lapses.
pub fn step(
    from: Status,
    step: Step,
    by: Party,
    approval: Approval,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<Status, StepRefusal> {
    let allowed = step.party();
    if by != allowed {
        return Err(match allowed {
            Party::Owner => StepRefusal::NotOwner,
            Party::Recipient => StepRefusal::NotRecipient,
            Party::Staff | Party::System => StepRefusal::NotAllowed,
        });
    }
    let lapsed = now >= expires_at;
    match (from, step) {
        // A request that lapsed can only expire, or be withdrawn.
        (Status::Requested, Step::Accept | Step::Decline) if lapsed => Err(StepRefusal::Expired),
        (Status::Accepted, Step::Approve) if lapsed => Err(StepRefusal::Expired),
        (Status::Requested, Step::Accept) => Ok(Status::Accepted),
        (Status::Requested, Step::Decline) => Ok(Status::Declined),
        (Status::Requested, Step::Withdraw) => Ok(Status::Withdrawn),
        (Status::Accepted, Step::Withdraw) if approval == Approval::Staff => Ok(Status::Withdrawn),
        (Status::Accepted, Step::Approve) if approval == Approval::Staff => Ok(Status::Approved),
        (Status::Requested, Step::Expire) if lapsed => Ok(Status::Expired),
        (Status::Accepted, Step::Expire) if lapsed && approval == Approval::Staff => {
            Ok(Status::Expired)
        }
        (Status::Accepted, Step::StartMove) if approval == Approval::None => Ok(Status::Moving),
        (Status::Approved, Step::StartMove) => Ok(Status::Moving),
        (Status::Moving, Step::MoveDone) => Ok(Status::Completed),
        (Status::Moving, Step::MoveFailed) => Ok(Status::Failed),
        _ => Err(StepRefusal::InvalidTransition),
    }
}

/// When a request made at `requested_at` lapses.
pub fn expires_at(requested_at: Timestamp, days: u16) -> Timestamp {
    requested_at
        .checked_add((i64::from(days) * 24).hours())
        .unwrap_or(Timestamp::MAX)
}

/// An owner's request, checked, to record with the request's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransfer {
    pub service_id: u64,
    pub service_name: String,
    pub service_domain: String,
    pub domain_id: Option<u64>,
    pub owner_client_id: u64,
    pub owner_user_id: Option<u64>,
    pub recipient_client_id: u64,
    pub recipient_email: String,
    pub approval: Approval,
    pub requested_at: Timestamp,
    pub expires_at: Timestamp,
    /// The preconditions checked at request time, all passed.
    pub checks: Vec<Check>,
    /// Where the recipient answers (the addon's transfers page).
    pub answer_link: String,
}

/// A client as WHMCS describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFacts {
    pub id: u64,
    /// `Active`, `Inactive` or `Closed`.
    pub status: String,
    /// The user who owns the account (WHMCS 8).
    pub owner_user_id: Option<u64>,
    pub language: String,
}

/// The recipient as found by exact email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Found(ClientFacts),
    NotFound,
    /// Several clients have that email.
    Ambiguous,
}

/// What the preconditions read, from WHMCS and puente's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub service_id: u64,
    /// The service's owner now (`tblhosting.userid`).
    pub service_client_id: u64,
    /// `Active`, `Suspended`, …
    pub service_status: String,
    /// The client who asked (the owner at request time).
    pub owner: ClientFacts,
    pub recipient: Recipient,
    /// The WHMCS 8 user taking this step, and the client whose owner user
    /// they must be.
    pub acting_user_id: Option<u64>,
    pub acting_client_id: u64,
    /// Open invoices (`domain::invoices`) with a line of the service, its
    /// addons, its upgrades or the domain that moves with it.
    pub unpaid_invoices: Vec<u64>,
    /// Every open invoice of the client was read: with more than puente
    /// reads, the service cannot be said to be up to date.
    pub open_invoices_complete: bool,
    /// Another transfer of the service is open.
    pub other_transfer_open: bool,
    /// The domain that moves with it, if asked: its owner and status.
    pub domain: Option<(u64, u64, String)>,
}

/// A precondition that failed; `code` is the API's error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotOwner,
    NotRecipient,
    ServiceNotActive,
    ClientNotActive,
    RecipientNotFound,
    AmbiguousRecipient,
    RecipientIsOwner,
    UnpaidInvoices(Vec<u64>),
    TransferOpen,
    DomainNotMovable,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotOwner => "not_owner",
            Self::NotRecipient => "not_recipient",
            Self::ServiceNotActive => "service_not_active",
            Self::ClientNotActive => "client_not_active",
            Self::RecipientNotFound => "recipient_not_found",
            Self::AmbiguousRecipient => "ambiguous_recipient",
            Self::RecipientIsOwner => "recipient_is_owner",
            Self::UnpaidInvoices(_) => "unpaid_invoices",
            Self::TransferOpen => "transfer_open",
            Self::DomainNotMovable => "service_not_active",
        }
    }

    /// 403 for who may, 409 for the rules.
    pub fn is_who_may(&self) -> bool {
        matches!(self, Self::NotOwner | Self::NotRecipient)
    }

    /// The explanation shown to the client.
    pub fn message(&self, language: Language) -> String {
        let text = match self {
            Self::NotOwner => Text::TransferNotOwner,
            Self::NotRecipient => Text::TransferNotRecipient,
            Self::ServiceNotActive => Text::TransferServiceNotActive,
            Self::ClientNotActive => Text::TransferClientNotActive,
            Self::RecipientNotFound => Text::TransferRecipientNotFound,
            Self::AmbiguousRecipient => Text::TransferAmbiguousRecipient,
            Self::RecipientIsOwner => Text::TransferRecipientIsOwner,
            Self::UnpaidInvoices(_) => Text::TransferUnpaidInvoices,
            Self::TransferOpen => Text::TransferOpen,
            Self::DomainNotMovable => Text::TransferDomainNotMovable,
        }
        .get(language);
        match self {
            Self::UnpaidInvoices(ids) if !ids.is_empty() => {
                let list = ids
                    .iter()
                    .map(|id| format!("#{id}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("{text} ({list})")
            }
            _ => text.to_owned(),
        }
    }
}

/// One precondition's outcome, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
}

/// Every precondition, in order: the first failure, and each one's outcome.
pub fn check(facts: &Facts) -> (Result<(), Refusal>, Vec<Check>) {
    let recipient = match &facts.recipient {
        Recipient::Found(client) => Some(client),
        _ => None,
    };
    let not_closed = |client: &ClientFacts| !client.status.trim().eq_ignore_ascii_case("closed");
    let acting_owner_user = facts.acting_client_id == facts.owner.id
        && facts.acting_user_id.is_some()
        && facts.owner.owner_user_id == facts.acting_user_id;
    let acting_recipient_user = recipient.is_some_and(|client| {
        facts.acting_client_id == client.id
            && facts.acting_user_id.is_some()
            && client.owner_user_id == facts.acting_user_id
    });
    let checks: [(&'static str, bool, Refusal); 10] = [
        (
            "owner_owns_service",
            facts.service_client_id == facts.owner.id,
            Refusal::NotOwner,
        ),
        (
            "acting_user_owns_their_account",
            acting_owner_user || acting_recipient_user,
            if facts.acting_client_id == facts.owner.id {
                Refusal::NotOwner
            } else {
                Refusal::NotRecipient
            },
        ),
        (
            "service_active",
            facts.service_status.trim().eq_ignore_ascii_case("active"),
            Refusal::ServiceNotActive,
        ),
        (
            "recipient_found",
            !matches!(facts.recipient, Recipient::NotFound),
            Refusal::RecipientNotFound,
        ),
        (
            "recipient_unique",
            !matches!(facts.recipient, Recipient::Ambiguous),
            Refusal::AmbiguousRecipient,
        ),
        (
            "recipient_not_owner",
            recipient.is_none_or(|client| client.id != facts.owner.id),
            Refusal::RecipientIsOwner,
        ),
        (
            "clients_not_closed",
            not_closed(&facts.owner) && recipient.is_none_or(not_closed),
            Refusal::ClientNotActive,
        ),
        (
            "no_unpaid_invoices",
            facts.unpaid_invoices.is_empty() && facts.open_invoices_complete,
            Refusal::UnpaidInvoices(facts.unpaid_invoices.clone()),
        ),
        (
            "no_other_open_transfer",
            !facts.other_transfer_open,
            Refusal::TransferOpen,
        ),
        (
            "domain_movable",
            facts.domain.as_ref().is_none_or(|(_, owner, status)| {
                *owner == facts.owner.id && status.trim().eq_ignore_ascii_case("active")
            }),
            Refusal::DomainNotMovable,
        ),
    ];
    let mut first = Ok(());
    let mut results = Vec::with_capacity(checks.len());
    for (name, passed, refusal) in checks {
        if !passed && first.is_ok() {
            first = Err(refusal);
        }
        results.push(Check { name, passed });
    }
    (first, results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("time")
    }

    /// (from, step, approval (None: either), lapsed (None: either), to)
    type Allowed = (Status, Step, Option<Approval>, Option<bool>, Status);
    /// A precondition's expected code and how to break it.
    type Case = (&'static str, Box<dyn Fn(&mut Facts)>);

    const STEPS: [Step; 8] = [
        Step::Accept,
        Step::Decline,
        Step::Withdraw,
        Step::Approve,
        Step::Expire,
        Step::StartMove,
        Step::MoveDone,
        Step::MoveFailed,
    ];

    #[test]
    fn every_allowed_step_and_nothing_else() {
        let expires = at("2026-12-08T00:00:00Z");
        let before = at("2026-12-02T00:00:00Z");
        let after = at("2026-12-09T00:00:00Z");
        // (from, step, approval (None: either), lapsed (None: either), to)
        let allowed: [Allowed; 13] = [
            (
                Status::Requested,
                Step::Accept,
                None,
                Some(false),
                Status::Accepted,
            ),
            (
                Status::Requested,
                Step::Decline,
                None,
                Some(false),
                Status::Declined,
            ),
            (
                Status::Requested,
                Step::Withdraw,
                None,
                None,
                Status::Withdrawn,
            ),
            (
                Status::Requested,
                Step::Expire,
                None,
                Some(true),
                Status::Expired,
            ),
            (
                Status::Accepted,
                Step::StartMove,
                Some(Approval::None),
                None,
                Status::Moving,
            ),
            (
                Status::Accepted,
                Step::Approve,
                Some(Approval::Staff),
                Some(false),
                Status::Approved,
            ),
            (
                Status::Accepted,
                Step::Withdraw,
                Some(Approval::Staff),
                None,
                Status::Withdrawn,
            ),
            (
                Status::Accepted,
                Step::Expire,
                Some(Approval::Staff),
                Some(true),
                Status::Expired,
            ),
            (
                Status::Approved,
                Step::StartMove,
                None,
                None,
                Status::Moving,
            ),
            (
                Status::Moving,
                Step::MoveDone,
                None,
                None,
                Status::Completed,
            ),
            (Status::Moving, Step::MoveFailed, None, None, Status::Failed),
            // Already listed with either approval; kept explicit for reading.
            (
                Status::Requested,
                Step::Accept,
                Some(Approval::Staff),
                Some(false),
                Status::Accepted,
            ),
            (
                Status::Moving,
                Step::MoveDone,
                Some(Approval::Staff),
                None,
                Status::Completed,
            ),
        ];
        for &from in Status::ALL {
            for taken in STEPS {
                for approval in [Approval::None, Approval::Staff] {
                    for (now, lapsed) in [(before, false), (after, true)] {
                        let expected = allowed
                            .iter()
                            .find(|(f, s, a, l, _)| {
                                *f == from
                                    && *s == taken
                                    && a.is_none_or(|a| a == approval)
                                    && l.is_none_or(|l| l == lapsed)
                            })
                            .map(|(.., to)| *to);
                        let got = step(from, taken, taken.party(), approval, expires, now).ok();
                        assert_eq!(got, expected, "{from:?} {taken:?} {approval:?} {now}");
                    }
                }
            }
        }
    }

    #[test]
    fn each_step_belongs_to_one_party() {
        let (expires, now) = (at("2026-12-08T00:00:00Z"), at("2026-12-02T00:00:00Z"));
        let refused = |taken, by| step(Status::Requested, taken, by, Approval::Staff, expires, now);
        assert_eq!(
            refused(Step::Accept, Party::Owner),
            Err(StepRefusal::NotRecipient)
        );
        assert_eq!(
            refused(Step::Decline, Party::Staff),
            Err(StepRefusal::NotRecipient)
        );
        assert_eq!(
            refused(Step::Withdraw, Party::Recipient),
            Err(StepRefusal::NotOwner)
        );
        assert_eq!(
            step(
                Status::Accepted,
                Step::Approve,
                Party::Owner,
                Approval::Staff,
                expires,
                now
            ),
            Err(StepRefusal::NotAllowed)
        );
        assert_eq!(
            refused(Step::Expire, Party::Owner),
            Err(StepRefusal::NotAllowed)
        );
        assert_eq!(StepRefusal::NotRecipient.code(), "not_recipient");
    }

    #[test]
    fn an_answer_after_the_request_lapsed_is_refused_as_expired() {
        let requested = at("2026-12-01T10:00:00Z");
        let expires = expires_at(requested, 7);
        assert_eq!(expires, at("2026-12-08T10:00:00Z"));
        let late = at("2026-12-08T10:00:00Z");
        assert_eq!(
            step(
                Status::Requested,
                Step::Accept,
                Party::Recipient,
                Approval::None,
                expires,
                late
            ),
            Err(StepRefusal::Expired)
        );
        assert_eq!(
            step(
                Status::Requested,
                Step::Expire,
                Party::System,
                Approval::None,
                expires,
                at("2026-12-08T09:59:59Z")
            ),
            Err(StepRefusal::InvalidTransition),
            "not before its time"
        );
        assert_eq!(
            step(
                Status::Accepted,
                Step::Approve,
                Party::Staff,
                Approval::Staff,
                expires,
                late
            ),
            Err(StepRefusal::Expired)
        );
    }

    fn client(id: u64, user: u64) -> ClientFacts {
        ClientFacts {
            id,
            status: "Active".into(),
            owner_user_id: Some(user),
            language: String::new(),
        }
    }

    /// Juan (client 1842, user 1907) moves service 7731 to José (2210, user 2300).
    fn facts() -> Facts {
        Facts {
            service_id: 7731,
            service_client_id: 1842,
            service_status: "Active".into(),
            owner: client(1842, 1907),
            recipient: Recipient::Found(client(2210, 2300)),
            acting_user_id: Some(1907),
            acting_client_id: 1842,
            unpaid_invoices: Vec::new(),
            open_invoices_complete: true,
            other_transfer_open: false,
            domain: None,
        }
    }

    fn code(facts: &Facts) -> Result<(), &'static str> {
        check(facts).0.map_err(|refusal| refusal.code())
    }

    #[test]
    fn every_precondition_has_its_refusal() {
        assert_eq!(code(&facts()), Ok(()));
        let (_, results) = check(&facts());
        assert_eq!(results.len(), 10);
        assert!(results.iter().all(|check| check.passed));

        let cases: Vec<Case> = vec![
            ("not_owner", Box::new(|f| f.service_client_id = 5)),
            ("not_owner", Box::new(|f| f.acting_user_id = Some(1))),
            ("not_owner", Box::new(|f| f.acting_user_id = None)),
            (
                "service_not_active",
                Box::new(|f| f.service_status = "Suspended".into()),
            ),
            (
                "recipient_not_found",
                Box::new(|f| f.recipient = Recipient::NotFound),
            ),
            (
                "ambiguous_recipient",
                Box::new(|f| f.recipient = Recipient::Ambiguous),
            ),
            (
                "recipient_is_owner",
                Box::new(|f| f.recipient = Recipient::Found(client(1842, 1907))),
            ),
            (
                "client_not_active",
                Box::new(|f| f.owner.status = "Closed".into()),
            ),
            (
                "client_not_active",
                Box::new(|f| {
                    let mut closed = client(2210, 2300);
                    closed.status = "Closed".into();
                    f.recipient = Recipient::Found(closed);
                }),
            ),
            (
                "unpaid_invoices",
                Box::new(|f| f.unpaid_invoices = vec![902]),
            ),
            (
                "unpaid_invoices",
                Box::new(|f| f.open_invoices_complete = false),
            ),
            ("transfer_open", Box::new(|f| f.other_transfer_open = true)),
            (
                "service_not_active",
                Box::new(|f| f.domain = Some((912, 1842, "Expired".into()))),
            ),
            (
                "service_not_active",
                Box::new(|f| f.domain = Some((912, 5, "Active".into()))),
            ),
        ];
        for (expected, change) in cases {
            let mut broken = facts();
            change(&mut broken);
            assert_eq!(code(&broken), Err(expected), "{broken:?}");
            let (_, results) = check(&broken);
            assert!(results.iter().any(|check| !check.passed));
        }
        // An Inactive account (no active services yet) may receive one.
        let mut inactive = facts();
        inactive.recipient = Recipient::Found(ClientFacts {
            status: "Inactive".into(),
            ..client(2210, 2300)
        });
        assert_eq!(code(&inactive), Ok(()));
    }

    #[test]
    fn at_acceptance_the_recipient_user_must_own_the_recipient_account() {
        let mut accepting = facts();
        accepting.acting_client_id = 2210;
        accepting.acting_user_id = Some(2300);
        assert_eq!(code(&accepting), Ok(()));
        accepting.acting_user_id = Some(9);
        assert_eq!(code(&accepting), Err("not_recipient"));
        accepting.acting_client_id = 3001;
        assert_eq!(code(&accepting), Err("not_recipient"));
    }

    #[test]
    fn refusals_explain_themselves_in_the_clients_language() {
        let unpaid = Refusal::UnpaidInvoices(vec![902, 905]);
        assert!(unpaid.message(Language::English).ends_with("(#902, #905)"));
        assert!(unpaid.message(Language::Spanish).contains("al día"));
        assert!(Refusal::NotRecipient.is_who_may());
        assert!(!Refusal::TransferOpen.is_who_may());
        assert_eq!(Approval::parse("staff"), Some(Approval::Staff));
        assert_eq!(Approval::parse("admins"), None);
        assert_eq!(Status::parse("moving"), Some(Status::Moving));
    }

    #[test]
    fn names_as_stored_and_which_statuses_are_open() {
        let open: Vec<&str> = Status::ALL
            .iter()
            .copied()
            .filter(|status| status.is_open())
            .map(Status::as_str)
            .collect();
        assert_eq!(open, ["requested", "accepted", "approved", "moving"]);
        for approval in [Approval::None, Approval::Staff] {
            assert_eq!(Approval::parse(approval.as_str()), Some(approval));
        }
        assert_eq!(Approval::parse(" staff "), Some(Approval::Staff));
        assert_eq!(Approval::parse("admin"), None);
        let parties =
            [Party::Owner, Party::Recipient, Party::Staff, Party::System].map(Party::as_str);
        assert_eq!(parties, ["owner", "recipient", "staff", "system"]);
    }

    #[test]
    fn cleared_subscriptions_are_named_for_staff_one_by_one() {
        let cleared = |kind: &str, id, subscription: &str| ClearedSubscription {
            kind: kind.into(),
            id,
            subscription: subscription.into(),
        };
        assert_eq!(
            ClearedSubscription::describe(&[
                cleared("service", 7731, "sub_1QwErTy"),
                cleared("addon", 31, "sub_2AddOn"),
            ]),
            "service #7731: sub_1QwErTy, addon #31: sub_2AddOn"
        );
        assert_eq!(ClearedSubscription::describe(&[]), "");
    }

    #[test]
    fn unpaid_invoices_are_listed_only_when_known() {
        let with = Refusal::UnpaidInvoices(vec![12, 15]).message(Language::English);
        assert!(with.ends_with(" (#12, #15)"), "{with}");
        let without = Refusal::UnpaidInvoices(Vec::new()).message(Language::English);
        assert!(
            without.ends_with("unpaid invoices carry lines of it."),
            "{without}"
        );
    }
}
