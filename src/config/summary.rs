//! The `puente check-config` view of a configuration.

use std::fmt;

use super::Config;

/// A summary for `puente check-config`: every setting in effect, secrets
/// shown only as set or unset.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |present: bool| if present { "set" } else { "unset" };
        writeln!(f, "listen                  {}", self.listen)?;
        writeln!(f, "database                {}", self.database.display())?;
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
        writeln!(
            f,
            "admin API               {}",
            if self.admin_token.is_some() {
                "on (token set)"
            } else {
                "off"
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
        }
        let whatsapp = &self.whatsapp;
        writeln!(
            f,
            "WhatsApp                {}, API {}",
            whatsapp.mode.as_str(),
            whatsapp.api_base
        )?;
        writeln!(
            f,
            "  phone number id {}, token {}, app secret {}, verify token {}",
            whatsapp.phone_number_id.as_deref().unwrap_or("unset"),
            set(whatsapp.token.is_some()),
            set(whatsapp.app_secret.is_some()),
            set(whatsapp.verify_token.is_some())
        )?;
        writeln!(
            f,
            "alert templates         checked (eleven alerts + upgrades, cancellations, transfers)"
        )?;
        writeln!(f, "upgrade policy          {:?}", self.upgrade_policy)?;
        writeln!(
            f,
            "upgrade allow-list      {}",
            if self.upgrades.targets.is_empty() {
                "WHMCS's upgrade lists only".to_owned()
            } else {
                format!("{} products restricted", self.upgrades.targets.len())
            }
        )?;
        writeln!(
            f,
            "upgrade tiers           {}",
            if self.upgrades.tiers.is_empty() {
                "none (prices decide)".to_owned()
            } else {
                format!("{} products ranked", self.upgrades.tiers.len())
            }
        )?;
        writeln!(
            f,
            "manual upgrade tickets  {}",
            self.upgrades
                .manual_department
                .map_or("off (no department)".to_owned(), |id| format!(
                    "department {id}"
                ))
        )?;
        writeln!(
            f,
            "transfers               approval {}, requests expire after {} days",
            self.transfers.approval.as_str(),
            self.transfers.expiry_days
        )?;
        write!(
            f,
            "log                     {} ({:?})",
            self.log, self.log_format
        )
    }
}
