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

/// What `text` asks for; a message without text (an image, a sticker) is
/// a reply.
pub fn intent(text: Option<&str>) -> Intent {
    let Some(text) = text else {
        return Intent::Reply;
    };
    let said = normalise(text);
    if OPT_OUT_WORDS.contains(&said.as_str()) {
        Intent::OptOut
    } else if OPT_IN_WORDS.contains(&said.as_str()) {
        Intent::OptIn
    } else {
        Intent::Reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
