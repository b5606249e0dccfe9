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
                        let entry = sources.instances.entry(instance.clone()).or_default();
                        for (key, value) in settings {
                            let dotted = format!("instances.{instance}.{key}");
                            if !instance_keys.contains(&key.as_str()) {
                                errors.push(format!(
                                    "{}: unknown instance setting (known: {})",
                                    origin(&dotted),
                                    instance_keys.join(", ")
                                ));
                                continue;
                            }
                            match scalar_text(value) {
                                Some(text) => {
                                    entry.insert(
                                        key.clone(),
                                        Value {
                                            text,
                                            origin: origin(&dotted),
                                        },
                                    );
                                }
                                None => errors.push(format!(
                                    "{}: must be a string, number, boolean or list of strings",
                                    origin(&dotted)
                                )),
                            }
                        }
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

    /// The `[instances.<name>]` tables, by name.
    pub fn instances(&self) -> &BTreeMap<String, BTreeMap<String, Value>> {
        &self.instances
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
    const INSTANCE: &[&str] = &["secrets", "whmcs_url"];

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
        assert_eq!(sources.instances()["reseller"]["secrets"].text, "whsec_c");
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
