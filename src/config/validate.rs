//! Turns raw settings into a typed [`Config`], recording every problem with
//! the variable (or TOML key) it came from.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use super::{
    AdminToken, Alerts, CONFIG_FILE_VAR, CONNECTION_SETTINGS, Config, ConfigError, Consent,
    DEFAULT_DATABASE, DatabaseUrl, Instance, LogFormat, MIN_ADMIN_TOKEN_LEN, Origin, RULE_SETTINGS,
    Rules, Sources, UpgradePolicy, Value, WhatsApp, WhatsAppMode, WhmcsApi, env_var,
};
use crate::domain::ids::InstanceName;
use crate::domain::templates::{Parameter, TemplateCatalog};
use crate::signature::HookSecret;

/// A valid configuration, or every problem found (each once: a global
/// value every instance inherits is checked for each of them).
impl Config {
    /// Validates raw sources into a typed configuration.
    pub fn from_sources(sources: &Sources) -> Result<Self, ConfigError> {
        check(sources).map_err(ConfigError)
    }
}

fn check(sources: &Sources) -> Result<Config, Vec<String>> {
    let mut checker = Checker {
        sources,
        errors: Vec::new(),
        catalogs: HashMap::new(),
    };
    let config = checker.config();
    let mut seen = HashSet::new();
    let mut errors = checker.errors;
    errors.retain(|error| seen.insert(error.clone()));
    match config {
        Ok(config) if errors.is_empty() => Ok(config),
        _ => Err(errors),
    }
}

struct Checker<'a> {
    sources: &'a Sources,
    errors: Vec<String>,
    /// Alert template files read so far, by path: each is read and checked
    /// once however many instances use it.
    catalogs: HashMap<String, Checked<Arc<TemplateCatalog>>>,
}

/// Marks a setting whose problem is already recorded.
#[derive(Clone, Copy)]
struct Invalid;

type Checked<T> = Result<T, Invalid>;

/// Which settings a check reads: the top-level ones (`None`, which are also
/// the `default` instance's), or an instance's own over them.
type Scope<'a> = Option<&'a str>;

impl Checker<'_> {
    /// Parses a raw value: `Ok(None)` when unset, `Err` once its problem
    /// (prefixed with where the value came from) is recorded.
    fn value<T>(
        &mut self,
        value: Option<&Value>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Checked<Option<T>> {
        let Some(value) = value else { return Ok(None) };
        parse(value.text.trim()).map(Some).map_err(|problem| {
            self.errors.push(format!("{}: {problem}", value.origin));
            Invalid
        })
    }

    /// A rule setting in `scope`: the instance's own value, else the
    /// global one.
    fn optional<T>(
        &mut self,
        scope: Scope<'_>,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Checked<Option<T>> {
        let sources = self.sources;
        self.value(sources.get_for(scope, key), parse)
    }

    fn with_default<T>(
        &mut self,
        scope: Scope<'_>,
        key: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Checked<T> {
        Ok(self.optional(scope, key, parse)?.unwrap_or(default))
    }

    /// How an error names a setting of `scope`.
    fn label(scope: Scope<'_>, key: &str) -> String {
        match scope {
            None => env_var(key),
            Some(instance) => format!("[instances.{instance}] {key}"),
        }
    }

    /// Whether a problem that involves `keys` is this scope's own: always
    /// at the top level; for an instance, only when it sets one of them
    /// (otherwise the top-level check reports it already).
    fn owns(&self, scope: Scope<'_>, keys: &[&str]) -> bool {
        match scope {
            None => true,
            Some(instance) => self.sources.instances()[instance]
                .keys()
                .any(|key| keys.contains(&key.as_str())),
        }
    }

    fn config(&mut self) -> Checked<Config> {
        let listen = self.with_default(
            None,
            "listen",
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            |text| {
                text.parse::<SocketAddr>()
                    .map_err(|_| format!("`{text}` is not an address:port such as 127.0.0.1:8080"))
            },
        );
        let database =
            self.with_default(None, "database", PathBuf::from(DEFAULT_DATABASE), |text| {
                non_empty(text).map(PathBuf::from)
            });
        let database_url = self.optional(None, "database_url", DatabaseUrl::parse);
        let busy_ms = self.with_default(None, "database_busy_timeout_ms", 5000, |text| {
            bounded_integer(text, 1, 600_000)
        });
        // At most the WAL size limit (64 MiB), or SQLite would cut it back.
        let wal_preallocate = self.with_default(None, "database_wal_preallocate_mib", 48, |text| {
            bounded_integer(text, 0, 64)
        });
        let hook_secrets = match self.optional(None, "hook_secrets", parse_secrets) {
            Ok(Some(secrets)) => Ok(secrets),
            Ok(None) => {
                self.errors.push(format!(
                    "{} is required: one or more `whsec_…` secrets separated by spaces \
                     (or `[hook] secrets` in the {CONFIG_FILE_VAR} file); \
                     for a local trial run `puente serve --dev`",
                    env_var("hook_secrets")
                ));
                Err(Invalid)
            }
            Err(invalid) => Err(invalid),
        };
        let admin_token = self.optional(None, "admin_token", parse_admin_token);
        let tolerance = self.with_default(None, "timestamp_tolerance_s", 300, |text| {
            bounded_integer(text, 1, 86_400)
        });
        let default_instance = self.default_instance();
        let instances = self.extra_instances();
        let log = self.with_default(None, "log", "info".to_owned(), |text| {
            tracing_subscriber::EnvFilter::try_new(text)
                .map(|_| text.to_owned())
                .map_err(|error| format!("`{text}` is not a log filter: {error}"))
        });
        let log_format =
            self.with_default(None, "log_format", LogFormat::Text, |text| match text {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                other => Err(format!("`{other}` is not one of text, json")),
            });
        let dashboard_key = self.optional(None, "dashboard_key", parse_dashboard_key);
        let dashboard_url = self.optional(None, "dashboard_url", parse_url);
        self.admin_tokens_are_distinct();

        let mut instances = instances?;
        instances.insert(InstanceName::default_instance(), default_instance?);
        Ok(Config {
            listen: listen?,
            database: database?,
            database_url: database_url?,
            database_busy_timeout: Duration::from_millis(busy_ms?),
            database_wal_preallocate_mib: wal_preallocate?,
            hook_secrets: hook_secrets?,
            admin_token: admin_token?,
            timestamp_tolerance_s: tolerance?,
            instances,
            log: log?,
            log_format: log_format?,
            dashboard_key: dashboard_key?,
            dashboard_url: dashboard_url?,
        })
    }

    /// The instance configured by the top-level settings.
    fn default_instance(&mut self) -> Checked<Instance> {
        let sources = self.sources;
        let settings = InstanceSettings {
            label: "PUENTE_WHMCS_URL, PUENTE_WHMCS_IDENTIFIER and PUENTE_WHMCS_SECRET".to_owned(),
            secrets: None,
            admin_token: None,
            whmcs_url: sources.get("whmcs_url"),
            identifier: sources.get("whmcs_identifier"),
            secret: sources.get("whmcs_secret"),
            accesskey: sources.get("whmcs_accesskey"),
            public_url: sources.get("public_url"),
            timezone: sources.get("timezone"),
        };
        self.instance(None, settings)
    }

    /// The `[instances.<name>]` tables of the TOML file.
    fn extra_instances(&mut self) -> Checked<BTreeMap<InstanceName, Instance>> {
        let sources = self.sources;
        let mut instances = BTreeMap::new();
        let mut all_valid = true;
        for (name, table) in sources.instances() {
            let label = format!("[instances.{name}]");
            let parsed = match InstanceName::parse(name) {
                Ok(parsed) if parsed == InstanceName::default_instance() => Err(format!(
                    "{label}: the default instance is configured by the top-level settings"
                )),
                Ok(parsed) => Ok(parsed),
                Err(problem) => Err(format!("{label}: {problem}")),
            };
            let parsed = match parsed {
                Ok(parsed) => parsed,
                Err(problem) => {
                    self.errors.push(problem);
                    all_valid = false;
                    continue;
                }
            };
            let declared = table
                .keys()
                .any(|key| CONNECTION_SETTINGS.contains(&key.as_str()));
            if !declared {
                let named_by = table
                    .values()
                    .map(|value| value.origin.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let known = sources
                    .instances()
                    .iter()
                    .filter(|(_, other)| {
                        other
                            .keys()
                            .any(|key| CONNECTION_SETTINGS.contains(&key.as_str()))
                    })
                    .map(|(other, _)| other.as_str())
                    .collect::<Vec<_>>();
                self.errors.push(format!(
                    "{named_by}: names the instance `{name}`, which is not declared: an instance \
                     is declared by its connection settings (its own secrets, whmcs_url, \
                     public_url or timezone); declared instances: default{}",
                    known
                        .iter()
                        .map(|other| format!(", {other}"))
                        .collect::<String>()
                ));
                all_valid = false;
                continue;
            }
            let settings = InstanceSettings {
                label: format!("{label} whmcs_url, identifier and secret"),
                secrets: Some(table.get("hook_secrets")),
                admin_token: table.get("admin_token"),
                whmcs_url: table.get("whmcs_url"),
                identifier: table.get("whmcs_identifier"),
                secret: table.get("whmcs_secret"),
                accesskey: table.get("whmcs_accesskey"),
                public_url: table.get("public_url"),
                timezone: table.get("timezone"),
            };
            match self.instance(Some(name), settings) {
                Ok(instance) => {
                    instances.insert(parsed, instance);
                }
                Err(Invalid) => all_valid = false,
            }
        }
        if all_valid {
            Ok(instances)
        } else {
            Err(Invalid)
        }
    }

    /// Each admin token opens exactly one scope: the global one, or one
    /// instance's.
    fn admin_tokens_are_distinct(&mut self) {
        let sources = self.sources;
        let tokens = sources
            .get("admin_token")
            .into_iter()
            .chain(
                sources
                    .instances()
                    .values()
                    .filter_map(|table| table.get("admin_token")),
            )
            .collect::<Vec<_>>();
        for (index, token) in tokens.iter().enumerate() {
            if let Some(earlier) = tokens[..index]
                .iter()
                .find(|earlier| earlier.text.trim() == token.text.trim())
            {
                self.errors.push(format!(
                    "{}: the same token as {}; each admin token must open one scope",
                    token.origin, earlier.origin
                ));
            }
        }
    }

    fn instance(&mut self, scope: Scope<'_>, settings: InstanceSettings<'_>) -> Checked<Instance> {
        let secrets = match settings.secrets {
            Some(value) => self
                .value(value, parse_secrets)
                .map(Option::unwrap_or_default),
            None => Ok(Vec::new()),
        };
        let admin_token = self.value(settings.admin_token, parse_admin_token);
        let url = self.value(settings.whmcs_url, parse_url);
        let identifier = self.value(settings.identifier, non_empty);
        let secret = self.value(settings.secret, secret_text);
        let accesskey = self.value(settings.accesskey, secret_text);
        let public_url = self.value(settings.public_url, parse_url);
        let timezone = self.value(settings.timezone, parse_timezone);
        let rules = self.rules(scope);

        let whmcs = match (url?, identifier?, secret?) {
            (Some(url), Some(identifier), Some(secret)) => Some(WhmcsApi {
                url,
                identifier,
                secret,
                accesskey: accesskey?,
            }),
            (None, None, None) => None,
            _ => {
                self.errors
                    .push(format!("{}: must be set together", settings.label));
                return Err(Invalid);
            }
        };
        let (timezone, timezone_name) = timezone?.unwrap_or_else(utc);
        Ok(Instance {
            secrets: secrets?,
            public_url: public_url?.or_else(|| whmcs.as_ref().map(|api| api.url.clone())),
            whmcs,
            timezone,
            timezone_name,
            admin_token: admin_token?,
            rules: rules?,
            origins: self.origins(scope),
        })
    }

    /// Where each setting in effect for `scope` came from.
    fn origins(&self, scope: Scope<'_>) -> BTreeMap<&'static str, Origin> {
        let own = |key: &str| match scope {
            None => self.sources.get(key),
            Some(instance) => self.sources.instances()[instance].get(key),
        };
        let connection = CONNECTION_SETTINGS
            .iter()
            .filter_map(|key| own(key).map(|value| (*key, value.origin.clone())));
        let rules = RULE_SETTINGS.iter().filter_map(|key| {
            self.sources
                .get_for(scope, key)
                .map(|value| (*key, value.origin.clone()))
        });
        connection.chain(rules).collect()
    }

    fn rules(&mut self, scope: Scope<'_>) -> Checked<Rules> {
        let whatsapp = self.whatsapp(scope);
        let alerts = self.alerts(scope);
        let alert_templates = self.alert_templates(scope);
        let upgrade_policy =
            self.with_default(scope, "upgrade_policy", UpgradePolicy::Seed, |text| {
                UpgradePolicy::parse(text)
                    .ok_or_else(|| format!("`{text}` is not one of {}", UpgradePolicy::NAMES))
            });
        let upgrade_targets =
            self.with_default(scope, "upgrade_targets", BTreeMap::new(), |text| {
                product_map(text, |targets| {
                    targets
                        .split(',')
                        .map(|id| positive_id(id.trim()))
                        .collect::<Result<Vec<u64>, String>>()
                })
            });
        let upgrade_tiers = self.with_default(scope, "upgrade_tiers", BTreeMap::new(), |text| {
            product_map(text, |rank| {
                rank.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("`{rank}` is not a tier rank (0, 1, 2, …)"))
            })
        });
        let manual_department = self.optional(scope, "upgrade_manual_department", |text| {
            positive_id(text).map_err(|_| format!("`{text}` is not a WHMCS support department id"))
        });
        let replies_department = self.optional(scope, "replies_department", |text| {
            positive_id(text).map_err(|_| format!("`{text}` is not a WHMCS support department id"))
        });
        let replies_tickets = self.optional(scope, "replies_tickets", |text| {
            match text.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "yes" | "1" => Ok(true),
                "off" | "false" | "no" | "0" => Ok(false),
                _ => Err(format!("`{text}` is not on or off")),
            }
        });
        let reconcile_minutes = self.with_default(scope, "reconcile_minutes", 15u16, |text| {
            text.parse::<u16>()
                .ok()
                .filter(|minutes| *minutes <= 1440)
                .ok_or_else(|| format!("`{text}` is not a number of minutes from 0 (off) to 1440"))
        });
        let transfer_approval = self.with_default(
            scope,
            "transfer_approval",
            crate::domain::transfer::Approval::None,
            |text| {
                crate::domain::transfer::Approval::parse(text)
                    .ok_or_else(|| format!("`{text}` is not one of none, staff"))
            },
        );
        let transfer_expiry_days = self.with_default(scope, "transfer_expiry_days", 7u16, |text| {
            text.parse::<u16>()
                .ok()
                .filter(|days| (1..=90).contains(days))
                .ok_or_else(|| format!("`{text}` is not a number of days from 1 to 90"))
        });
        let immediate_hour = self.optional(scope, "cancellation_immediate_hour", |text| {
            text.parse::<i8>()
                .ok()
                .filter(|hour| (0..=23).contains(hour))
                .ok_or_else(|| format!("`{text}` is not an hour from 0 to 23"))
        });
        let outbox_retry = self.with_default(
            scope,
            "outbox_retry_delays",
            crate::domain::retry::RetrySchedule::default(),
            crate::domain::retry::RetrySchedule::parse,
        );
        let retention_days = self.with_default(scope, "retention_days", 90u16, |text| {
            text.parse::<u16>()
                .ok()
                .filter(|days| (1..=3650).contains(days))
                .ok_or_else(|| format!("`{text}` is not a number of days from 1 to 3650"))
        });
        let (alerts, alert_templates) = (alerts?, alert_templates?);
        let manual_department = manual_department?;
        let department = replies_department?.or(manual_department);
        let replies = match (replies_tickets?, department) {
            (Some(true), None) => {
                self.errors.push(format!(
                    "{} is on, but no support department is set: set {} (or {})",
                    Self::label(scope, "replies_tickets"),
                    Self::label(scope, "replies_department"),
                    Self::label(scope, "upgrade_manual_department"),
                ));
                return Err(Invalid);
            }
            (tickets, department) => super::Replies {
                department,
                tickets: tickets.unwrap_or(department.is_some()),
            },
        };
        if alert_templates.uses(Parameter::Brand)
            && alerts.brand.is_none()
            && self.owns(scope, &["alerts_templates", "alerts_brand"])
        {
            self.errors.push(format!(
                "{} is required: the alert templates ({}) use the parameter `brand`",
                Self::label(scope, "alerts_brand"),
                self.sources
                    .get_for(scope, "alerts_templates")
                    .map_or("the shipped ones".to_owned(), |value| value
                        .origin
                        .to_string())
            ));
            return Err(Invalid);
        }
        Ok(Rules {
            whatsapp: whatsapp?,
            alerts,
            alert_templates,
            upgrade_policy: upgrade_policy?,
            upgrades: super::Upgrades {
                targets: upgrade_targets?,
                tiers: upgrade_tiers?,
                manual_department,
            },
            cancellations: super::Cancellations {
                immediate_hour: immediate_hour?,
            },
            outbox_retry: outbox_retry?,
            transfers: super::Transfers {
                approval: transfer_approval?,
                expiry_days: transfer_expiry_days?,
            },
            replies,
            reconcile_every: match reconcile_minutes? {
                0 => None,
                minutes => Some(std::time::Duration::from_secs(u64::from(minutes) * 60)),
            },
            retention_days: retention_days?,
        })
    }

    fn alerts(&mut self, scope: Scope<'_>) -> Checked<Alerts> {
        let consent =
            self.with_default(scope, "alerts_consent", Consent::Terms, |text| match text {
                "terms" => Ok(Consent::Terms),
                "explicit" => Ok(Consent::Explicit),
                other => Err(format!("`{other}` is not one of terms, explicit")),
            });
        let field_id = |text: &str| {
            text.parse::<u64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| format!("`{text}` is not a WHMCS custom field id"))
        };
        let optin_field = self.optional(scope, "alerts_optin_field", field_id);
        let optout_field = self.optional(scope, "alerts_optout_field", field_id);
        let brand = self.optional(scope, "alerts_brand", |text| {
            let shown = crate::domain::templates::sanitise(text);
            if shown.is_empty() || shown.chars().count() > 60 || shown != text {
                Err(format!(
                    "`{text}` is not a brand name: 1 to 60 characters on one line"
                ))
            } else {
                Ok(shown)
            }
        });
        let defaults = crate::domain::replies::ReplyWords::default();
        let optout_words = self.with_default(
            scope,
            "alerts_optout_words",
            defaults.opt_out,
            crate::domain::replies::parse_words,
        );
        let optin_words = self.with_default(
            scope,
            "alerts_optin_words",
            defaults.opt_in,
            crate::domain::replies::parse_words,
        );
        let reply_words = match (optout_words, optin_words) {
            (Ok(opt_out), Ok(opt_in)) => match opt_out.iter().find(|word| opt_in.contains(word)) {
                Some(both) => {
                    self.errors.push(format!(
                        "`{both}` is in both {} and {}",
                        Self::label(scope, "alerts_optout_words"),
                        Self::label(scope, "alerts_optin_words")
                    ));
                    Err(Invalid)
                }
                None => Ok(crate::domain::replies::ReplyWords { opt_out, opt_in }),
            },
            _ => Err(Invalid),
        };
        match (consent, optin_field, optout_field, brand) {
            (Ok(Consent::Explicit), Ok(None), _, _) => {
                if self.owns(scope, &["alerts_consent", "alerts_optin_field"]) {
                    self.errors.push(format!(
                        "{} is required when {} is `explicit`: the custom field where clients opt in",
                        Self::label(scope, "alerts_optin_field"),
                        Self::label(scope, "alerts_consent")
                    ));
                }
                Err(Invalid)
            }
            (Ok(consent), Ok(optin_field), Ok(optout_field), Ok(brand)) => Ok(Alerts {
                consent,
                optin_field,
                optout_field,
                brand,
                reply_words: reply_words?,
            }),
            _ => Err(Invalid),
        }
    }

    /// The shipped catalogue, or the file's, read once per path.
    fn alert_templates(&mut self, scope: Scope<'_>) -> Checked<Arc<TemplateCatalog>> {
        let sources = self.sources;
        let Some(value) = sources.get_for(scope, "alerts_templates") else {
            return self
                .catalogs
                .entry(String::new())
                .or_insert_with(|| Ok(Arc::new(TemplateCatalog::defaults())))
                .clone();
        };
        let path = value.text.trim().to_owned();
        if let Some(known) = self.catalogs.get(&path) {
            return known.clone();
        }
        let read = self
            .value(Some(value), |path| {
                let text = std::fs::read_to_string(path)
                    .map_err(|error| format!("cannot read `{path}`: {error}"))?;
                TemplateCatalog::from_toml(&text).map_err(|error| format!("`{path}`: {error}"))
            })
            .map(|catalog| Arc::new(catalog.expect("the value is set")));
        self.catalogs.insert(path, read.clone());
        read
    }

    fn whatsapp(&mut self, scope: Scope<'_>) -> Checked<WhatsApp> {
        let mode = self.with_default(scope, "whatsapp_mode", WhatsAppMode::DryRun, |text| {
            [WhatsAppMode::DryRun, WhatsAppMode::Cloud]
                .into_iter()
                .find(|mode| mode.as_str() == text)
                .ok_or_else(|| format!("`{text}` is not one of dry-run, cloud"))
        });
        let api_base = self.optional(scope, "whatsapp_api_base", parse_url);
        let phone_number_id = self.optional(scope, "whatsapp_phone_number_id", |text| {
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                Ok(text.to_owned())
            } else {
                Err(format!("`{text}` is not a numeric phone number id"))
            }
        });
        let business_account_id = self.optional(scope, "whatsapp_business_account_id", |text| {
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                Ok(text.to_owned())
            } else {
                Err(format!(
                    "`{text}` is not a numeric WhatsApp Business Account id"
                ))
            }
        });
        let token = self.optional(scope, "whatsapp_token", secret_text);
        let app_secret = self.optional(scope, "whatsapp_app_secret", secret_text);
        let verify_token = self.optional(scope, "whatsapp_verify_token", secret_text);
        // Long: a send that times out may have gone out, and is not resent.
        let timeout_ms = self.with_default(scope, "whatsapp_timeout_ms", 20_000, |text| {
            bounded_integer(text, 100, 120_000)
        });
        // Well under the 80 a second a business number is allowed.
        let send_rate = self.with_default(scope, "whatsapp_send_rate", 20, |text| {
            bounded_integer(text, 1, 80)
        });
        let (mode, phone_number_id, token) = (mode?, phone_number_id?, token?);
        if mode == WhatsAppMode::Cloud {
            let missing: Vec<String> = [
                ("whatsapp_phone_number_id", phone_number_id.is_none()),
                ("whatsapp_token", token.is_none()),
            ]
            .into_iter()
            .filter(|(_, missing)| *missing)
            .map(|(key, _)| {
                format!(
                    "{} is required when {} is `cloud`",
                    Self::label(scope, key),
                    Self::label(scope, "whatsapp_mode")
                )
            })
            .collect();
            if !missing.is_empty() {
                if self.owns(
                    scope,
                    &[
                        "whatsapp_mode",
                        "whatsapp_phone_number_id",
                        "whatsapp_token",
                    ],
                ) {
                    self.errors.extend(missing);
                }
                return Err(Invalid);
            }
        }
        Ok(WhatsApp {
            mode,
            api_base: match api_base? {
                Some(url) => url,
                None => Url::parse(DEFAULT_WHATSAPP_API_BASE).expect("constant URL is valid"),
            },
            phone_number_id,
            business_account_id: business_account_id?,
            token,
            app_secret: app_secret?,
            verify_token: verify_token?,
            timeout: std::time::Duration::from_millis(timeout_ms?),
            send_rate: u32::try_from(send_rate?).expect("at most 80"),
        })
    }
}

/// The raw settings of one instance, wherever they were written.
struct InstanceSettings<'a> {
    /// Names the WHMCS credential settings in the "set together" error.
    label: String,
    /// `None` for the default instance, whose secrets are the global ones.
    secrets: Option<Option<&'a Value>>,
    /// The instance's scoped admin token (none for the default instance).
    admin_token: Option<&'a Value>,
    whmcs_url: Option<&'a Value>,
    identifier: Option<&'a Value>,
    secret: Option<&'a Value>,
    accesskey: Option<&'a Value>,
    public_url: Option<&'a Value>,
    timezone: Option<&'a Value>,
}

const DEFAULT_WHATSAPP_API_BASE: &str = "https://graph.facebook.com/v23.0";

fn parse_admin_token(text: &str) -> Result<AdminToken, String> {
    if text.len() < MIN_ADMIN_TOKEN_LEN || text.chars().any(char::is_whitespace) {
        Err(format!(
            "must be at least {MIN_ADMIN_TOKEN_LEN} characters without spaces"
        ))
    } else {
        Ok(AdminToken(SecretString::from(text.to_owned())))
    }
}

/// At least 32 characters: the key of every dashboard session.
fn parse_dashboard_key(text: &str) -> Result<SecretString, String> {
    if text.len() < 32 || text.chars().any(char::is_whitespace) {
        Err("must be at least 32 characters without spaces (e.g. `openssl rand -hex 32`)".into())
    } else {
        Ok(SecretString::from(text.to_owned()))
    }
}

fn secret_text(text: &str) -> Result<SecretString, String> {
    non_empty(text).map(SecretString::from)
}

fn parse_secrets(text: &str) -> Result<Vec<HookSecret>, String> {
    let secrets: Vec<HookSecret> = text
        .split_whitespace()
        .enumerate()
        .map(|(index, secret)| {
            secret
                .parse()
                .map_err(|problem| format!("secret #{}: {problem}", index + 1))
        })
        .collect::<Result<_, _>>()?;
    if secrets.is_empty() {
        Err("holds no secret".to_owned())
    } else {
        Ok(secrets)
    }
}

fn parse_url(text: &str) -> Result<Url, String> {
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        _ => Err(format!("`{text}` is not an http(s) URL")),
    }
}

fn parse_timezone(text: &str) -> Result<(jiff::tz::TimeZone, String), String> {
    jiff::tz::TimeZone::get(text)
        .map(|zone| (zone, text.to_owned()))
        .map_err(|_| format!("`{text}` is not an IANA time zone such as Europe/Madrid"))
}

fn utc() -> (jiff::tz::TimeZone, String) {
    (jiff::tz::TimeZone::UTC, "UTC".to_owned())
}

fn non_empty(text: &str) -> Result<String, String> {
    if text.is_empty() {
        Err("is empty".to_owned())
    } else {
        Ok(text.to_owned())
    }
}

fn bounded_integer(text: &str, min: u64, max: u64) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a whole number from {min} to {max}"
        )),
    }
}

fn positive_id(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("`{text}` is not a WHMCS product id"))
}

/// `<product id>:<value>` entries separated by spaces, e.g. `1:2,3 4:5`.
fn product_map<T>(
    text: &str,
    value: impl Fn(&str) -> Result<T, String>,
) -> Result<BTreeMap<u64, T>, String> {
    let mut map = BTreeMap::new();
    for entry in text.split_whitespace() {
        let (product, rest) = entry.split_once(':').ok_or_else(|| {
            format!("`{entry}` is not `<product id>:<value>` (entries are separated by spaces)")
        })?;
        if map.insert(positive_id(product)?, value(rest)?).is_some() {
            return Err(format!("product {product} is listed twice"));
        }
    }
    Ok(map)
}
