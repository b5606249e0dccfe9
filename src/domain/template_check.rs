//! Whether each alert's template is ready at Meta: for every alert kind and
//! every language its template has text in, is a template of that name and
//! exact language in the WhatsApp Business Account, `APPROVED`, with as many
//! body parameters as puente fills and no header or button variables (which
//! puente does not fill)? A message whose template is not ready is not sent:
//! Meta would refuse it (`#132001` missing or not approved, `#132000` another
//! parameter count) after a round trip, or worse, deliver it with the wrong
//! text in a slot.

use std::collections::BTreeSet;

use super::alerts::AlertKind;
use super::templates::TemplateCatalog;

/// One template of the account, as `GET /{waba-id}/message_templates` lists
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTemplate {
    pub name: String,
    /// Meta's language code (`es`, `en_US`): sends name it exactly.
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, …
    pub status: String,
    /// Distinct placeholders in the `BODY` component's text.
    pub body_parameters: usize,
    /// Placeholders in the other components (header text, URL buttons).
    pub other_parameters: usize,
}

impl AccountTemplate {
    /// Counts the placeholders of each component, given each one's type
    /// (`HEADER`, `BODY`, `FOOTER`, `BUTTONS`) and the texts it holds.
    pub fn new<'a>(
        name: String,
        language: String,
        status: String,
        components: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
    ) -> Self {
        let mut body_parameters = 0;
        let mut other_parameters = 0;
        for (kind, texts) in components {
            let count: usize = texts.into_iter().map(placeholders).sum();
            if kind.eq_ignore_ascii_case("body") {
                body_parameters += count;
            } else {
                other_parameters += count;
            }
        }
        Self {
            name,
            language,
            status,
            body_parameters,
            other_parameters,
        }
    }
}

/// The distinct `{{…}}` placeholders of a template text: positional
/// (`{{1}}`) or named (`{{client_name}}`); a placeholder used twice is one
/// parameter.
pub fn placeholders(text: &str) -> usize {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            found.insert(name.to_owned());
        }
        rest = &after[end + 2..];
    }
    found.len()
}

/// What the account says of one alert's template in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ready,
    /// No template of that name in that language.
    Missing,
    /// There, but not `APPROVED` (its status).
    NotApproved(String),
    /// Approved, with another number of body parameters than puente fills.
    ParametersDiffer {
        expected: usize,
        found: usize,
    },
    /// Approved, with variables outside the body that puente leaves empty.
    OtherVariables(usize),
}

impl Verdict {
    /// The metric's `state` label.
    pub fn state(&self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Missing => "missing",
            Self::NotApproved(_) => "not_approved",
            Self::ParametersDiffer { .. } => "parameters_differ",
            Self::OtherVariables(_) => "other_variables",
        }
    }

    /// Every state, in the order the dashboard and the metrics list them.
    pub const STATES: [&'static str; 5] = [
        "ready",
        "missing",
        "not_approved",
        "parameters_differ",
        "other_variables",
    ];
}

/// One alert's template in one language, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub kind: AlertKind,
    pub template: String,
    pub language: String,
    pub verdict: Verdict,
}

impl Check {
    /// Why a message with this template cannot be sent, and what to fix;
    /// `None` when it is ready.
    pub fn problem(&self) -> Option<String> {
        let named = format!("template `{}` ({})", self.template, self.language);
        match &self.verdict {
            Verdict::Ready => None,
            Verdict::Missing => Some(format!(
                "{named} is not in the WhatsApp Business Account: submit it \
                 (`puente templates export`) and wait for Meta's approval"
            )),
            Verdict::NotApproved(status) => Some(format!(
                "{named} is {status} at Meta, not APPROVED: only approved templates can be sent"
            )),
            Verdict::ParametersDiffer { expected, found } => Some(format!(
                "{named} has {found} body parameters at Meta, puente fills {expected}: \
                 make templates/alerts.toml and the approved template agree"
            )),
            Verdict::OtherVariables(count) => Some(format!(
                "{named} has {count} variables outside its body (header or buttons), \
                 which puente does not fill: approve a template whose variables are all \
                 in the body"
            )),
        }
    }
}

/// Every alert kind's template in every language it has text in, against
/// the account's templates.
pub fn check(catalogue: &TemplateCatalog, account: &[AccountTemplate]) -> Vec<Check> {
    let mut checks = Vec::new();
    for kind in AlertKind::ALL {
        let template = catalogue.template(kind);
        for language in template.text.keys() {
            let found = account.iter().find(|candidate| {
                candidate.name == template.template && &candidate.language == language
            });
            let verdict = match found {
                None => Verdict::Missing,
                Some(found) if !found.status.eq_ignore_ascii_case("APPROVED") => {
                    Verdict::NotApproved(found.status.clone())
                }
                Some(found) if found.body_parameters != template.parameters.len() => {
                    Verdict::ParametersDiffer {
                        expected: template.parameters.len(),
                        found: found.body_parameters,
                    }
                }
                Some(found) if found.other_parameters > 0 => {
                    Verdict::OtherVariables(found.other_parameters)
                }
                Some(_) => Verdict::Ready,
            };
            checks.push(Check {
                kind,
                template: template.template.clone(),
                language: language.clone(),
                verdict,
            });
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approved(name: &str, language: &str, body: &str) -> AccountTemplate {
        AccountTemplate::new(
            name.into(),
            language.into(),
            "APPROVED".into(),
            [("BODY", vec![body]), ("FOOTER", vec!["puente"])],
        )
    }

    /// The shipped catalogue's every template, approved as exported.
    fn whole_account() -> Vec<AccountTemplate> {
        let catalogue = TemplateCatalog::defaults();
        AlertKind::ALL
            .into_iter()
            .flat_map(|kind| {
                let template = catalogue.template(kind).clone();
                template
                    .text
                    .iter()
                    .map(|(language, text)| approved(&template.template, language, text))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn placeholders_are_counted_once_each_positional_or_named() {
        assert_eq!(placeholders("Hola {{1}}, tu factura {{2}} de {{3}}"), 3);
        assert_eq!(placeholders("{{1}} y otra vez {{1}}"), 1);
        assert_eq!(placeholders("Hi {{client_name}}, {{ invoice }}"), 2);
        assert_eq!(
            placeholders("no variables, {single} braces, {{}} or {{ a b }}"),
            0
        );
        assert_eq!(placeholders("cut {{1"), 0);
    }

    #[test]
    fn the_shipped_templates_approved_as_exported_are_all_ready() {
        let checks = check(&TemplateCatalog::defaults(), &whole_account());
        assert_eq!(checks.len(), AlertKind::ALL.len() * 2, "es and en each");
        let problems: Vec<_> = checks.iter().filter_map(Check::problem).collect();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn each_way_a_template_is_not_ready_is_told_apart() {
        let catalogue = TemplateCatalog::defaults();
        let mut account = whole_account();
        let invoice = catalogue
            .template(AlertKind::InvoiceCreated)
            .template
            .clone();
        let welcome = catalogue.template(AlertKind::Welcome).template.clone();
        let paid = catalogue
            .template(AlertKind::PaymentReceived)
            .template
            .clone();
        let quote = catalogue
            .template(AlertKind::QuoteAvailable)
            .template
            .clone();
        // Missing in English; pending in Spanish.
        account.retain(|t| !(t.name == invoice && t.language == "en"));
        for t in &mut account {
            if t.name == invoice {
                t.status = "PENDING".into();
            }
            if t.name == welcome && t.language == "es" {
                t.body_parameters = 3;
            }
            if t.name == paid && t.language == "en" {
                t.other_parameters = 1;
            }
            // The same template approved for en_US is not `en`.
            if t.name == quote && t.language == "en" {
                t.language = "en_US".into();
            }
        }
        let checks = check(&catalogue, &account);
        let verdict = |kind: AlertKind, language: &str| {
            checks
                .iter()
                .find(|c| c.kind == kind && c.language == language)
                .map(|c| c.verdict.clone())
                .expect("checked")
        };
        assert_eq!(verdict(AlertKind::InvoiceCreated, "en"), Verdict::Missing);
        assert_eq!(
            verdict(AlertKind::InvoiceCreated, "es"),
            Verdict::NotApproved("PENDING".into())
        );
        let expected = catalogue.template(AlertKind::Welcome).parameters.len();
        assert_eq!(
            verdict(AlertKind::Welcome, "es"),
            Verdict::ParametersDiffer { expected, found: 3 }
        );
        assert_eq!(verdict(AlertKind::Welcome, "en"), Verdict::Ready);
        assert_eq!(
            verdict(AlertKind::PaymentReceived, "en"),
            Verdict::OtherVariables(1)
        );
        assert_eq!(verdict(AlertKind::QuoteAvailable, "en"), Verdict::Missing);
        let problem = checks
            .iter()
            .find(|c| c.kind == AlertKind::Welcome && c.language == "es")
            .and_then(Check::problem)
            .expect("a problem");
        assert!(
            problem.contains(&format!(
                "has 3 body parameters at Meta, puente fills {expected}"
            )),
            "{problem}"
        );
    }

    #[test]
    fn header_and_button_variables_are_counted_apart_from_the_body() {
        let template = AccountTemplate::new(
            "t".into(),
            "es".into(),
            "APPROVED".into(),
            [
                ("HEADER", vec!["Factura {{1}}"]),
                ("BODY", vec!["Hola {{1}}, total {{2}}"]),
                ("BUTTONS", vec!["Pagar", "https://panel.example/pay/{{1}}"]),
            ],
        );
        assert_eq!(
            (template.body_parameters, template.other_parameters),
            (2, 2)
        );
    }
}
