//! Where a hook meets the rules: every rule that reads the hook says what it
//! plans for the event (alerts, upgrade records, cancellation records), and
//! the event is `received` exactly when some rule claimed it, `unhandled`
//! otherwise. Pure: the caller stores the plan with the event, in one
//! transaction.

use jiff::civil::Date;
use serde_json::Value;

use super::alerts::{self, PlannedAlert};
use super::cancel::{self, Observed};
use super::envelope::{Actor, Source};
use super::transfer::NewTransfer;
use super::upgrade::UpgradePolicy;
use super::upgrade_apply::{self, Application};

/// What the rules read of one event.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The hook point (`type`).
    pub hook: &'a str,
    pub data: &'a Value,
    pub actor: &'a Actor,
    /// Through which door WHMCS was used.
    pub source: Source,
    /// The event's `webhook-id`.
    pub event_id: &'a str,
    /// The event's day in the installation's timezone.
    pub local_date: Date,
    pub upgrade_policy: UpgradePolicy,
}

/// What the rules plan for one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Some rule reads this hook.
    pub claimed: bool,
    pub alerts: Vec<PlannedAlert>,
    pub upgrades: Vec<Application>,
    pub cancellations: Vec<Observed>,
    /// Transfers requested (by the client action that carries them).
    pub transfers: Vec<NewTransfer>,
    /// Why a rule that read the hook planned nothing, or left a part out.
    pub notes: Vec<Note>,
}

impl Plan {
    /// Nothing to store beside the event.
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
            && self.upgrades.is_empty()
            && self.cancellations.is_empty()
            && self.transfers.is_empty()
    }
}

/// A rule's reason for planning less than the hook might suggest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub rule: &'static str,
    pub reason: String,
    /// Worth an operator's attention (data puente expected and did not get),
    /// rather than the normal case of a hook that needs nothing.
    pub warning: bool,
}

/// One rule: its name, the hooks it reads, and what it plans.
struct Rule {
    name: &'static str,
    hooks: &'static [&'static str],
    plan: fn(&Input<'_>, &mut Plan),
}

const RULES: [Rule; 3] = [
    Rule {
        name: "alerts",
        hooks: &alerts::ALERT_HOOKS,
        plan: plan_alerts,
    },
    Rule {
        name: "upgrades",
        hooks: &upgrade_apply::HOOKS,
        plan: plan_upgrades,
    },
    Rule {
        name: "cancellations",
        hooks: &cancel::HOOKS,
        plan: plan_cancellations,
    },
];

/// Whether some rule reads the hook.
pub fn is_handled(hook: &str) -> bool {
    RULES.iter().any(|rule| rule.hooks.contains(&hook))
}

/// Every hook some rule reads, with the rules that read it, sorted.
pub fn handled_hooks() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut hooks: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for rule in &RULES {
        for &hook in rule.hooks {
            match hooks.iter_mut().find(|(name, _)| *name == hook) {
                Some((_, rules)) => rules.push(rule.name),
                None => hooks.push((hook, vec![rule.name])),
            }
        }
    }
    hooks.sort_unstable();
    hooks
}

/// What every rule that reads the event's hook plans for it.
pub fn plan(input: &Input<'_>) -> Plan {
    let mut plan = Plan::default();
    for rule in &RULES {
        if rule.hooks.contains(&input.hook) {
            plan.claimed = true;
            (rule.plan)(input, &mut plan);
        }
    }
    plan
}

fn note(plan: &mut Plan, rule: &'static str, reason: impl ToString, warning: bool) {
    plan.notes.push(Note {
        rule,
        reason: reason.to_string(),
        warning,
    });
}

fn plan_alerts(input: &Input<'_>, plan: &mut Plan) {
    match alerts::plan(input.hook, input.data, input.actor, input.event_id) {
        Ok(planned) => plan.alerts = planned,
        Err(reason) => note(plan, "alerts", reason, false),
    }
}

fn plan_upgrades(input: &Input<'_>, plan: &mut Plan) {
    match upgrade_apply::plan(
        input.hook,
        input.data,
        input.upgrade_policy,
        input.local_date,
    ) {
        Ok(planned) => {
            for reason in planned.skipped {
                note(plan, "upgrades", reason, true);
            }
            plan.upgrades = planned.applications;
        }
        Err(reason) => note(plan, "upgrades", reason, true),
    }
}

fn plan_cancellations(input: &Input<'_>, plan: &mut Plan) {
    match cancel::observe(
        input.hook,
        input.data,
        input.actor,
        input.source,
        input.local_date,
    ) {
        Ok(observed) => plan.cancellations.extend(observed),
        Err(reason) => note(plan, "cancellations", reason, true),
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use serde_json::json;

    use super::*;
    use crate::domain::envelope::ActorKind;

    fn input<'a>(hook: &'a str, data: &'a Value, actor: &'a Actor) -> Input<'a> {
        Input {
            hook,
            data,
            actor,
            source: Source::Cron,
            event_id: "evt_1",
            local_date: date(2025, 12, 1),
            upgrade_policy: UpgradePolicy::Seed,
        }
    }

    fn system() -> Actor {
        Actor {
            kind: ActorKind::System,
            id: None,
            user_id: None,
        }
    }

    #[test]
    fn an_event_is_received_exactly_when_a_rule_reads_its_hook() {
        for hook in [
            "InvoicePaid",
            "ClientAdd",
            "AfterProductUpgrade",
            "AfterConfigOptionsUpgrade",
            "CancellationRequest",
            "AfterModuleTerminate",
        ] {
            assert!(is_handled(hook), "{hook}");
        }
        // Forwarded by the addon, read by no rule yet.
        for hook in [
            "OrderPaid",
            "ServiceEdit",
            "ServiceDelete",
            "UserLogin",
            "TicketOpen",
            "invoicepaid",
        ] {
            assert!(!is_handled(hook), "{hook}");
            let data = json!({});
            let actor = system();
            assert_eq!(plan(&input(hook, &data, &actor)), Plan::default());
        }
    }

    #[test]
    fn each_rule_that_reads_a_hook_adds_its_part() {
        let actor = system();
        let data = json!({"params": {"serviceid": 7731, "userid": 1842}});
        let terminated = plan(&input("AfterModuleTerminate", &data, &actor));
        assert!(terminated.claimed);
        assert_eq!(terminated.alerts.len(), 1, "the terminated alert");
        assert_eq!(
            terminated.cancellations,
            [Observed::Terminated {
                service_id: 7731,
                on: date(2025, 12, 1)
            }]
        );
        let rules: Vec<_> = handled_hooks()
            .into_iter()
            .filter(|(hook, _)| *hook == "AfterModuleTerminate" || *hook == "InvoicePaid")
            .collect();
        assert_eq!(
            rules,
            [
                ("AfterModuleTerminate", vec!["alerts", "cancellations"]),
                ("InvoicePaid", vec!["alerts", "upgrades"]),
            ]
        );
    }

    #[test]
    fn a_claimed_hook_without_what_a_rule_needs_is_noted() {
        let actor = system();
        let data = json!({"userid": 1842});
        let planned = plan(&input("CancellationRequest", &data, &actor));
        assert!(planned.claimed);
        assert!(planned.is_empty());
        assert_eq!(planned.notes.len(), 1);
        assert_eq!(planned.notes[0].rule, "cancellations");
        assert!(planned.notes[0].warning);
    }

    /// A transfer as the client's request carries it.
    fn transfer() -> NewTransfer {
        let at = jiff::Timestamp::UNIX_EPOCH;
        NewTransfer {
            service_id: 7731,
            service_name: "Business".into(),
            service_domain: "example.com".into(),
            domain_id: None,
            owner_client_id: 1842,
            owner_user_id: Some(1907),
            recipient_client_id: 2210,
            recipient_email: "jose@example.com".into(),
            approval: crate::domain::transfer::Approval::None,
            requested_at: at,
            expires_at: at,
            checks: Vec::new(),
            answer_link: String::new(),
        }
    }

    #[test]
    fn a_paid_upgrade_is_planned_and_any_part_makes_a_plan_non_empty() {
        let actor = system();
        let data = json!({"upgradeid": 77, "_puente": {"upgrade": {
            "id": "77", "type": "package", "relid": 501, "userid": "42",
            "originalvalue": "12", "newvalue": "13,annually", "new_cycle": "",
            "status": "Completed", "service": {"id": 501, "userid": 42, "pid": 13},
            "currency": "USD", "new_price": "150.00"}}});
        let upgraded = plan(&input("AfterProductUpgrade", &data, &actor));
        assert_eq!(upgraded.upgrades.len(), 1, "{upgraded:?}");
        assert!(!upgraded.is_empty());

        assert!(Plan::default().is_empty());
        let terminated = plan(&input(
            "AfterModuleTerminate",
            &json!({"params": {"serviceid": 7731, "userid": 1842}}),
            &actor,
        ));
        let only = |part: &str| {
            let mut only = Plan::default();
            match part {
                "alerts" => only.alerts = terminated.alerts.clone(),
                "upgrades" => only.upgrades = upgraded.upgrades.clone(),
                "cancellations" => only.cancellations = terminated.cancellations.clone(),
                "transfers" => only.transfers = vec![transfer()],
                _ => unreachable!(),
            }
            only
        };
        for part in ["alerts", "upgrades", "cancellations", "transfers"] {
            assert!(!only(part).is_empty(), "{part}");
        }
    }
}
