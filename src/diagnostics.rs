//! The service's side of the addon's Diagnostics tab: what only the service
//! can check of an install. The WHMCS API with puente's own credentials
//! (reachable, and every action puente calls allowed by its API role, each
//! probed without a side effect) and the addon's `action.php` called back
//! from the service with a signed no-op; with the pure rows of
//! `domain::diagnostics` (versions, clocks, time zones, hooks received).
//! Nothing here changes WHMCS.

use serde_json::Value;

use crate::domain::diagnostics::{AddonFacts, Row, Verdict, clocks, hooks, timezones, versions};
use crate::domain::ids::InstanceName;
use crate::whmcs::{AddonClient, AddonError, WhmcsClient, WhmcsError};

/// Where an install's WHMCS is, as the service reaches it.
pub struct Reach<'a> {
    pub instance: &'a InstanceName,
    pub api: Option<&'a WhmcsClient>,
    pub addon: Option<&'a AddonClient>,
    pub timezone: &'a jiff::tz::TimeZone,
}

/// Read-only API actions puente calls, each with parameters naming nothing
/// (WHMCS answers "not found" or an empty list).
const READ_PROBES: [(&str, &[(&str, &str)]); 9] = [
    ("GetClientsDetails", &[("clientid", "0")]),
    ("GetInvoice", &[("invoiceid", "0")]),
    ("GetInvoices", &[("userid", "0"), ("limitnum", "1")]),
    (
        "GetClientsProducts",
        &[("serviceid", "0"), ("limitnum", "1")],
    ),
    ("GetClientsDomains", &[("domainid", "0"), ("limitnum", "1")]),
    ("GetClientsAddons", &[("serviceid", "0")]),
    (
        "GetClients",
        &[
            ("search", "puente-diagnostics-no-such-client"),
            ("limitnum", "1"),
        ],
    ),
    ("GetQuotes", &[("quoteid", "0"), ("limitnum", "1")]),
    ("GetTicket", &[("ticketid", "0")]),
];

/// Actions that change WHMCS, probed with a service id WHMCS documents it
/// refuses before doing anything ("Service ID is required" / "Service ID
/// Not Found").
const CHANGE_PROBES: [(&str, &[(&str, &str)]); 3] = [
    ("ModuleTerminate", &[("serviceid", "0")]),
    ("UpdateClientProduct", &[("serviceid", "0")]),
    ("AddCancelRequest", &[("serviceid", "0")]),
];

/// Actions puente calls that no probe can try without changing WHMCS.
const NOT_PROBED: [&str; 3] = ["UpdateClientDomain", "OpenTicket", "LogActivity"];

/// Whether an API answer says puente's API role lacks the action
/// ("Invalid Permissions: API action … is not allowed").
fn refused_permission(error: &WhmcsError) -> bool {
    match error {
        WhmcsError::Forbidden { .. } => true,
        WhmcsError::Rejected { message, .. } => {
            let message = message.to_ascii_lowercase();
            message.contains("permission") || message.contains("not allowed")
        }
        _ => false,
    }
}

/// Every row the service checks for an install, at `now`.
pub async fn rows(
    reach: &Reach<'_>,
    addon: &AddonFacts,
    hooks_seen: &[(String, Option<jiff::Timestamp>)],
    now: jiff::Timestamp,
) -> Vec<Row> {
    let mut rows = vec![
        versions(addon),
        clocks(addon, now),
        timezones(reach.timezone, addon, now),
    ];
    rows.extend(api(reach).await);
    rows.push(callback(reach, addon).await);
    rows.push(hooks(hooks_seen));
    rows
}

async fn api(reach: &Reach<'_>) -> Vec<Row> {
    let Some(api) = reach.api else {
        return vec![Row::new(
            "whmcs_api",
            "WHMCS API",
            Verdict::Fail,
            format!("instance {} has no WHMCS API settings", reach.instance),
            "set PUENTE_WHMCS_URL, PUENTE_WHMCS_IDENTIFIER and PUENTE_WHMCS_SECRET (or the instance's whmcs_*): \
             cancellations, transfers, applied upgrades and alerts need them",
        )];
    };
    let reached = match api.call("WhmcsDetails", &[]).await {
        Ok(answer) => {
            let version = answer
                .get("whmcs")
                .and_then(|whmcs| whmcs.get("version"))
                .and_then(Value::as_str)
                .unwrap_or("of an unknown version")
                .to_owned();
            Row::new(
                "whmcs_api",
                "WHMCS API",
                Verdict::Pass,
                format!("WHMCS {version} answers puente's credentials"),
                "",
            )
        }
        Err(error) if refused_permission(&error) => Row::new(
            "whmcs_api",
            "WHMCS API",
            Verdict::Pass,
            "WHMCS answers puente's credentials (its role does not allow WhmcsDetails, which puente does not need)"
                .to_owned(),
            "",
        ),
        Err(error @ WhmcsError::Rejected { .. }) => Row::new(
            "whmcs_api",
            "WHMCS API",
            Verdict::Pass,
            format!("WHMCS answers puente's credentials ({error})"),
            "",
        ),
        Err(error) => {
            return vec![Row::new(
                "whmcs_api",
                "WHMCS API",
                Verdict::Fail,
                error.to_string(),
                "check the WHMCS URL, the API credential and its IP allow-list (Configuration > System Settings > API Credentials)",
            )
            .confirming(&["23", "24"])];
        }
    };
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    let mut unknown = Vec::new();
    for (action, params) in READ_PROBES.iter().chain(CHANGE_PROBES.iter()) {
        let params: Vec<(&str, String)> = params
            .iter()
            .map(|(key, value)| (*key, (*value).to_owned()))
            .collect();
        match api.call(action, &params).await {
            Ok(_) => allowed.push(*action),
            Err(error) if refused_permission(&error) => refused.push(*action),
            Err(WhmcsError::Rejected { .. }) => allowed.push(*action),
            Err(error) => unknown.push(format!("{action} ({error})")),
        }
    }
    let not_probed = format!(
        "not probed, as they would change WHMCS: {}",
        NOT_PROBED.join(", ")
    );
    let permissions = if !refused.is_empty() {
        Row::new(
            "api_permissions",
            "WHMCS API permissions",
            Verdict::Fail,
            format!(
                "puente's API role does not allow {}; {not_probed}",
                refused.join(", ")
            ),
            &format!(
                "allow these actions (and {}) in the API role of puente's credential",
                NOT_PROBED.join(", ")
            ),
        )
    } else if !unknown.is_empty() {
        Row::new(
            "api_permissions",
            "WHMCS API permissions",
            Verdict::Warn,
            format!("could not probe {}; {not_probed}", unknown.join(", ")),
            "run the diagnostics again",
        )
    } else {
        Row::new(
            "api_permissions",
            "WHMCS API permissions",
            Verdict::Pass,
            format!(
                "all {} actions probed are allowed: {}; {not_probed}",
                allowed.len(),
                allowed.join(", ")
            ),
            "",
        )
    };
    vec![reached, permissions.confirming(&["24", "43"])]
}

async fn callback(reach: &Reach<'_>, addon: &AddonFacts) -> Row {
    let Some(client) = reach.addon else {
        return Row::new(
            "action_php",
            "action.php from the service",
            Verdict::Fail,
            "the service has no WHMCS URL for this instance".to_owned(),
            "set PUENTE_WHMCS_URL (or the instance's whmcs_url)",
        );
    };
    match client.ping().await {
        Ok(version) if version == addon.version => Row::new(
            "action_php",
            "action.php from the service",
            Verdict::Pass,
            format!(
                "{} answered a signed Ping (addon {version})",
                client.url()
            ),
            "",
        ),
        Ok(version) => Row::new(
            "action_php",
            "action.php from the service",
            Verdict::Warn,
            format!(
                "{} answered a signed Ping, as addon {version} (this page is addon {})",
                client.url(),
                addon.version
            ),
            "the WHMCS URL the service uses reaches another install of the addon",
        ),
        Err(AddonError::Refused { code, message }) => Row::new(
            "action_php",
            "action.php from the service",
            Verdict::Fail,
            format!("{} refused a signed Ping: {code}: {message}", client.url()),
            "update the addon to the service's version",
        ),
        Err(AddonError::Unreachable(reason)) => Row::new(
            "action_php",
            "action.php from the service",
            Verdict::Fail,
            format!("{} could not be reached: {reason}", client.url()),
            if reason.contains("401") {
                "the addon's Signing secret must be the service's first secret for this instance"
            } else {
                "the service must reach modules/addons/puente/action.php under the WHMCS URL (firewall, WAF, web server rules)"
            },
        ),
    }
    .confirming(&["19"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permission_error_is_told_apart_from_any_other_refusal() {
        let rejected = |message: &str| WhmcsError::Rejected {
            action: "GetInvoice".into(),
            message: message.into(),
        };
        assert!(refused_permission(&rejected(
            "Invalid Permissions: API action \"getinvoice\" is not allowed"
        )));
        assert!(!refused_permission(&rejected("Invoice ID Not Found")));
        assert!(refused_permission(&WhmcsError::Forbidden {
            action: "GetInvoice".into(),
            message: "Invalid IP".into()
        }));
        assert!(!refused_permission(&WhmcsError::Unavailable {
            action: "GetInvoice".into(),
            detail: "HTTP 503".into()
        }));
    }
}
