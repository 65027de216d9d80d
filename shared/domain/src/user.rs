//! The caller's identity.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Longest user id we accept (Better Auth ids are 32 characters; OIDC `sub`
/// values are at most 255 by the spec).
pub const MAX_USER_ID_CHARS: usize = 255;

/// A validated user id: 1 to 255 characters, no control characters, no
/// invisible format characters (bidi controls, zero-width characters: they
/// make look-alike ids in logs and pages), no leading or trailing white
/// space. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserId(Arc<str>);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self> {
        let chars = raw.chars().count();
        if chars == 0 || chars > MAX_USER_ID_CHARS {
            return Err(Error::invalid(
                "user",
                format!("user id must be 1 to {MAX_USER_ID_CHARS} characters"),
            ));
        }
        if raw.trim() != raw {
            return Err(Error::invalid(
                "user",
                "user id must not start or end with white space",
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(Error::invalid(
                "user",
                "user id must not contain control characters",
            ));
        }
        if raw.chars().any(is_format_character) {
            return Err(Error::invalid(
                "user",
                "user id must not contain invisible format characters (bidi controls, zero-width characters)",
            ));
        }
        Ok(Self(Arc::from(raw)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Unicode's format characters (general category Cf, Unicode 16): text
/// direction controls, zero-width spaces and joiners, invisible operators,
/// tags; and the Hangul fillers, which render as nothing.
fn is_format_character(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({:?})", &*self.0)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_are_accepted() {
        for id in ["local", "u_123", "JrN4Qn2bX0hS1kYw", "alice@example.com"] {
            assert_eq!(
                UserId::parse(id).map(|u| u.to_string()).ok(),
                Some(id.into())
            );
        }
    }

    #[test]
    fn empty_padded_or_control_ids_are_rejected() {
        for id in ["", " alice", "alice ", "al\u{0}ice", "al\nice"] {
            assert!(UserId::parse(id).is_err(), "{id:?} was accepted");
        }
    }

    #[test]
    fn ids_with_invisible_format_characters_are_rejected() {
        // Right-to-left override, zero-width space and joiner, word joiner,
        // byte order mark, a tag character: each makes a look-alike id.
        for id in [
            "alice\u{202E}moc",
            "al\u{200B}ice",
            "al\u{200D}ice",
            "al\u{2060}ice",
            "\u{FEFF}alice",
            "alice\u{E0041}",
        ] {
            assert!(UserId::parse(id).is_err(), "{id:?} was accepted");
        }
        assert!(
            UserId::parse("zoë-مريم-李").is_ok(),
            "letters of any script are fine"
        );
    }

    #[test]
    fn id_longer_than_255_chars_is_rejected() {
        assert!(UserId::parse(&"a".repeat(255)).is_ok());
        assert!(UserId::parse(&"a".repeat(256)).is_err());
    }
}
