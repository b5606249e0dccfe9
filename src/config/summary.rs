//! The `puente check-config` view of a configuration.

use std::fmt;

use super::{Config, Consent, Rules};

/// A summary for `puente check-config`: every setting in effect, secrets
/// shown only as set or unset.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |present: bool| if present { "set" } else { "unset" };
        writeln!(f, "listen                  {}", self.listen)?;
        match &self.database_url {
            Some(url) => writeln!(f, "database                {url}")?,
            None => writeln!(
                f,
                "database                SQLite {}",
                self.database.display()
            )?,
        }
        writeln!(
            f,
            "database busy timeout   {} ms",
            self.database_busy_timeout.as_millis()
        )?;
        writeln!(
            f,
            "WAL preallocation       {} MiB",
            self.database_wal_preallocate_mib
        )?;
        writeln!(
            f,
            "hook secrets            {} (global)",
            self.hook_secrets.len()
        )?;
        let scoped = self
            .instances
            .values()
            .filter(|instance| instance.admin_token.is_some())
            .count();
        writeln!(
            f,
            "admin API               {}",
            match (self.admin_token.is_some(), scoped) {
                (true, 0) => "on (global token set)".to_owned(),
                (true, n) => format!("on (global token set; {n} instance tokens)"),
                (false, 0) => "off".to_owned(),
                (false, n) => format!("on ({n} instance tokens, no global one)"),
            }
        )?;
        writeln!(
            f,
            "timestamp tolerance     {} s",
            self.timestamp_tolerance_s
        )?;
        for (name, instance) in &self.instances {
            writeln!(f, "instance {name}")?;
            let secrets = if instance.secrets.is_empty() {
                "the global ones".to_owned()
            } else {
                format!("{} of its own", instance.secrets.len())
            };
            writeln!(f, "  hook secrets          {secrets}")?;
            if instance.admin_token.is_some() {
                writeln!(
                    f,
                    "  admin token           its own (this instance's records only)"
                )?;
            }
            match &instance.whmcs {
                Some(api) => writeln!(
                    f,
                    "  WHMCS API             {} (identifier {}, secret set, access key {})",
                    api.url,
                    api.identifier,
                    set(api.accesskey.is_some())
                )?,
                None => writeln!(f, "  WHMCS API             not configured")?,
            }
            match &instance.public_url {
                Some(url) => writeln!(f, "  public URL            {url}")?,
                None => writeln!(f, "  public URL            unset")?,
            }
            writeln!(f, "  time zone             {}", instance.timezone_name)?;
            writeln!(
                f,
                "  rules and channels in effect, and where each comes from:"
            )?;
            for (key, value) in rule_values(&instance.rules) {
                let origin = instance
                    .origins
                    .get(key)
                    .map_or("built-in default".to_owned(), ToString::to_string);
                writeln!(f, "    {key:<27} {value:<34} {origin}")?;
            }
        }
        write!(
            f,
            "log                     {} ({:?})",
            self.log, self.log_format
        )
    }
}

/// Each rule setting's effective value as an operator would write it;
/// secrets only as set or unset.
pub(super) fn rule_values(rules: &Rules) -> Vec<(&'static str, String)> {
    let set = |present: bool| if present { "set" } else { "unset" }.to_owned();
    let whatsapp = &rules.whatsapp;
    let alerts = &rules.alerts;
    let upgrades = &rules.upgrades;
    let or_unset = |value: Option<String>| value.unwrap_or_else(|| "unset".to_owned());
    vec![
        ("whatsapp_mode", whatsapp.mode.as_str().to_owned()),
        ("whatsapp_api_base", whatsapp.api_base.to_string()),
        (
            "whatsapp_phone_number_id",
            or_unset(whatsapp.phone_number_id.clone()),
        ),
        (
            "whatsapp_business_account_id",
            or_unset(whatsapp.business_account_id.clone()),
        ),
        ("whatsapp_token", set(whatsapp.token.is_some())),
        ("whatsapp_app_secret", set(whatsapp.app_secret.is_some())),
        (
            "whatsapp_verify_token",
            set(whatsapp.verify_token.is_some()),
        ),
        (
            "whatsapp_timeout_ms",
            whatsapp.timeout.as_millis().to_string(),
        ),
        ("whatsapp_send_rate", format!("{}/s", whatsapp.send_rate)),
        ("alerts_templates", "checked (all 18 alerts)".to_owned()),
        ("alerts_brand", or_unset(alerts.brand.clone())),
        (
            "alerts_consent",
            match alerts.consent {
                Consent::Terms => "terms",
                Consent::Explicit => "explicit",
            }
            .to_owned(),
        ),
        (
            "alerts_optin_field",
            or_unset(alerts.optin_field.map(|id| id.to_string())),
        ),
        (
            "alerts_optout_field",
            or_unset(alerts.optout_field.map(|id| id.to_string())),
        ),
        ("alerts_optout_words", alerts.reply_words.opt_out.join(", ")),
        ("alerts_optin_words", alerts.reply_words.opt_in.join(", ")),
        ("upgrade_policy", rules.upgrade_policy.as_str().to_owned()),
        (
            "upgrade_targets",
            if upgrades.targets.is_empty() {
                "WHMCS's upgrade lists only".to_owned()
            } else {
                upgrades
                    .targets
                    .iter()
                    .map(|(product, targets)| {
                        let targets: Vec<String> = targets.iter().map(u64::to_string).collect();
                        format!("{product}:{}", targets.join(","))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        ),
        (
            "upgrade_tiers",
            if upgrades.tiers.is_empty() {
                "none (prices decide)".to_owned()
            } else {
                upgrades
                    .tiers
                    .iter()
                    .map(|(product, rank)| format!("{product}:{rank}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        ),
        (
            "upgrade_manual_department",
            upgrades
                .manual_department
                .map_or("off (no department)".to_owned(), |id| id.to_string()),
        ),
        (
            "replies_department",
            rules
                .replies
                .department
                .map_or("unset".to_owned(), |id| id.to_string()),
        ),
        (
            "replies_tickets",
            if rules.replies.tickets { "on" } else { "off" }.to_owned(),
        ),
        (
            "reconcile_minutes",
            rules.reconcile_every.map_or("0 (off)".to_owned(), |every| {
                (every.as_secs() / 60).to_string()
            }),
        ),
        (
            "cancellation_immediate_hour",
            rules
                .cancellations
                .immediate_hour
                .map_or("right away".to_owned(), |hour| format!("{hour:02}:00")),
        ),
        (
            "outbox_retry_delays",
            format!(
                "{} ({} tries)",
                rules.outbox_retry,
                rules.outbox_retry.tries()
            ),
        ),
        (
            "transfer_approval",
            rules.transfers.approval.as_str().to_owned(),
        ),
        (
            "transfer_expiry_days",
            rules.transfers.expiry_days.to_string(),
        ),
        ("retention_days", rules.retention_days.to_string()),
    ]
}
