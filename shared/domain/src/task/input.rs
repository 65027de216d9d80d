//! What a client may send about a task, as validated types: each `parse`
//! is the one place its rule is checked, with a message written for the
//! person (or model) who sent it.

use crate::error::{Error, Result};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// A task id as a client sent it, checked to be a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskId(i64);

impl TaskId {
    pub fn parse(raw: i64) -> Result<Self> {
        if raw < 1 {
            return Err(Error::invalid(
                "task_id",
                format!("task_id must be a positive integer, got {raw}"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A title: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS {
            return Err(Error::invalid(
                "title",
                format!(
                    "title must be 1 to {MAX_TITLE_CHARS} characters (got {chars} after trimming)"
                ),
            ));
        }
        if let Some(c) = trimmed.chars().find(|c| c.is_control()) {
            return Err(Error::invalid(
                "title",
                format!(
                    "title must not contain control characters (found U+{:04X})",
                    u32::from(c)
                ),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A description: at most 2,000 characters, stored exactly as written.
/// Newlines and tabs are allowed; other control characters are not. An
/// empty description means "no description".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(Option<String>);

impl Description {
    pub fn parse(raw: &str) -> Result<Self> {
        let chars = raw.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(Error::invalid(
                "description",
                format!(
                    "description must be at most {MAX_DESCRIPTION_CHARS} characters (got {chars})"
                ),
            ));
        }
        if let Some(c) = raw
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Error::invalid(
                "description",
                format!(
                    "description must not contain control characters other than newline and tab (found U+{:04X})",
                    u32::from(c)
                ),
            ));
        }
        Ok(Self((!raw.is_empty()).then(|| raw.to_owned())))
    }

    pub fn none() -> Self {
        Self(None)
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// Which tasks `list` returns. As JSON (a query parameter of the gateway),
/// the lower-case word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = TaskStatus))]
pub enum StatusFilter {
    #[default]
    All,
    Pending,
    Completed,
}

impl StatusFilter {
    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "all" => Ok(Self::All),
            "pending" => Ok(Self::Pending),
            "completed" => Ok(Self::Completed),
            other => Err(Error::invalid(
                "status",
                format!("status must be \"all\", \"pending\" or \"completed\", got {other:?}"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Pending => "pending",
            Self::Completed => "completed",
        }
    }

    /// The `completed` value to filter on, if any.
    pub fn completed(self) -> Option<bool> {
        match self {
            Self::All => None,
            Self::Pending => Some(false),
            Self::Completed => Some(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed() {
        assert_eq!(
            Title::parse("  buy milk \n").ok().map(|t| t.0),
            Some("buy milk".into())
        );
    }

    #[test]
    fn empty_or_blank_title_is_rejected() {
        for raw in ["", "   ", "\n\t"] {
            let err = Title::parse(raw).err().map(|e| e.to_string());
            assert_eq!(
                err.as_deref(),
                Some("title must be 1 to 200 characters (got 0 after trimming)")
            );
        }
    }

    #[test]
    fn title_longer_than_200_chars_is_rejected() {
        assert!(Title::parse(&"x".repeat(200)).is_ok());
        assert!(Title::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn title_length_counts_characters_not_bytes() {
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse(&"🦀".repeat(200)).is_ok());
        assert!(Title::parse(&"🦀".repeat(201)).is_err());
    }

    #[test]
    fn title_with_control_characters_is_rejected() {
        for raw in ["a\u{0}b", "a\nb", "a\tb", "a\u{7f}b", "a\u{9b}b"] {
            assert!(Title::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn html_in_title_is_kept_verbatim() {
        let raw = "<img src=x onerror=alert(1)> & \"quotes\"";
        assert_eq!(Title::parse(raw).ok().map(|t| t.0), Some(raw.to_owned()));
    }

    #[test]
    fn description_keeps_newlines_and_tabs_verbatim() {
        let raw = "  line one\n\tline two\r\n";
        assert_eq!(
            Description::parse(raw).ok().and_then(|d| d.0),
            Some(raw.to_owned())
        );
    }

    #[test]
    fn description_with_nul_is_rejected() {
        assert!(Description::parse("a\u{0}b").is_err());
        assert!(Description::parse("a\u{1b}[31mred").is_err());
    }

    #[test]
    fn description_longer_than_2000_chars_is_rejected() {
        assert!(Description::parse(&"d".repeat(2000)).is_ok());
        assert!(Description::parse(&"d".repeat(2001)).is_err());
    }

    #[test]
    fn empty_description_means_none() {
        assert_eq!(Description::parse("").ok(), Some(Description::none()));
    }

    #[test]
    fn task_id_must_be_positive() {
        assert!(TaskId::parse(1).is_ok());
        assert!(TaskId::parse(i64::MAX).is_ok());
        for raw in [0, -1, i64::MIN] {
            assert!(TaskId::parse(raw).is_err());
        }
    }

    #[test]
    fn unknown_status_is_rejected_with_the_allowed_values() {
        assert_eq!(
            StatusFilter::parse("pending").ok(),
            Some(StatusFilter::Pending)
        );
        let message = StatusFilter::parse("done").err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("status must be \"all\", \"pending\" or \"completed\", got \"done\"")
        );
    }
}
