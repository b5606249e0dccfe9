//! Typed configuration, validated once at start-up.
//!
//! Every problem is reported at once, each naming the variable (or TOML key)
//! it comes from. Secret values never appear in messages or `Debug` output.

mod sources;
mod summary;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use sources::{CONFIG_FILE_VAR, Origin, Sources, Value, env_var};

use crate::domain::ids::InstanceName;
pub use crate::domain::upgrade::UpgradePolicy;
pub use crate::domain::upgrade_check::Upgrades;
use crate::signature::HookSecret;

/// Service-wide settings: one value for the whole service.
pub const SERVICE_SETTINGS: &[&str] = &[
    "listen",
    "database",
    "database_url",
    "database_busy_timeout_ms",
    "database_wal_preallocate_mib",
    "timestamp_tolerance_s",
    "log",
    "log_format",
    "dashboard_key",
    "dashboard_url",
];

/// What identifies and reaches one WHMCS install. At the top level they
/// configure the `default` instance; `hook_secrets` and `admin_token` there
/// are also the global ones.
pub const CONNECTION_SETTINGS: &[&str] = &[
    "hook_secrets",
    "admin_token",
    "whmcs_url",
    "whmcs_identifier",
    "whmcs_secret",
    "whmcs_accesskey",
    "public_url",
    "timezone",
];

/// Rule and channel settings: set at the top level, overridable per
/// instance. Every rule and worker reads them through
/// [`Config::for_instance`].
pub const RULE_SETTINGS: &[&str] = &[
    "whatsapp_mode",
    "whatsapp_api_base",
    "whatsapp_phone_number_id",
    "whatsapp_business_account_id",
    "whatsapp_token",
    "whatsapp_app_secret",
    "whatsapp_verify_token",
    "whatsapp_timeout_ms",
    "whatsapp_send_rate",
    "alerts_templates",
    "alerts_brand",
    "alerts_consent",
    "alerts_optin_field",
    "alerts_optout_field",
    "alerts_optout_words",
    "alerts_optin_words",
    "upgrade_policy",
    "upgrade_targets",
    "upgrade_tiers",
    "upgrade_manual_department",
    "replies_department",
    "replies_tickets",
    "reconcile_minutes",
    "cancellation_immediate_hour",
    "outbox_retry_delays",
    "transfer_approval",
    "transfer_expiry_days",
    "retention_days",
];

/// Every flat setting key; the environment variable is `PUENTE_` + the key
/// in upper case, the TOML key is the same split at its first `_` or not.
pub const SETTINGS: &[&str] = &joined::<
    { SERVICE_SETTINGS.len() + CONNECTION_SETTINGS.len() + RULE_SETTINGS.len() },
>([SERVICE_SETTINGS, CONNECTION_SETTINGS, RULE_SETTINGS]);

/// Flat keys an `[instances.<name>]` table may set: its connection and any
/// rule setting.
pub const INSTANCE_SETTINGS: &[&str] =
    &joined::<{ CONNECTION_SETTINGS.len() + RULE_SETTINGS.len() }>([
        CONNECTION_SETTINGS,
        RULE_SETTINGS,
        &[],
    ]);

/// The lists one after the other, at compile time.
const fn joined<const N: usize>(lists: [&[&'static str]; 3]) -> [&'static str; N] {
    let mut all = [""; N];
    let mut at = 0;
    let mut list = 0;
    while list < lists.len() {
        let mut item = 0;
        while item < lists[list].len() {
            all[at] = lists[list][item];
            at += 1;
            item += 1;
        }
        list += 1;
    }
    assert!(at == N, "the lengths add up");
    all
}

/// Settings whose values are never shown.
pub const SECRET_SETTINGS: &[&str] = &[
    "database_url",
    "dashboard_key",
    "hook_secrets",
    "admin_token",
    "whmcs_secret",
    "whmcs_accesskey",
    "whatsapp_token",
    "whatsapp_app_secret",
    "whatsapp_verify_token",
];

const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// A PostgreSQL connection URL: shown without its user and password.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: SecretString,
    /// Hosts and database name, for the summary and the logs.
    shown: String,
}

impl DatabaseUrl {
    /// Checks that `text` is a `postgres://` URL PostgreSQL's client reads.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err("must be a postgres:// URL (leave it unset for SQLite)".into());
        }
        let parsed: tokio_postgres::Config = text
            .parse()
            .map_err(|error| format!("is not a PostgreSQL URL: {error}"))?;
        let hosts = parsed
            .get_hosts()
            .iter()
            .map(|host| match host {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect::<Vec<_>>()
            .join(",");
        let shown = format!(
            "PostgreSQL {hosts} / {}",
            parsed.get_dbname().unwrap_or("(the user's database)")
        );
        Ok(Self {
            url: SecretString::from(text.to_owned()),
            shown,
        })
    }

    /// The URL itself, to connect with.
    pub fn expose(&self) -> &str {
        self.url.expose_secret()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.shown)
    }
}

/// Everything the service needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database: PathBuf,
    /// `PUENTE_DATABASE_URL`: run on this PostgreSQL database instead of
    /// the SQLite file (it may hold a password).
    pub database_url: Option<DatabaseUrl>,
    pub database_busy_timeout: Duration,
    /// MiB of zeros written to the WAL file at start (0: none).
    pub database_wal_preallocate_mib: u64,
    /// Secrets that verify requests without a `puente-instance` header, and
    /// those of instances that have none of their own.
    pub hook_secrets: Vec<HookSecret>,
    /// The global admin token: every instance's records.
    pub admin_token: Option<AdminToken>,
    pub timestamp_tolerance_s: u64,
    /// Every WHMCS installation, `default` included.
    pub instances: BTreeMap<InstanceName, Instance>,
    pub log: String,
    pub log_format: LogFormat,
    /// The key of dashboard sessions; without it, a random key kept in the
    /// data folder ([`crate::dashboard::session::KEY_FILE`]).
    pub dashboard_key: Option<SecretString>,
    /// Where browsers reach the dashboard; `https://…` makes its session
    /// cookie `Secure` whatever a proxy says.
    pub dashboard_url: Option<Url>,
}

/// One WHMCS installation served by this service.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Its own hook secrets; empty means the global ones apply.
    pub secrets: Vec<HookSecret>,
    pub whmcs: Option<WhmcsApi>,
    /// Client-facing base URL for links in messages.
    pub public_url: Option<Url>,
    pub timezone: jiff::tz::TimeZone,
    pub timezone_name: String,
    /// The admin token of this install's staff: its records only.
    pub admin_token: Option<AdminToken>,
    /// Its rules and channels: its own settings over the global ones.
    pub rules: Rules,
    /// Where each setting in effect for this instance came from (flat key
    /// to origin); a key that is absent has its built-in default.
    pub origins: BTreeMap<&'static str, Origin>,
}

/// The rule and channel settings in effect for one instance.
#[derive(Debug, Clone)]
pub struct Rules {
    pub whatsapp: WhatsApp,
    pub alerts: Alerts,
    /// The alert templates: the shipped ones, or a file's, checked at start.
    pub alert_templates: std::sync::Arc<crate::domain::templates::TemplateCatalog>,
    pub upgrade_policy: UpgradePolicy,
    pub upgrades: Upgrades,
    pub cancellations: Cancellations,
    /// When an alert that could not be sent is tried again.
    pub outbox_retry: crate::domain::retry::RetrySchedule,
    pub transfers: Transfers,
    pub replies: Replies,
    /// How often invoices paid or cancelled without their hook are looked
    /// for through WHMCS's API; `None`: never.
    pub reconcile_every: Option<std::time::Duration>,
    /// Days events, messages and their attempts are kept (rows an open rule
    /// still needs are kept longer).
    pub retention_days: u16,
}

/// What becomes of the WhatsApp messages clients send that are neither an
/// opt-out nor an opt-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replies {
    /// The WHMCS support department a reply is opened in as a ticket:
    /// `replies_department`, else `upgrade_manual_department`.
    pub department: Option<u64>,
    /// Replies become tickets (`replies_tickets`; on by default when there
    /// is a department).
    pub tickets: bool,
}

impl Replies {
    /// The department replies are opened in, when they become tickets.
    pub fn ticket_department(&self) -> Option<u64> {
        self.department.filter(|_| self.tickets)
    }
}

/// Who may get WhatsApp alerts (SPEC §2.5 consent).
#[derive(Debug, Clone)]
pub struct Alerts {
    pub consent: Consent,
    /// Client custom field whose yes-like value is the client's opt-in.
    pub optin_field: Option<u64>,
    /// Client custom field listing alert kinds (or `all`) the client
    /// does not want.
    pub optout_field: Option<u64>,
    /// The host's (or reseller's) name, for templates that use `brand`.
    pub brand: Option<String>,
    /// What clients write to stop alerts or have them again.
    pub reply_words: crate::domain::replies::ReplyWords,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// The host's terms give consent; clients may opt out.
    Terms,
    /// Only clients who opted in.
    Explicit,
}

/// Credentials for WHMCS's `includes/api.php`.
#[derive(Debug, Clone)]
pub struct WhmcsApi {
    pub url: Url,
    pub identifier: String,
    pub secret: SecretString,
    pub accesskey: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct WhatsApp {
    pub mode: WhatsAppMode,
    pub api_base: Url,
    pub phone_number_id: Option<String>,
    /// The WhatsApp Business Account whose templates are checked before
    /// any is sent (`GET /{id}/message_templates`); unset: not checked.
    pub business_account_id: Option<String>,
    pub token: Option<SecretString>,
    pub app_secret: Option<SecretString>,
    pub verify_token: Option<SecretString>,
    /// Longest wait for the Cloud API's answer to a send.
    pub timeout: std::time::Duration,
    /// Cloud API sends per second from this phone number.
    pub send_rate: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhatsAppMode {
    /// Record the exact request body, send nothing.
    DryRun,
    Cloud,
}

impl WhatsAppMode {
    /// The setting's text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DryRun => "dry-run",
            Self::Cloud => "cloud",
        }
    }
}

/// Cancelling services (SPEC §2.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cancellations {
    /// The local hour (0-23) from which an Immediate cancellation is
    /// carried out on its day; `None`: as soon as it is asked for.
    pub immediate_hour: Option<i8>,
}

/// Moving services between clients (SPEC §2.4).
#[derive(Debug, Clone, Copy)]
pub struct Transfers {
    /// Whether staff approve each transfer before the move.
    pub approval: crate::domain::transfer::Approval,
    /// Days a request waits for the recipient's answer.
    pub expiry_days: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The bearer token of the admin API, compared in constant time.
#[derive(Clone)]
pub struct AdminToken(SecretString);

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(redacted)")
    }
}

impl AdminToken {
    /// Whether `presented` is the token. Both sides are hashed first so the
    /// comparison takes the same time whatever their lengths.
    pub fn matches(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.0.expose_secret().as_bytes());
        let given = Sha256::digest(presented.as_bytes());
        expected.ct_eq(&given).into()
    }
}

/// All problems found in the configuration, one per line.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  {}", .0.join("\n  "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// The installation's `timezone` (UTC for an instance not configured).
    pub fn timezone_of(&self, instance: &InstanceName) -> jiff::tz::TimeZone {
        self.instances
            .get(instance)
            .map_or(jiff::tz::TimeZone::UTC, |settings| {
                settings.timezone.clone()
            })
    }

    /// The rules and channels of `instance`: its own settings over the
    /// global ones; an instance configured nowhere gets the global ones
    /// (those of `default`).
    pub fn for_instance(&self, instance: &InstanceName) -> &Rules {
        match self.instances.get(instance) {
            Some(settings) => &settings.rules,
            None => &self.default_instance().rules,
        }
    }

    /// The instances whose alerts go out from the WhatsApp number
    /// `phone_number_id`, with its settings there.
    pub fn senders_of<'a>(
        &'a self,
        phone_number_id: &'a str,
    ) -> impl Iterator<Item = (&'a InstanceName, &'a WhatsApp)> + 'a {
        self.instances
            .iter()
            .map(|(name, instance)| (name, &instance.rules.whatsapp))
            .filter(move |(_, whatsapp)| {
                whatsapp.phone_number_id.as_deref() == Some(phone_number_id)
            })
    }

    /// Every configured Meta app secret, each once.
    pub fn meta_app_secrets(&self) -> Vec<&SecretString> {
        distinct(
            self.instances
                .values()
                .filter_map(|instance| instance.rules.whatsapp.app_secret.as_ref()),
        )
    }

    /// Every configured Meta webhook verify token, each once.
    pub fn meta_verify_tokens(&self) -> Vec<&SecretString> {
        distinct(
            self.instances
                .values()
                .filter_map(|instance| instance.rules.whatsapp.verify_token.as_ref()),
        )
    }

    /// The instance the top-level settings configure; always present.
    pub fn default_instance(&self) -> &Instance {
        self.instances
            .get(&InstanceName::default_instance())
            .expect("the default instance is always configured")
    }

    /// The client-facing WHMCS URL of an instance, ending with `/` (the
    /// WHMCS URL when no public URL is set; empty without either), for links
    /// in messages and answers.
    pub fn public_url_of(&self, instance: &InstanceName) -> String {
        self.instances
            .get(instance)
            .and_then(|settings| settings.public_url.as_ref())
            .map(|url| {
                let text = url.as_str();
                if text.ends_with('/') {
                    text.to_owned()
                } else {
                    format!("{text}/")
                }
            })
            .unwrap_or_default()
    }

    /// Loads from the process environment (and `PUENTE_CONFIG`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_sources(&Self::sources(|var| std::env::var(var).ok())?)
    }

    /// Raw sources from an environment lookup, before `--dev` fills gaps.
    pub fn sources(env: impl Fn(&str) -> Option<String>) -> Result<Sources, ConfigError> {
        Sources::load(env, SETTINGS, INSTANCE_SETTINGS).map_err(ConfigError)
    }

    /// The secrets that verify a request for `instance` (named by the
    /// `puente-instance` header, or `None` without it).
    pub fn secrets_for(&self, instance: Option<&InstanceName>) -> &[HookSecret] {
        match instance.and_then(|name| self.instances.get(name)) {
            Some(instance) if !instance.secrets.is_empty() => &instance.secrets,
            _ => &self.hook_secrets,
        }
    }

    /// Where dev files and the database live: the database's folder.
    pub fn data_dir(&self) -> PathBuf {
        data_dir_of(&self.database)
    }
}

fn distinct<'a>(secrets: impl Iterator<Item = &'a SecretString>) -> Vec<&'a SecretString> {
    let mut found: Vec<&SecretString> = Vec::new();
    for secret in secrets {
        if !found
            .iter()
            .any(|known| known.expose_secret() == secret.expose_secret())
        {
            found.push(secret);
        }
    }
    found
}

/// The folder of a database path (`.` for a bare file name).
pub fn data_dir_of(database: &std::path::Path) -> PathBuf {
    match database.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Default database path when `PUENTE_DATABASE` is unset.
pub const DEFAULT_DATABASE: &str = "./data/puente.db";

#[cfg(test)]
mod tests;
