//! Every text the service shows a hosting client, in Spanish and English,
//! and the one rule that picks the language.
//!
//! The rule, the same in the addon (`Messages::language` in `lib/Messages.php`): the client's
//! profile language in WHMCS, else the language of their session, else
//! Spanish; a language puente has no texts in counts as none.
//! `fixtures/language-rule.json` holds cases both sides must agree on.
//! A text with `{name}` in it is filled with [`Text::fill`].

/// A language puente has texts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Spanish,
    English,
}

impl Language {
    /// The language a WHMCS language name (`english`, `Spanish`) or a code
    /// (`en`, `es_MX`, `en-GB`) names; `None` for one puente has no texts
    /// in, or none at all.
    pub fn from_whmcs(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        let base = name.split(['_', '-']).next().unwrap_or_default();
        match base {
            "english" | "en" => Some(Self::English),
            "spanish" | "español" | "espanol" | "es" => Some(Self::Spanish),
            _ => None,
        }
    }

    /// The one rule: the client's profile language, else the session's,
    /// else Spanish.
    pub fn pick(profile: &str, session: &str) -> Self {
        Self::from_whmcs(profile)
            .or_else(|| Self::from_whmcs(session))
            .unwrap_or_default()
    }

    /// The language `name` names, Spanish when it names none puente has:
    /// what the addon sends (picked by the rule on its side), or a Meta
    /// template language code.
    pub fn named(name: &str) -> Self {
        Self::from_whmcs(name).unwrap_or_default()
    }

    /// WHMCS's name of the language, as the addon sends it.
    pub fn whmcs_name(self) -> &'static str {
        match self {
            Self::Spanish => "spanish",
            Self::English => "english",
        }
    }
}

/// One text shown to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    UpgradeDowngrade,
    UpgradeTargetNotAllowed,
    UpgradeCycleNotAvailable,
    /// `{status}`: WHMCS's status of the service.
    UpgradeServiceNotActive,
    UpgradeRequestOpen,
    /// `{ticket}`: the open ticket's number.
    UpgradeRequestOpenTicket,
    /// `{service}`.
    UpgradeTicketSubject,
    /// `{service}`, `{target}`, `{cycle}`, `{note}`.
    UpgradeTicketBody,
    UpgradeTicketNoNote,
    CancelNotOwner,
    CancelAlreadyCancelled,
    CancelNotActive,
    CancelTypeImmediate,
    CancelTypeEndOfPeriod,
    TransferNotOwner,
    TransferNotRecipient,
    TransferServiceNotActive,
    TransferClientNotActive,
    TransferRecipientNotFound,
    TransferAmbiguousRecipient,
    TransferRecipientIsOwner,
    TransferUnpaidInvoices,
    TransferOpen,
    TransferDomainNotMovable,
    TransferStepNotOwner,
    TransferStepNotRecipient,
    TransferStepNotAllowed,
    TransferStepInvalid,
    TransferStepExpired,
    /// `{optin}`: the word that starts alerts again.
    AlertsStopped,
    /// `{optout}`: the word that stops them.
    AlertsResumed,
    /// `{name}`: the client's name on WhatsApp, or their number.
    ReplyTicketSubject,
    /// `{number}`: the number the client wrote from.
    ReplyTicketFooter,
    /// `{alert}`: the kind of alert the client answered.
    ReplyTicketAnswered,
    /// `{kind}`: Meta's type of a message without text.
    ReplyWithoutText,
}

impl Text {
    pub const ALL: &'static [Self] = &[
        Self::UpgradeDowngrade,
        Self::UpgradeTargetNotAllowed,
        Self::UpgradeCycleNotAvailable,
        Self::UpgradeServiceNotActive,
        Self::UpgradeRequestOpen,
        Self::UpgradeRequestOpenTicket,
        Self::UpgradeTicketSubject,
        Self::UpgradeTicketBody,
        Self::UpgradeTicketNoNote,
        Self::CancelNotOwner,
        Self::CancelAlreadyCancelled,
        Self::CancelNotActive,
        Self::CancelTypeImmediate,
        Self::CancelTypeEndOfPeriod,
        Self::TransferNotOwner,
        Self::TransferNotRecipient,
        Self::TransferServiceNotActive,
        Self::TransferClientNotActive,
        Self::TransferRecipientNotFound,
        Self::TransferAmbiguousRecipient,
        Self::TransferRecipientIsOwner,
        Self::TransferUnpaidInvoices,
        Self::TransferOpen,
        Self::TransferDomainNotMovable,
        Self::TransferStepNotOwner,
        Self::TransferStepNotRecipient,
        Self::TransferStepNotAllowed,
        Self::TransferStepInvalid,
        Self::TransferStepExpired,
        Self::AlertsStopped,
        Self::AlertsResumed,
        Self::ReplyTicketSubject,
        Self::ReplyTicketFooter,
        Self::ReplyTicketAnswered,
        Self::ReplyWithoutText,
    ];

    /// The text in `language`.
    pub fn get(self, language: Language) -> &'static str {
        let (spanish, english) = self.both();
        match language {
            Language::Spanish => spanish,
            Language::English => english,
        }
    }

    /// The text in `language` with each `{name}` replaced by its value, in
    /// one pass: a value is never read for placeholders itself.
    pub fn fill(self, language: Language, values: &[(&str, &str)]) -> String {
        let mut filled = String::new();
        let mut rest = self.get(language);
        while let Some(start) = rest.find('{') {
            let (before, from) = rest.split_at(start);
            filled.push_str(before);
            let value = from.find('}').and_then(|end| {
                let name = &from[1..end];
                let value = values.iter().find(|(known, _)| *known == name)?.1;
                Some((value, end))
            });
            match value {
                Some((value, end)) => {
                    filled.push_str(value);
                    rest = &from[end + 1..];
                }
                None => {
                    filled.push('{');
                    rest = &from[1..];
                }
            }
        }
        filled.push_str(rest);
        filled
    }

    /// Spanish, then English.
    fn both(self) -> (&'static str, &'static str) {
        match self {
            Self::UpgradeDowngrade => (
                "No es posible bajar de plan. Para pasar a un plan inferior, solicite la baja del servicio y contrate otro plan más adecuado. Recuerde que al dar de baja un servicio se pierde todo (archivos, correos, puertos, contenido subido) y no es posible revertirlo.",
                "Moving to a smaller plan is not possible. Request the cancellation of this service and order a plan that suits you better. Remember that cancelling a service deletes everything on it (files, email, ports, uploaded content) and cannot be reverted.",
            ),
            Self::UpgradeTargetNotAllowed => (
                "Este plan no está disponible como mejora de su servicio. Si lo necesita, puede solicitar la mejora manualmente y la revisará un ejecutivo de cuentas.",
                "This plan is not available as an upgrade of your service. If you need it, you can ask for the upgrade and an account executive will review it.",
            ),
            Self::UpgradeCycleNotAvailable => (
                "Ese ciclo de facturación no está disponible para el plan elegido. Elija otro ciclo.",
                "That billing cycle is not offered for the chosen plan. Choose another cycle.",
            ),
            Self::UpgradeServiceNotActive => (
                "Solo se puede mejorar un servicio activo; este está en estado {status}.",
                "Only an active service can be upgraded; this one is {status}.",
            ),
            Self::UpgradeRequestOpen => (
                "Ya hay una solicitud de mejora abierta para este servicio.",
                "An upgrade request for this service is already open.",
            ),
            Self::UpgradeRequestOpenTicket => (
                "Ya hay una solicitud de mejora abierta para este servicio (ticket #{ticket}).",
                "An upgrade request for this service is already open (ticket #{ticket}).",
            ),
            Self::UpgradeTicketSubject => (
                "Solicitud de mejora de plan: servicio {service}",
                "Upgrade request: service {service}",
            ),
            Self::UpgradeTicketBody => (
                "El cliente solicita una mejora de plan que no es posible automáticamente.\n\nServicio: {service}\nPlan deseado: {target}\nCiclo de facturación: {cycle}\n\nNota del cliente: {note}",
                "The client asks for an upgrade that cannot be made automatically.\n\nService: {service}\nWished plan: {target}\nBilling cycle: {cycle}\n\nClient's note: {note}",
            ),
            Self::UpgradeTicketNoNote => ("(ninguna)", "(none)"),
            Self::CancelNotOwner => (
                "Solo el titular del servicio puede solicitar su baja.",
                "Only the owner of the service can cancel it.",
            ),
            Self::CancelAlreadyCancelled => (
                "Este servicio ya está dado de baja o su baja ya fue solicitada.",
                "This service is already cancelled, or its cancellation was already requested.",
            ),
            Self::CancelNotActive => (
                "Este servicio no está activo, así que no se puede dar de baja. Escríbanos si necesita ayuda.",
                "This service is not active, so it cannot be cancelled. Contact us if you need help.",
            ),
            Self::CancelTypeImmediate => ("inmediata", "immediate"),
            Self::CancelTypeEndOfPeriod => (
                "al final del período facturado",
                "at the end of the billed period",
            ),
            Self::TransferNotOwner => (
                "Solo el titular de la cuenta dueña del servicio puede hacer esto.",
                "Only the owner of the account that holds the service can do this.",
            ),
            Self::TransferNotRecipient => (
                "Esta transferencia no está dirigida a su cuenta.",
                "This transfer is not addressed to your account.",
            ),
            Self::TransferServiceNotActive => (
                "Solo se pueden transferir servicios activos (no pendientes, suspendidos, cancelados ni terminados).",
                "Only active services can be transferred (not pending, suspended, cancelled or terminated ones).",
            ),
            Self::TransferClientNotActive => (
                "Las dos cuentas deben existir y no estar cerradas.",
                "Both accounts must exist and not be closed.",
            ),
            Self::TransferRecipientNotFound => (
                "No hay ningún cliente con ese email. La otra persona debe registrarse primero (es gratis).",
                "No client has that email. The other person must sign up first (it is free).",
            ),
            Self::TransferAmbiguousRecipient => (
                "Hay más de un cliente con ese email; escríbanos para resolverlo.",
                "More than one client has that email; contact us to sort it out.",
            ),
            Self::TransferRecipientIsOwner => (
                "El servicio ya pertenece a esa cuenta.",
                "The service already belongs to that account.",
            ),
            Self::TransferUnpaidInvoices => (
                "El servicio debe estar al día: hay facturas pendientes de pago con líneas de este servicio.",
                "The service must be up to date: unpaid invoices carry lines of it.",
            ),
            Self::TransferOpen => (
                "Ya hay una transferencia abierta para este servicio.",
                "A transfer of this service is already open.",
            ),
            Self::TransferDomainNotMovable => (
                "El dominio elegido no se puede transferir junto con el servicio (no está activo o no es de esta cuenta).",
                "The chosen domain cannot move with the service (it is not active or not this account's).",
            ),
            Self::TransferStepNotOwner => (
                "Solo el titular que pidió la transferencia puede hacer esto.",
                "Only the owner who asked for the transfer can do this.",
            ),
            Self::TransferStepNotRecipient => (
                "Esta transferencia no está dirigida a su cuenta.",
                "This transfer is not addressed to your account.",
            ),
            Self::TransferStepNotAllowed => (
                "Solo el personal puede hacer esto.",
                "Only staff can do this.",
            ),
            Self::TransferStepInvalid => (
                "La transferencia no está en un paso en el que se pueda hacer esto.",
                "The transfer is not at a step where this can be done.",
            ),
            Self::TransferStepExpired => (
                "La solicitud de transferencia venció.",
                "The transfer request expired.",
            ),
            Self::AlertsStopped => (
                "Listo: ya no recibirás nuestros avisos por WhatsApp. Si quieres volver a recibirlos, responde {optin}.",
                "Done: you will no longer get our WhatsApp alerts. To get them again, reply {optin}.",
            ),
            Self::AlertsResumed => (
                "Listo: vuelves a recibir nuestros avisos por WhatsApp. Para dejar de recibirlos, responde {optout}.",
                "Done: you will get our WhatsApp alerts again. To stop them, reply {optout}.",
            ),
            Self::ReplyTicketSubject => (
                "WhatsApp: mensaje de {name}",
                "WhatsApp: message from {name}",
            ),
            Self::ReplyTicketFooter => (
                "Recibido por WhatsApp desde +{number}.",
                "Received on WhatsApp from +{number}.",
            ),
            Self::ReplyTicketAnswered => (
                "En respuesta al aviso «{alert}».",
                "In answer to the alert \"{alert}\".",
            ),
            Self::ReplyWithoutText => (
                "(Un mensaje de tipo {kind}, sin texto: puente solo reenvía texto; véalo en WhatsApp.)",
                "(A {kind} message without text: puente forwards text only; see it on WhatsApp.)",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_written_in_both_languages_and_each_says_something_of_its_own() {
        let mut seen = std::collections::BTreeSet::new();
        for text in Text::ALL {
            let (spanish, english) = (text.get(Language::Spanish), text.get(Language::English));
            assert!(
                !spanish.trim().is_empty() && !english.trim().is_empty(),
                "{text:?}"
            );
            assert_ne!(spanish, english, "{text:?} is not translated");
            // The same placeholders in both.
            let names = |text: &str| {
                text.split('{')
                    .skip(1)
                    .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_owned()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(names(spanish), names(english), "{text:?}");
            seen.insert(spanish);
        }
        // Step and refusal share one sentence: "not addressed to your account".
        assert_eq!(seen.len(), Text::ALL.len() - 1);
    }

    #[test]
    fn a_text_is_filled_with_its_values_and_left_alone_without_them() {
        assert_eq!(
            Text::UpgradeServiceNotActive.fill(Language::English, &[("status", "Suspended")]),
            "Only an active service can be upgraded; this one is Suspended."
        );
        assert_eq!(
            Text::UpgradeRequestOpenTicket.fill(Language::Spanish, &[("ticket", "ABC-123")]),
            "Ya hay una solicitud de mejora abierta para este servicio (ticket #ABC-123)."
        );
        assert_eq!(
            Text::CancelTypeImmediate.fill(Language::Spanish, &[("status", "x")]),
            "inmediata"
        );
        // A value that looks like a placeholder stays as it is, and a
        // placeholder without a value too.
        assert_eq!(
            Text::UpgradeTicketSubject.fill(Language::English, &[("service", "{note} #7")]),
            "Upgrade request: service {note} #7"
        );
        assert_eq!(
            Text::UpgradeTicketSubject.fill(Language::English, &[]),
            "Upgrade request: service {service}"
        );
        let body = Text::UpgradeTicketBody.fill(
            Language::Spanish,
            &[
                ("service", "Web (#7)"),
                ("target", "{service}"),
                ("cycle", "Annually"),
                ("note", "}{"),
            ],
        );
        assert_eq!(
            body,
            "El cliente solicita una mejora de plan que no es posible automáticamente.\n\n\
             Servicio: Web (#7)\nPlan deseado: {service}\nCiclo de facturación: Annually\n\n\
             Nota del cliente: }{"
        );
    }

    #[test]
    fn the_language_is_the_profile_then_the_session_then_spanish() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../../fixtures/language-rule.json"))
                .expect("fixture");
        let cases = cases["cases"].as_array().expect("cases");
        assert!(cases.len() >= 10);
        for case in cases {
            let text = |name: &str| case[name].as_str().expect(name);
            assert_eq!(
                Language::pick(text("profile"), text("session")).whmcs_name(),
                text("language"),
                "{case}"
            );
        }
        assert_eq!(Language::from_whmcs("portuguese-br"), None);
        assert_eq!(Language::from_whmcs(""), None);
        assert_eq!(Language::from_whmcs(" English "), Some(Language::English));
        assert_eq!(Language::default(), Language::Spanish);
        assert_eq!(Language::named("en_US"), Language::English);
        assert_eq!(Language::named("pt_BR"), Language::Spanish);
    }
}
