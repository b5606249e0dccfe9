//! WhatsApp alert templates as configuration (`templates/alerts.toml`): for
//! each alert, the approved Meta template, the parameters that fill its
//! `{{1}}…{{n}}`, and its text per language. Builds the Cloud API body of a
//! template message and the definitions an administrator submits to Meta.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::alerts::AlertKind;
use super::cancel::CancelType;
use super::phone::PhoneNumber;
use super::texts::Language;

/// The catalogue shipped with puente.
pub const DEFAULT_TOML: &str = include_str!("../../templates/alerts.toml");

/// Longest parameter text sent; a template body has 1024 characters in all.
const MAX_PARAMETER_CHARS: usize = 200;

/// What a template parameter is filled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameter {
    ClientName,
    InvoiceNumber,
    InvoiceTotal,
    InvoiceLink,
    ServiceName,
    ServiceDomain,
    QuoteNumber,
    QuoteTotal,
    QuoteLink,
    DomainName,
    NextDueDate,
    PanelLink,
    CancellationType,
    EffectiveDate,
    TransferLink,
    /// The install's brand or company name (`alerts.brand`).
    Brand,
}

impl Parameter {
    /// The parameter of a name as the templates file writes it.
    pub fn parse(name: &str) -> Option<Self> {
        serde_json::from_value(Value::String(name.to_owned())).ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientName => "client_name",
            Self::InvoiceNumber => "invoice_number",
            Self::InvoiceTotal => "invoice_total",
            Self::InvoiceLink => "invoice_link",
            Self::ServiceName => "service_name",
            Self::ServiceDomain => "service_domain",
            Self::QuoteNumber => "quote_number",
            Self::QuoteTotal => "quote_total",
            Self::QuoteLink => "quote_link",
            Self::DomainName => "domain_name",
            Self::NextDueDate => "next_due_date",
            Self::PanelLink => "panel_link",
            Self::CancellationType => "cancellation_type",
            Self::EffectiveDate => "effective_date",
            Self::TransferLink => "transfer_link",
            Self::Brand => "brand",
        }
    }

    /// A sample value in `language`, which Meta requires with a template
    /// for review.
    fn example(self, language: &str) -> &'static str {
        match self {
            Self::ClientName => "Amina",
            Self::InvoiceNumber => "2025-0317",
            Self::InvoiceTotal => "24.95 USD",
            Self::InvoiceLink => "https://panel.example/viewinvoice.php?id=30517",
            Self::ServiceName => "Business Hosting",
            Self::ServiceDomain => "okafordesign.example",
            Self::QuoteNumber => "88",
            Self::QuoteTotal => "150.00 USD",
            Self::QuoteLink => "https://panel.example/viewquote.php?id=88",
            Self::DomainName => "okafor-studio.example",
            Self::NextDueDate => "2026-07-02",
            Self::PanelLink => "https://panel.example/clientarea.php",
            Self::CancellationType => {
                CancelType::EndOfBillingPeriod.label(Language::named(language))
            }
            Self::EffectiveDate => "2027-01-01",
            Self::TransferLink => "https://panel.example/index.php?m=puente&action=transfers",
            Self::Brand => "Okafor Hosting",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the templates file is not valid: {0}")]
    Toml(String),
    #[error("the templates file has no [alerts.{0}]")]
    MissingAlert(&'static str),
    #[error("[alerts.{0}] is not an alert puente sends")]
    UnknownAlert(String),
    #[error("[alerts.{alert}] template `{name}` must be 1-512 of a-z, 0-9 and _")]
    BadName { alert: String, name: String },
    #[error(
        "[alerts.{alert}] text.{language} must use {{{{1}}}} to {{{{{expected}}}}} once each, as many as its parameters"
    )]
    Placeholders {
        alert: String,
        language: String,
        expected: usize,
    },
    #[error("[alerts.{alert}] has no text in the default language `{language}`")]
    NoDefaultText { alert: String, language: String },
    #[error("no value for the parameter {parameter} of {alert}")]
    MissingValue {
        alert: &'static str,
        parameter: &'static str,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    languages: BTreeMap<String, String>,
    alerts: BTreeMap<String, AlertTemplate>,
}

/// One alert's template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTemplate {
    /// The template's name at Meta.
    pub template: String,
    pub parameters: Vec<Parameter>,
    /// Meta language code -> body text with `{{1}}…{{n}}`.
    pub text: BTreeMap<String, String>,
}

/// Every alert's template, checked as a whole.
#[derive(Debug, Clone)]
pub struct TemplateCatalog {
    /// WHMCS language name -> Meta language code.
    languages: BTreeMap<String, String>,
    default_language: String,
    alerts: BTreeMap<&'static str, AlertTemplate>,
}

impl TemplateCatalog {
    /// The shipped catalogue.
    pub fn defaults() -> Self {
        Self::from_toml(DEFAULT_TOML).expect("templates/alerts.toml is valid (tested)")
    }

    pub fn from_toml(text: &str) -> Result<Self, TemplateError> {
        let file: File =
            toml::from_str(text).map_err(|error| TemplateError::Toml(error.to_string()))?;
        let mut languages = file.languages;
        let default_language = languages
            .remove("default")
            .unwrap_or_else(|| "es".to_owned());
        let mut alerts = BTreeMap::new();
        for (name, template) in file.alerts {
            let kind = AlertKind::ALL
                .into_iter()
                .find(|kind| kind.as_str() == name)
                .ok_or_else(|| TemplateError::UnknownAlert(name.clone()))?;
            check(&name, &template, &default_language)?;
            alerts.insert(kind.as_str(), template);
        }
        if let Some(missing) = AlertKind::ALL
            .into_iter()
            .find(|kind| !alerts.contains_key(kind.as_str()))
        {
            return Err(TemplateError::MissingAlert(missing.as_str()));
        }
        Ok(Self {
            languages,
            default_language,
            alerts,
        })
    }

    /// Whether any template fills a parameter with `parameter`.
    pub fn uses(&self, parameter: Parameter) -> bool {
        self.alerts
            .values()
            .any(|template| template.parameters.contains(&parameter))
    }

    pub fn template(&self, kind: AlertKind) -> &AlertTemplate {
        &self.alerts[kind.as_str()]
    }

    /// The Meta language of an alert for a client whose WHMCS language is
    /// `whmcs_language` (empty: the install's default): the mapped language
    /// when the template has text in it, else the default language.
    pub fn language_for(&self, kind: AlertKind, whmcs_language: &str) -> &str {
        let wanted = self
            .languages
            .get(&whmcs_language.trim().to_ascii_lowercase());
        match wanted {
            Some(code) if self.template(kind).text.contains_key(code) => code,
            _ => &self.default_language,
        }
    }

    /// The Cloud API body of the template message (messaging_signing.md
    /// §1.3), parameters sanitised. `value` gives each parameter's text.
    pub fn message_body(
        &self,
        kind: AlertKind,
        language: &str,
        to: &PhoneNumber,
        value: impl Fn(Parameter) -> Option<String>,
    ) -> Result<Value, TemplateError> {
        let template = self.template(kind);
        let parameters = template
            .parameters
            .iter()
            .map(|&parameter| {
                let text = value(parameter)
                    .map(|text| sanitise(&text))
                    .filter(|text| !text.is_empty());
                text.map(|text| json!({"type": "text", "text": text}))
                    .ok_or(TemplateError::MissingValue {
                        alert: kind.as_str(),
                        parameter: parameter.as_str(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to.digits(),
            "type": "template",
            "template": {
                "name": template.template,
                "language": {"code": language, "policy": "deterministic"},
                "components": [{"type": "body", "parameters": parameters}],
            },
        }))
    }

    /// Every template in every language, as Meta's template-creation API
    /// takes them (`POST /{waba-id}/message_templates`).
    pub fn export(&self) -> Value {
        let mut definitions = Vec::new();
        for template in self.alerts.values() {
            for (language, text) in &template.text {
                let examples: Vec<&str> = template
                    .parameters
                    .iter()
                    .map(|parameter| parameter.example(language))
                    .collect();
                definitions.push(json!({
                    "name": template.template,
                    "language": language,
                    "category": "UTILITY",
                    "components": [{
                        "type": "BODY",
                        "text": text,
                        "example": {"body_text": [examples]},
                    }],
                }));
            }
        }
        Value::Array(definitions)
    }
}

fn check(
    alert: &str,
    template: &AlertTemplate,
    default_language: &str,
) -> Result<(), TemplateError> {
    let name_ok = !template.template.is_empty()
        && template.template.len() <= 512
        && template
            .template
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !name_ok {
        return Err(TemplateError::BadName {
            alert: alert.to_owned(),
            name: template.template.clone(),
        });
    }
    for (language, text) in &template.text {
        let expected = template.parameters.len();
        let each_once = (1..=expected).all(|n| text.matches(&format!("{{{{{n}}}}}")).count() == 1);
        let placeholders = text.matches("{{").count();
        if !each_once || placeholders != expected {
            return Err(TemplateError::Placeholders {
                alert: alert.to_owned(),
                language: language.clone(),
                expected,
            });
        }
    }
    if !template.text.contains_key(default_language) {
        return Err(TemplateError::NoDefaultText {
            alert: alert.to_owned(),
            language: default_language.to_owned(),
        });
    }
    Ok(())
}

/// What Meta accepts in a parameter: no newlines or tabs, no runs of more
/// than four spaces, and a bounded length (cut at a character boundary).
pub fn sanitise(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let mut out = String::with_capacity(flat.len());
    let mut spaces = 0;
    for c in flat.trim().chars() {
        spaces = if c == ' ' { spaces + 1 } else { 0 };
        if spaces <= 1 {
            out.push(c);
        }
    }
    match out.char_indices().nth(MAX_PARAMETER_CHARS) {
        Some((cut, _)) => format!("{}…", out[..cut].trim_end()),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone() -> PhoneNumber {
        PhoneNumber::from_whmcs("+234.8031234567", "", "").expect("phone")
    }

    #[test]
    fn the_shipped_catalogue_covers_every_alert_in_spanish_and_english() {
        let catalogue = TemplateCatalog::defaults();
        for kind in AlertKind::ALL {
            let template = catalogue.template(kind);
            assert!(
                template.text.contains_key("es") && template.text.contains_key("en"),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn the_clients_whmcs_language_picks_the_text_and_spanish_is_the_default() {
        let catalogue = TemplateCatalog::defaults();
        assert_eq!(catalogue.language_for(AlertKind::Welcome, "english"), "en");
        assert_eq!(catalogue.language_for(AlertKind::Welcome, "Spanish"), "es");
        assert_eq!(catalogue.language_for(AlertKind::Welcome, ""), "es");
        assert_eq!(
            catalogue.language_for(AlertKind::Welcome, "portuguese-br"),
            "es"
        );
    }

    #[test]
    fn a_message_body_is_meta_s_template_message_with_sanitised_parameters() {
        let body = TemplateCatalog::defaults()
            .message_body(AlertKind::InvoiceCreated, "en", &phone(), |parameter| {
                Some(match parameter {
                    Parameter::ClientName => "Amina\n\tOkafor      Design".to_owned(),
                    Parameter::InvoiceNumber => "2025-0317".to_owned(),
                    Parameter::InvoiceTotal => "24.95 USD".to_owned(),
                    _ => "https://panel.example/viewinvoice.php?id=30517".to_owned(),
                })
            })
            .expect("body");

        assert_eq!(
            body,
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "2348031234567",
                "type": "template",
                "template": {
                    "name": "puente_invoice_created",
                    "language": {"code": "en", "policy": "deterministic"},
                    "components": [{"type": "body", "parameters": [
                        {"type": "text", "text": "Amina Okafor Design"},
                        {"type": "text", "text": "2025-0317"},
                        {"type": "text", "text": "24.95 USD"},
                        {"type": "text", "text": "https://panel.example/viewinvoice.php?id=30517"},
                    ]}],
                },
            })
        );
    }

    #[test]
    fn a_missing_value_is_an_error_not_an_empty_parameter() {
        let error = TemplateCatalog::defaults()
            .message_body(AlertKind::DomainDeleted, "es", &phone(), |parameter| {
                (parameter == Parameter::ClientName).then(|| "Amina".to_owned())
            })
            .expect_err("missing");
        assert_eq!(
            error,
            TemplateError::MissingValue {
                alert: "domain_deleted",
                parameter: "domain_name"
            }
        );
    }

    #[test]
    fn sanitising_flattens_whitespace_and_bounds_length() {
        assert_eq!(sanitise("  a\r\nb\tc     d  "), "a b c d");
        let long = sanitise(&"ñ".repeat(500));
        assert_eq!(long.chars().count(), MAX_PARAMETER_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn the_export_has_one_definition_per_template_and_language_with_examples() {
        let export = TemplateCatalog::defaults().export();
        let definitions = export.as_array().expect("array");
        assert_eq!(definitions.len(), 36);
        let cancellation = definitions
            .iter()
            .find(|d| d["name"] == "puente_cancellation_requested" && d["language"] == "en")
            .expect("cancellation template");
        assert_eq!(
            cancellation["components"][0]["example"]["body_text"][0][3],
            "at the end of the billed period",
            "examples are in the template's language"
        );
        let invoice = definitions
            .iter()
            .find(|d| d["name"] == "puente_invoice_created" && d["language"] == "es")
            .expect("invoice template");
        assert_eq!(invoice["category"], "UTILITY");
        assert_eq!(
            invoice["components"][0]["example"]["body_text"][0]
                .as_array()
                .map(Vec::len),
            Some(4)
        );
    }

    #[test]
    fn a_broken_catalogue_is_refused_with_what_is_wrong() {
        let broken = DEFAULT_TOML.replace(
            "text.en = \"Hi {{1}}, invoice {{2}} has been cancelled.\"",
            "text.en = \"Hi {{1}}.\"",
        );
        assert!(matches!(
            TemplateCatalog::from_toml(&broken),
            Err(TemplateError::Placeholders { .. })
        ));
        let renamed = DEFAULT_TOML.replace("puente_welcome", "Puente Welcome");
        assert!(matches!(
            TemplateCatalog::from_toml(&renamed),
            Err(TemplateError::BadName { .. })
        ));
        let missing = DEFAULT_TOML.replace("[alerts.domain_deleted]", "[alerts.domain_gone]");
        assert_eq!(
            TemplateCatalog::from_toml(&missing).err(),
            Some(TemplateError::UnknownAlert("domain_gone".into()))
        );
        assert!(matches!(
            TemplateCatalog::from_toml("languages = 3"),
            Err(TemplateError::Toml(_))
        ));
    }

    #[test]
    fn a_mapped_language_without_text_for_the_alert_falls_back_to_the_default() {
        let toml = DEFAULT_TOML.replace(
            "english = \"en\"",
            "english = \"en\"\nportuguese = \"pt_BR\"",
        );
        let catalogue = TemplateCatalog::from_toml(&toml).expect("catalogue");
        assert_eq!(
            catalogue.language_for(AlertKind::Welcome, "portuguese"),
            "es"
        );
        assert_eq!(catalogue.language_for(AlertKind::Welcome, "english"), "en");
    }

    #[test]
    fn parameters_are_read_by_the_names_the_file_uses() {
        for (name, parameter) in [
            ("client_name", Parameter::ClientName),
            ("invoice_total", Parameter::InvoiceTotal),
            ("brand", Parameter::Brand),
        ] {
            assert_eq!(Parameter::parse(name), Some(parameter));
            assert_eq!(parameter.as_str(), name);
        }
        assert_eq!(Parameter::parse("Client Name"), None);
    }

    #[test]
    fn each_placeholder_once_and_no_other_is_required() {
        let text = "text.en = \"Hi {{1}}, invoice {{2}} has been cancelled.\"";
        for wrong in [
            // Every placeholder once, and one too many.
            "text.en = \"Hi {{1}}, invoice {{2}} has been cancelled {{3}}.\"",
            // As many as parameters, one of them twice.
            "text.en = \"Hi {{1}}, invoice {{1}} has been cancelled.\"",
        ] {
            let broken = DEFAULT_TOML.replace(text, wrong);
            assert_ne!(broken, DEFAULT_TOML);
            assert!(
                matches!(
                    TemplateCatalog::from_toml(&broken),
                    Err(TemplateError::Placeholders { .. })
                ),
                "{wrong}"
            );
        }
    }
}
