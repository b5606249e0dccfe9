//! Turns raw settings into a typed [`Config`], recording every problem with
//! the variable (or TOML key) it came from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use super::{
    AdminToken, Alerts, CONFIG_FILE_VAR, Config, Consent, DEFAULT_DATABASE, Instance, LogFormat,
    MIN_ADMIN_TOKEN_LEN, Sources, UpgradePolicy, Value, WhatsApp, WhatsAppMode, WhmcsApi, env_var,
};
use crate::domain::ids::InstanceName;
use crate::signature::HookSecret;

/// A valid configuration, or every problem found.
pub(super) fn check(sources: &Sources) -> Result<Config, Vec<String>> {
    let mut checker = Checker {
        sources,
        errors: Vec::new(),
    };
    match checker.config() {
        Ok(config) if checker.errors.is_empty() => Ok(config),
        _ => Err(checker.errors),
    }
}

struct Checker<'a> {
    sources: &'a Sources,
    errors: Vec<String>,
}

/// Marks a setting whose problem is already recorded.
struct Invalid;

type Checked<T> = Result<T, Invalid>;

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

    fn optional<T>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Checked<Option<T>> {
        let sources = self.sources;
        self.value(sources.get(key), parse)
    }

    fn with_default<T>(
        &mut self,
        key: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Checked<T> {
        Ok(self.optional(key, parse)?.unwrap_or(default))
    }

    fn config(&mut self) -> Checked<Config> {
        let listen =
            self.with_default("listen", SocketAddr::from(([127, 0, 0, 1], 8080)), |text| {
                text.parse::<SocketAddr>()
                    .map_err(|_| format!("`{text}` is not an address:port such as 127.0.0.1:8080"))
            });
        let database = self.with_default("database", PathBuf::from(DEFAULT_DATABASE), |text| {
            non_empty(text).map(PathBuf::from)
        });
        let busy_ms = self.with_default("database_busy_timeout_ms", 5000, |text| {
            bounded_integer(text, 1, 600_000)
        });
        // At most the WAL size limit (64 MiB), or SQLite would cut it back.
        let wal_preallocate = self.with_default("database_wal_preallocate_mib", 48, |text| {
            bounded_integer(text, 0, 64)
        });
        let hook_secrets = match self.optional("hook_secrets", parse_secrets) {
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
        let admin_token = self.optional("admin_token", |text| {
            if text.len() < MIN_ADMIN_TOKEN_LEN || text.chars().any(char::is_whitespace) {
                Err(format!(
                    "must be at least {MIN_ADMIN_TOKEN_LEN} characters without spaces"
                ))
            } else {
                Ok(AdminToken(SecretString::from(text.to_owned())))
            }
        });
        let tolerance = self.with_default("timestamp_tolerance_s", 300, |text| {
            bounded_integer(text, 1, 86_400)
        });
        let default_instance = self.default_instance();
        let instances = self.extra_instances();
        let whatsapp = self.whatsapp();
        let consent = self.with_default("alerts_consent", Consent::Terms, |text| match text {
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
        let optin_field = self.optional("alerts_optin_field", field_id);
        let optout_field = self.optional("alerts_optout_field", field_id);
        let alerts = match (consent, optin_field, optout_field) {
            (Ok(Consent::Explicit), Ok(None), _) => {
                self.errors.push(format!(
                    "{} is required when {} is `explicit`: the custom field where clients opt in",
                    env_var("alerts_optin_field"),
                    env_var("alerts_consent")
                ));
                Err(Invalid)
            }
            (Ok(consent), Ok(optin_field), Ok(optout_field)) => Ok(Alerts {
                consent,
                optin_field,
                optout_field,
            }),
            _ => Err(Invalid),
        };
        let alert_templates = self.with_default(
            "alerts_templates",
            crate::domain::templates::TemplateCatalog::defaults(),
            |path| {
                let text = std::fs::read_to_string(path)
                    .map_err(|error| format!("cannot read `{path}`: {error}"))?;
                crate::domain::templates::TemplateCatalog::from_toml(&text)
                    .map_err(|error| format!("`{path}`: {error}"))
            },
        );
        let upgrade_policy = self.with_default("upgrade_policy", UpgradePolicy::Seed, |text| {
            UpgradePolicy::parse(text)
                .ok_or_else(|| format!("`{text}` is not one of {}", UpgradePolicy::NAMES))
        });
        let upgrade_targets = self.with_default("upgrade_targets", BTreeMap::new(), |text| {
            product_map(text, |targets| {
                targets
                    .split(',')
                    .map(|id| positive_id(id.trim()))
                    .collect::<Result<Vec<u64>, String>>()
            })
        });
        let upgrade_tiers = self.with_default("upgrade_tiers", BTreeMap::new(), |text| {
            product_map(text, |rank| {
                rank.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("`{rank}` is not a tier rank (0, 1, 2, …)"))
            })
        });
        let manual_department = self.optional("upgrade_manual_department", |text| {
            positive_id(text).map_err(|_| format!("`{text}` is not a WHMCS support department id"))
        });
        let transfer_approval = self.with_default(
            "transfer_approval",
            crate::domain::transfer::Approval::None,
            |text| {
                crate::domain::transfer::Approval::parse(text)
                    .ok_or_else(|| format!("`{text}` is not one of none, staff"))
            },
        );
        let transfer_expiry_days = self.with_default("transfer_expiry_days", 7u16, |text| {
            text.parse::<u16>()
                .ok()
                .filter(|days| (1..=90).contains(days))
                .ok_or_else(|| format!("`{text}` is not a number of days from 1 to 90"))
        });
        let log = self.with_default("log", "info".to_owned(), |text| {
            tracing_subscriber::EnvFilter::try_new(text)
                .map(|_| text.to_owned())
                .map_err(|error| format!("`{text}` is not a log filter: {error}"))
        });
        let log_format = self.with_default("log_format", LogFormat::Text, |text| match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("`{other}` is not one of text, json")),
        });

        let mut instances = instances?;
        instances.insert(InstanceName::default_instance(), default_instance?);
        Ok(Config {
            listen: listen?,
            database: database?,
            database_busy_timeout: Duration::from_millis(busy_ms?),
            database_wal_preallocate_mib: wal_preallocate?,
            hook_secrets: hook_secrets?,
            admin_token: admin_token?,
            timestamp_tolerance_s: tolerance?,
            instances,
            whatsapp: whatsapp?,
            alerts: alerts?,
            alert_templates: alert_templates?,
            upgrade_policy: upgrade_policy?,
            upgrades: super::Upgrades {
                targets: upgrade_targets?,
                tiers: upgrade_tiers?,
                manual_department: manual_department?,
            },
            transfers: super::Transfers {
                approval: transfer_approval?,
                expiry_days: transfer_expiry_days?,
            },
            log: log?,
            log_format: log_format?,
        })
    }

    /// The instance configured by the top-level settings.
    fn default_instance(&mut self) -> Checked<Instance> {
        let sources = self.sources;
        let settings = InstanceSettings {
            label: "PUENTE_WHMCS_URL, PUENTE_WHMCS_IDENTIFIER and PUENTE_WHMCS_SECRET".to_owned(),
            secrets: None,
            whmcs_url: sources.get("whmcs_url"),
            identifier: sources.get("whmcs_identifier"),
            secret: sources.get("whmcs_secret"),
            accesskey: sources.get("whmcs_accesskey"),
            public_url: sources.get("public_url"),
            timezone: sources.get("timezone"),
        };
        self.instance(settings)
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
            let settings = InstanceSettings {
                label: format!("{label} whmcs_url, identifier and secret"),
                secrets: Some(table.get("secrets")),
                whmcs_url: table.get("whmcs_url"),
                identifier: table.get("identifier"),
                secret: table.get("secret"),
                accesskey: table.get("accesskey"),
                public_url: table.get("public_url"),
                timezone: table.get("timezone"),
            };
            match (parsed, self.instance(settings)) {
                (Ok(name), Ok(instance)) => {
                    instances.insert(name, instance);
                }
                (Err(problem), _) => {
                    self.errors.push(problem);
                    all_valid = false;
                }
                (_, Err(Invalid)) => all_valid = false,
            }
        }
        if all_valid {
            Ok(instances)
        } else {
            Err(Invalid)
        }
    }

    fn instance(&mut self, settings: InstanceSettings<'_>) -> Checked<Instance> {
        let secrets = match settings.secrets {
            Some(value) => self
                .value(value, parse_secrets)
                .map(Option::unwrap_or_default),
            None => Ok(Vec::new()),
        };
        let url = self.value(settings.whmcs_url, parse_url);
        let identifier = self.value(settings.identifier, non_empty);
        let secret = self.value(settings.secret, secret_text);
        let accesskey = self.value(settings.accesskey, secret_text);
        let public_url = self.value(settings.public_url, parse_url);
        let timezone = self.value(settings.timezone, parse_timezone);

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
        })
    }

    fn whatsapp(&mut self) -> Checked<WhatsApp> {
        let mode = self.with_default("whatsapp_mode", WhatsAppMode::DryRun, |text| {
            [WhatsAppMode::DryRun, WhatsAppMode::Cloud]
                .into_iter()
                .find(|mode| mode.as_str() == text)
                .ok_or_else(|| format!("`{text}` is not one of dry-run, cloud"))
        });
        let api_base = self.optional("whatsapp_api_base", parse_url);
        let phone_number_id = self.optional("whatsapp_phone_number_id", |text| {
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                Ok(text.to_owned())
            } else {
                Err(format!("`{text}` is not a numeric phone number id"))
            }
        });
        let token = self.optional("whatsapp_token", secret_text);
        let app_secret = self.optional("whatsapp_app_secret", secret_text);
        let verify_token = self.optional("whatsapp_verify_token", secret_text);
        // Long: a send that times out may have gone out, and is not resent.
        let timeout_ms = self.with_default("whatsapp_timeout_ms", 20_000, |text| {
            bounded_integer(text, 100, 120_000)
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
                    "{} is required when PUENTE_WHATSAPP_MODE is `cloud`",
                    env_var(key)
                )
            })
            .collect();
            if !missing.is_empty() {
                self.errors.extend(missing);
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
            token,
            app_secret: app_secret?,
            verify_token: verify_token?,
            timeout: std::time::Duration::from_millis(timeout_ms?),
        })
    }
}

/// The raw settings of one instance, wherever they were written.
struct InstanceSettings<'a> {
    /// Names the WHMCS credential settings in the "set together" error.
    label: String,
    /// `None` for the default instance, whose secrets are the global ones.
    secrets: Option<Option<&'a Value>>,
    whmcs_url: Option<&'a Value>,
    identifier: Option<&'a Value>,
    secret: Option<&'a Value>,
    accesskey: Option<&'a Value>,
    public_url: Option<&'a Value>,
    timezone: Option<&'a Value>,
}

const DEFAULT_WHATSAPP_API_BASE: &str = "https://graph.facebook.com/v23.0";

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
