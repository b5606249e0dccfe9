//! What a client's WhatsApp message to an instance's number asks for: to
//! stop alerts (`STOP`, `BAJA`, …), to have them again (`START`, `ALTA`, …),
//! or neither (a reply, which people should read). The whole message must
//! be one of the words, whatever its case, accents and surrounding
//! punctuation: "No." opts out, "no, gracias, ya pagué" is a reply.

/// What an inbound message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    OptOut,
    OptIn,
    Reply,
}

impl Intent {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptOut => "opt_out",
            Self::OptIn => "opt_in",
            Self::Reply => "reply",
        }
    }
}

/// Words that stop alerts, in Spanish and English, as [`normalise`] leaves
/// them.
pub const OPT_OUT_WORDS: &[&str] = &[
    "stop",
    "baja",
    "no",
    "cancelar",
    "parar",
    "unsubscribe",
    "darme de baja",
];

/// Words that start them again.
pub const OPT_IN_WORDS: &[&str] = &["start", "alta", "si", "subscribe", "darme de alta"];

/// Lower case, accents dropped (`sí` → `si`), inner spaces collapsed, and
/// the punctuation and emoji around the words trimmed.
pub fn normalise(text: &str) -> String {
    let folded: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            other => other,
        })
        .collect();
    folded
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_owned()
}

/// The words an install's clients use, as [`normalise`] leaves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyWords {
    pub opt_out: Vec<String>,
    pub opt_in: Vec<String>,
}

impl ReplyWords {
    /// The word a confirmation suggests to stop alerts: the language's own
    /// (`BAJA`, `STOP`) when the install's list has it, else its first.
    pub fn to_stop(&self, language: crate::domain::texts::Language) -> String {
        suggested(&self.opt_out, language, ["baja", "stop"])
    }

    /// The word a confirmation suggests to have alerts again.
    pub fn to_start(&self, language: crate::domain::texts::Language) -> String {
        suggested(&self.opt_in, language, ["alta", "start"])
    }
}

/// `[spanish, english]`'s word for `language` when `words` has it, else
/// the first of `words`; upper case, as a client would type it.
fn suggested(
    words: &[String],
    language: crate::domain::texts::Language,
    [spanish, english]: [&str; 2],
) -> String {
    let own = match language {
        crate::domain::texts::Language::Spanish => spanish,
        crate::domain::texts::Language::English => english,
    };
    let word = if words.iter().any(|word| word == own) {
        own
    } else {
        words.first().map_or(own, String::as_str)
    };
    word.to_uppercase()
}

impl Default for ReplyWords {
    fn default() -> Self {
        let owned = |words: &[&str]| words.iter().map(|word| (*word).to_owned()).collect();
        Self {
            opt_out: owned(OPT_OUT_WORDS),
            opt_in: owned(OPT_IN_WORDS),
        }
    }
}

/// A setting's list of words: comma-separated (a word may be a phrase,
/// `darme de baja`), or, without a comma, separated by spaces; each
/// normalised. `Err` names what is wrong.
pub fn parse_words(text: &str) -> Result<Vec<String>, String> {
    let parts: Vec<&str> = if text.contains(',') {
        text.split(',').collect()
    } else {
        text.split_whitespace().collect()
    };
    let words: Vec<String> = parts
        .into_iter()
        .map(normalise)
        .filter(|word| !word.is_empty())
        .collect();
    if words.is_empty() || words.len() > 30 {
        return Err(format!("`{text}` is not a list of 1 to 30 words"));
    }
    if let Some(long) = words.iter().find(|word| word.chars().count() > 40) {
        return Err(format!("`{long}` is longer than 40 characters"));
    }
    Ok(words)
}

/// What `text` asks for with `words`; a message without text (an image, a
/// sticker) is a reply.
pub fn intent(text: Option<&str>, words: &ReplyWords) -> Intent {
    let Some(text) = text else {
        return Intent::Reply;
    };
    let said = normalise(text);
    if words.opt_out.contains(&said) {
        Intent::OptOut
    } else if words.opt_in.contains(&said) {
        Intent::OptIn
    } else {
        Intent::Reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_suggests_the_clients_language_word_the_install_accepts() {
        use crate::domain::texts::Language;
        let words = ReplyWords::default();
        assert_eq!(words.to_start(Language::Spanish), "ALTA");
        assert_eq!(words.to_start(Language::English), "START");
        assert_eq!(words.to_stop(Language::Spanish), "BAJA");
        assert_eq!(words.to_stop(Language::English), "STOP");
        let own = ReplyWords {
            opt_out: vec!["quitar".into()],
            opt_in: vec!["volver".into()],
        };
        assert_eq!(own.to_stop(Language::English), "QUITAR");
        assert_eq!(own.to_start(Language::Spanish), "VOLVER");
    }

    fn intent(text: Option<&str>) -> Intent {
        super::intent(text, &ReplyWords::default())
    }

    #[test]
    fn an_install_writes_its_own_words_as_a_list_or_with_commas_for_phrases() {
        assert_eq!(
            parse_words("PARA  Quitar"),
            Ok(vec!["para".to_owned(), "quitar".to_owned()])
        );
        assert_eq!(
            parse_words("Darme de BAJA, stop"),
            Ok(vec!["darme de baja".to_owned(), "stop".to_owned()])
        );
        assert!(parse_words(" , ").is_err());
        assert!(parse_words(&"x".repeat(41)).is_err());
        let words = ReplyWords {
            opt_out: vec!["quitar".into()],
            opt_in: vec!["volver".into()],
        };
        assert_eq!(super::intent(Some("¡Quitar!"), &words), Intent::OptOut);
        assert_eq!(super::intent(Some("Volver"), &words), Intent::OptIn);
        assert_eq!(
            super::intent(Some("STOP"), &words),
            Intent::Reply,
            "only its own words"
        );
    }

    #[test]
    fn the_whole_message_is_the_word_whatever_its_case_accents_and_punctuation() {
        for text in [
            "STOP",
            "stop",
            " Baja ",
            "No.",
            "¡BAJA!",
            "Darme  de   baja",
            "unsubscribe 🙏",
        ] {
            assert_eq!(intent(Some(text)), Intent::OptOut, "{text:?}");
        }
        for text in ["START", "Alta", "Sí", "SI!", "subscribe"] {
            assert_eq!(intent(Some(text)), Intent::OptIn, "{text:?}");
        }
        for text in [
            "no, gracias, ya pagué",
            "stop sending me invoices please",
            "¿Cómo doy de baja el dominio?",
            "",
            "👍",
        ] {
            assert_eq!(intent(Some(text)), Intent::Reply, "{text:?}");
        }
        assert_eq!(intent(None), Intent::Reply, "an image or a sticker");
    }

    #[test]
    fn the_word_lists_are_written_as_normalise_leaves_them() {
        for word in OPT_OUT_WORDS.iter().chain(OPT_IN_WORDS) {
            assert_eq!(normalise(word), *word);
        }
    }
}
