//! What a client may send about a conversation, as validated types.

use crate::error::{Error, Result};

pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// Conversation titles are the start of the first message, this long at most.
pub const TITLE_CHARS: usize = 80;

/// A conversation id as a client sent it, checked to be positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationId(i64);

impl ConversationId {
    pub fn parse(raw: i64) -> Result<Self> {
        if raw < 1 {
            return Err(Error::invalid(
                "conversation_id",
                format!("conversation_id must be a positive integer, got {raw}"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A user's chat message: not blank, at most 10,000 characters, no control
/// characters but newlines and tabs. Stored as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.trim().is_empty() {
            return Err(Error::invalid("message", "message must not be empty"));
        }
        let chars = raw.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(Error::invalid(
                "message",
                format!("message must be at most {MAX_MESSAGE_CHARS} characters (got {chars})"),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Error::invalid(
                "message",
                "message must not contain control characters other than newline and tab",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The title of a conversation that starts with this message: its first
    /// line, cut to [`TITLE_CHARS`] with an ellipsis.
    pub fn title(&self) -> String {
        let line = self.0.trim().lines().next().unwrap_or_default().trim();
        if line.chars().count() <= TITLE_CHARS {
            line.to_owned()
        } else {
            let mut cut: String = line.chars().take(TITLE_CHARS - 1).collect();
            cut.push('…');
            cut
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_messages_are_rejected() {
        for raw in ["", "   ", "\n\t "] {
            assert_eq!(
                MessageText::parse(raw)
                    .err()
                    .map(|e| e.to_string())
                    .as_deref(),
                Some("message must not be empty")
            );
        }
    }

    #[test]
    fn message_longer_than_10000_chars_is_rejected() {
        assert!(MessageText::parse(&"m".repeat(10_000)).is_ok());
        assert!(MessageText::parse(&"m".repeat(10_001)).is_err());
    }

    #[test]
    fn message_with_nul_is_rejected_but_newlines_are_kept() {
        assert!(MessageText::parse("a\u{0}b").is_err());
        assert_eq!(
            MessageText::parse("  two\nlines ").ok().map(|m| m.0),
            Some("  two\nlines ".to_owned())
        );
    }

    #[test]
    fn title_is_the_first_line_cut_to_80_chars() {
        let text = MessageText::parse("  Add a task to buy milk\nand eggs").expect("text");
        assert_eq!(text.title(), "Add a task to buy milk");
        let long = MessageText::parse(&"é".repeat(100)).expect("text");
        assert_eq!(long.title().chars().count(), 80);
        assert!(long.title().ends_with('…'));
    }

    #[test]
    fn conversation_id_must_be_positive() {
        assert!(ConversationId::parse(1).is_ok());
        assert!(ConversationId::parse(0).is_err() && ConversationId::parse(-3).is_err());
    }
}
