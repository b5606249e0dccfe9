//! Every WhatsApp body puente builds validates against Meta's own OpenAPI
//! schema (fixtures/meta/, MIT), with the three documented defects of that
//! schema corrected here, in the harness, not in the file
//! (messaging_signing.md §3).

use std::sync::OnceLock;

use puente::domain::alerts::AlertKind;
use puente::domain::phone::PhoneNumber;
use puente::domain::templates::TemplateCatalog;
use serde_json::{Value, json};

/// Meta's v23 schema as JSON, corrected, with `$ref` to `schema` at its root.
fn validator(schema: &str) -> jsonschema::Validator {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    let document = DOCUMENT.get_or_init(|| {
        let path = format!(
            "{}/fixtures/meta/business-messaging-api_v23.0.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).expect("Meta's schema");
        let mut document: Value = serde_yaml::from_str(&text).expect("YAML");
        correct(&mut document);
        document
    });
    let mut root = document.clone();
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    root["$ref"] = json!(format!("#/components/schemas/{schema}"));
    jsonschema::validator_for(&root).expect("the corrected schema compiles")
}

/// The defects of messaging_signing.md §3: `TextMessage` forbids the base
/// properties, `LanguageObject` requires `policy`, and `ButtonComponent`'s
/// `index` pattern rejects "0" and "1".
fn correct(document: &mut Value) {
    let schemas = &mut document["components"]["schemas"];
    if let Some(branches) = schemas["TextMessage"]["allOf"].as_array_mut() {
        for branch in branches {
            if let Some(object) = branch.as_object_mut() {
                object.remove("additionalProperties");
            }
        }
    }
    if let Some(required) = schemas["LanguageObject"]["required"].as_array_mut() {
        required.retain(|field| field != "policy");
    }
    if schemas["ButtonComponent"]["properties"]["index"].is_object() {
        schemas["ButtonComponent"]["properties"]["index"]["pattern"] = json!("^[0-9]$");
    }
}

fn example_body(kind: AlertKind, language: &str) -> Value {
    let phone = PhoneNumber::from_whmcs("600 12 34 56", "34", "ES").expect("phone");
    TemplateCatalog::defaults()
        .message_body(kind, language, &phone, |parameter| {
            Some(format!("{} de ejemplo", parameter.as_str()))
        })
        .expect("body")
}

#[test]
fn every_alert_body_in_every_language_validates_against_metas_message_schema() {
    let message = validator("Message");
    let template = validator("TemplateMessage");
    for kind in AlertKind::ALL {
        for language in ["es", "en"] {
            let body = example_body(kind, language);
            let errors: Vec<String> = message
                .iter_errors(&body)
                .map(|error| error.to_string())
                .collect();
            assert!(errors.is_empty(), "{kind:?}/{language}: {errors:?}\n{body}");
            assert!(template.is_valid(&body), "{kind:?}/{language}");
        }
    }
}

#[test]
fn the_schema_refuses_what_meta_refuses() {
    let message = validator("Message");
    let body = example_body(AlertKind::InvoiceCreated, "es");

    let mut without_recipient = body.clone();
    without_recipient
        .as_object_mut()
        .expect("object")
        .remove("to");
    let mut no_language = body.clone();
    no_language["template"]
        .as_object_mut()
        .expect("template")
        .remove("language");
    let mut unnamed_template = body;
    unnamed_template["template"]
        .as_object_mut()
        .expect("template")
        .remove("name");

    for (what, invalid) in [
        ("no to", without_recipient),
        ("no language", no_language),
        ("no template name", unnamed_template),
    ] {
        assert!(!message.is_valid(&invalid), "{what} was accepted");
    }
}
