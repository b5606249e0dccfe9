//! The repository's fixtures, read one way: WHMCS's hook payloads and API
//! answers (`fixtures/whmcs/`) and the signature vectors
//! (`fixtures/signatures.json`). The benchmarks include this file too.

#![allow(dead_code)]

use serde_json::Value;

/// `fixtures/<path>` as JSON.
pub fn json_fixture(path: &str) -> Value {
    let path = format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// A WHMCS fixture (`fixtures/whmcs/<name>.json`): a hook's file, or an API
/// answer (`api-<Action>`).
pub fn fixture(name: &str) -> Value {
    json_fixture(&format!("whmcs/{name}.json"))
}

/// The `$vars` a hook fixture's hook is called with.
pub fn fixture_vars(hook: &str) -> Value {
    fixture(hook)["vars"].clone()
}

/// The hook fixtures (every `fixtures/whmcs/*.json` but the API answers),
/// by name, sorted.
pub fn hook_fixture_names() -> Vec<String> {
    let folder = format!("{}/fixtures/whmcs", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("fixtures/whmcs")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let hook = name.strip_suffix(".json")?;
            (!hook.starts_with("api-")).then(|| hook.to_owned())
        })
        .collect();
    names.sort();
    names
}

/// One list of `fixtures/signatures.json` (`standard_webhooks_v1`,
/// `x_hub_signature_256`).
pub fn signature_vectors(kind: &str) -> Vec<Value> {
    json_fixture("signatures.json")[kind]
        .as_array()
        .unwrap_or_else(|| panic!("signatures.json has no {kind}"))
        .clone()
}
