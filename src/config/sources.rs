//! Where settings come from: environment variables over an optional TOML
//! file, flattened to one namespace so both forms name the same setting
//! (`[whmcs] url` ↔ `PUENTE_WHMCS_URL`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable naming the optional TOML file.
pub const CONFIG_FILE_VAR: &str = "PUENTE_CONFIG";

/// Where one setting's value came from; shown in every error about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Env(String),
    File {
        path: PathBuf,
        key: String,
    },
    /// Filled in by `puente serve --dev` from a file it keeps.
    Dev(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(var) => f.write_str(var),
            Self::File { path, key } => write!(f, "`{key}` in {}", path.display()),
            Self::Dev(path) => write!(f, "the dev secret in {}", path.display()),
        }
    }
}

/// One raw setting.
#[derive(Debug, Clone)]
pub struct Value {
    pub text: String,
    pub origin: Origin,
}

/// Raw settings by flat key (`whmcs_url`), plus `[instances.<name>]` tables.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    values: BTreeMap<String, Value>,
    instances: BTreeMap<String, BTreeMap<String, Value>>,
}

/// The environment variable that sets a flat key.
pub fn env_var(key: &str) -> String {
    format!("PUENTE_{}", key.to_ascii_uppercase())
}

impl Sources {
    /// Reads the TOML file named by `PUENTE_CONFIG` (if any), then the
    /// `PUENTE_*` variables for every key in `known`, which win.
    pub fn load(
        env: impl Fn(&str) -> Option<String>,
        known: &[&str],
        instance_keys: &[&str],
    ) -> Result<Self, Vec<String>> {
        let mut sources = match env(CONFIG_FILE_VAR).filter(|p| !p.is_empty()) {
            Some(path) => Self::from_file(Path::new(&path), known, instance_keys)?,
            None => Self::default(),
        };
        for key in known {
            let var = env_var(key);
            if let Some(text) = env(&var) {
                sources.values.insert(
                    (*key).to_owned(),
                    Value {
                        text,
                        origin: Origin::Env(var),
                    },
                );
            }
        }
        Ok(sources)
    }

    fn from_file(path: &Path, known: &[&str], instance_keys: &[&str]) -> Result<Self, Vec<String>> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            vec![format!(
                "{CONFIG_FILE_VAR}: cannot read {}: {error}",
                path.display()
            )]
        })?;
        Self::from_toml(path, &text, known, instance_keys)
    }

    /// Flattens a TOML document; `path` only labels errors and origins.
    pub fn from_toml(
        path: &Path,
        text: &str,
        known: &[&str],
        instance_keys: &[&str],
    ) -> Result<Self, Vec<String>> {
        let table: toml::Table = text.parse().map_err(|error| {
            vec![format!(
                "{CONFIG_FILE_VAR}: {} is not valid TOML: {error}",
                path.display()
            )]
        })?;
        let mut sources = Self::default();
        let mut errors = Vec::new();
        let origin = |key: &str| Origin::File {
            path: path.to_owned(),
            key: key.to_owned(),
        };
        for (name, value) in &table {
            match value {
                toml::Value::Table(instances) if name == "instances" => {
                    for (instance, settings) in instances {
                        let Some(settings) = settings.as_table() else {
                            errors.push(format!(
                                "{}: must be a table",
                                origin(&format!("instances.{instance}"))
                            ));
                            continue;
                        };
                        let mut entry = BTreeMap::new();
                        for (key, value) in settings {
                            let dotted = format!("instances.{instance}.{key}");
                            match value {
                                toml::Value::Table(section) => {
                                    for (inner, value) in section {
                                        insert_instance_value(
                                            &mut entry,
                                            &format!("{key}_{inner}"),
                                            value,
                                            origin(&format!("{dotted}.{inner}")),
                                            instance_keys,
                                            &mut errors,
                                        );
                                    }
                                }
                                value => insert_instance_value(
                                    &mut entry,
                                    key,
                                    value,
                                    origin(&dotted),
                                    instance_keys,
                                    &mut errors,
                                ),
                            }
                        }
                        sources.instances.insert(instance.clone(), entry);
                    }
                }
                toml::Value::Table(section) => {
                    for (key, value) in section {
                        let dotted = format!("{name}.{key}");
                        let flat = format!("{name}_{key}");
                        sources.insert_file_value(
                            &flat,
                            value,
                            origin(&dotted),
                            known,
                            &mut errors,
                        );
                    }
                }
                value => {
                    sources.insert_file_value(name, value, origin(name), known, &mut errors);
                }
            }
        }
        if errors.is_empty() {
            Ok(sources)
        } else {
            Err(errors)
        }
    }

    fn insert_file_value(
        &mut self,
        flat: &str,
        value: &toml::Value,
        origin: Origin,
        known: &[&str],
        errors: &mut Vec<String>,
    ) {
        if !known.contains(&flat) {
            errors.push(format!("{origin}: unknown setting"));
            return;
        }
        if let Some(previous) = self.values.get(flat) {
            errors.push(format!("{origin}: already set by {}", previous.origin));
            return;
        }
        match scalar_text(value) {
            Some(text) => {
                self.values.insert(flat.to_owned(), Value { text, origin });
            }
            None => errors.push(format!(
                "{origin}: must be a string, number, boolean or list of strings"
            )),
        }
    }

    /// The value of a flat key, if set anywhere.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// Sets a key that is not set yet (used by `--dev`).
    pub fn set_if_absent(&mut self, key: &str, text: String, origin: Origin) {
        self.values
            .entry(key.to_owned())
            .or_insert(Value { text, origin });
    }

    /// The value of a flat key for `instance`: its own, else the global one.
    pub fn get_for(&self, instance: Option<&str>, key: &str) -> Option<&Value> {
        instance
            .and_then(|name| self.instances.get(name))
            .and_then(|table| table.get(key))
            .or_else(|| self.get(key))
    }

    /// The `[instances.<name>]` tables (flat keys), by name.
    pub fn instances(&self) -> &BTreeMap<String, BTreeMap<String, Value>> {
        &self.instances
    }
}

/// The short names an instance table has always accepted, and the flat
/// keys they stand for.
const INSTANCE_ALIASES: &[(&str, &str)] = &[
    ("secrets", "hook_secrets"),
    ("identifier", "whmcs_identifier"),
    ("secret", "whmcs_secret"),
    ("accesskey", "whmcs_accesskey"),
];

fn insert_instance_value(
    entry: &mut BTreeMap<String, Value>,
    key: &str,
    value: &toml::Value,
    origin: Origin,
    instance_keys: &[&str],
    errors: &mut Vec<String>,
) {
    let flat = INSTANCE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map_or(key, |(_, flat)| flat);
    if !instance_keys.contains(&flat) {
        errors.push(format!(
            "{origin}: not a setting an instance can have (an instance takes the top-level \
             keys except the service-wide ones: listen, database, timestamp tolerance, log)"
        ));
        return;
    }
    if let Some(previous) = entry.get(flat) {
        errors.push(format!("{origin}: already set by {}", previous.origin));
        return;
    }
    match scalar_text(value) {
        Some(text) => {
            entry.insert(flat.to_owned(), Value { text, origin });
        }
        None => errors.push(format!(
            "{origin}: must be a string, number, boolean or list of strings"
        )),
    }
}

fn scalar_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(number) => Some(number.to_string()),
        toml::Value::Boolean(flag) => Some(flag.to_string()),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(|items| items.join(" ")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["listen", "hook_secrets", "whmcs_url"];
    const KNOWN_ALL: &[&str] = &[
        "listen",
        "hook_secrets",
        "whmcs_url",
        "whatsapp_phone_number_id",
    ];
    const INSTANCE: &[&str] = &["hook_secrets", "whmcs_url", "whatsapp_phone_number_id"];

    #[test]
    fn sections_and_top_level_keys_flatten_to_the_env_names() {
        let text = r#"
            listen = "127.0.0.1:9000"
            [hook]
            secrets = ["whsec_a", "whsec_b"]
            [whmcs]
            url = "https://billing.example"
            [instances.reseller]
            secrets = "whsec_c"
        "#;
        let sources =
            Sources::from_toml(Path::new("p.toml"), text, KNOWN, INSTANCE).expect("valid");
        assert_eq!(
            sources.get("listen").map(|v| v.text.as_str()),
            Some("127.0.0.1:9000")
        );
        assert_eq!(
            sources.get("hook_secrets").map(|v| v.text.as_str()),
            Some("whsec_a whsec_b")
        );
        assert_eq!(
            sources.get("whmcs_url").map(|v| v.origin.to_string()),
            Some("`whmcs.url` in p.toml".to_owned())
        );
        assert_eq!(
            sources.instances()["reseller"]["hook_secrets"].text,
            "whsec_c"
        );
        assert_eq!(env_var("whmcs_url"), "PUENTE_WHMCS_URL");
    }

    #[test]
    fn unknown_and_doubly_set_keys_are_all_reported() {
        let text = r#"
            whmcs_url = "https://a.example"
            lisen = "x"
            [whmcs]
            url = "https://b.example"
            [instances.r]
            colour = "blue"
        "#;
        let errors = Sources::from_toml(Path::new("p.toml"), text, KNOWN, INSTANCE).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("`lisen` in p.toml: unknown setting"))
        );
        assert!(errors.iter().any(|e| e.contains("already set by `whmcs")));
        assert!(errors.iter().any(|e| e.contains("instances.r.colour")));
    }

    #[test]
    fn an_instance_table_takes_both_forms_and_the_short_names() {
        let text = r#"
            whatsapp_phone_number_id = "100"
            [instances.a]
            whatsapp_phone_number_id = "200"
            secrets = "whsec_a"
            [instances.b.whatsapp]
            phone_number_id = "300"
            [instances.b.hook]
            secrets = "whsec_b"
            [instances.c]
            whmcs_url = "https://c.example"
        "#;
        let sources =
            Sources::from_toml(Path::new("p.toml"), text, KNOWN_ALL, INSTANCE).expect("valid");
        let phone = |instance| {
            sources
                .get_for(instance, "whatsapp_phone_number_id")
                .map(|value| (value.text.clone(), value.origin.to_string()))
        };
        assert_eq!(
            phone(Some("a")),
            Some((
                "200".into(),
                "`instances.a.whatsapp_phone_number_id` in p.toml".into()
            ))
        );
        assert_eq!(
            phone(Some("b")),
            Some((
                "300".into(),
                "`instances.b.whatsapp.phone_number_id` in p.toml".into()
            ))
        );
        assert_eq!(
            phone(Some("c")),
            Some(("100".into(), "`whatsapp_phone_number_id` in p.toml".into()))
        );
        assert_eq!(sources.instances()["a"]["hook_secrets"].text, "whsec_a");
        assert_eq!(sources.instances()["b"]["hook_secrets"].text, "whsec_b");
    }

    #[test]
    fn an_instance_may_not_set_service_wide_or_doubled_settings() {
        let text = r#"
            [instances.a]
            listen = "0.0.0.0:1"
            whatsapp_phone_number_id = "200"
            [instances.a.whatsapp]
            phone_number_id = "201"
        "#;
        let errors =
            Sources::from_toml(Path::new("p.toml"), text, KNOWN_ALL, INSTANCE).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("`instances.a.listen` in p.toml: not a setting an instance"));
        assert!(
            errors[1].contains("already set by `instances.a.whatsapp"),
            "{errors:?}"
        );
    }

    #[test]
    fn environment_variables_win_over_the_file() {
        let dir = std::env::temp_dir().join(format!("puente-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("puente.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\n").expect("write");
        let file_text = file.to_string_lossy().into_owned();
        let env = |var: &str| match var {
            CONFIG_FILE_VAR => Some(file_text.clone()),
            "PUENTE_LISTEN" => Some("0.0.0.0:80".to_owned()),
            _ => None,
        };
        let sources = Sources::load(env, KNOWN, INSTANCE).expect("loads");
        let listen = sources.get("listen").expect("set");
        assert_eq!(listen.text, "0.0.0.0:80");
        assert_eq!(listen.origin, Origin::Env("PUENTE_LISTEN".to_owned()));
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
