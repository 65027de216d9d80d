//! Tags: short labels, compared case-insensitively (stored lower-case),
//! kept sorted, at most 20 per task.

use crate::error::{Error, Result};
use crate::zone::shorten;

pub const MAX_TAG_CHARS: usize = 40;
pub const MAX_TAGS: usize = 20;

/// One tag: trimmed, 1 to 40 characters, no control characters, lower-case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > MAX_TAG_CHARS {
            return Err(Error::invalid(
                field,
                format!(
                    "each tag in {field} must be 1 to {MAX_TAG_CHARS} characters after trimming, got {:?}",
                    shorten(raw)
                ),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Error::invalid(
                field,
                format!("tags in {field} must not contain control characters"),
            ));
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task's tags: sorted, no duplicates, at most [`MAX_TAGS`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<Tag>);

impl Tags {
    pub fn parse(field: &'static str, raw: &[String]) -> Result<Self> {
        let tags = raw
            .iter()
            .map(|t| Tag::parse(field, t))
            .collect::<Result<Vec<_>>>()?;
        Self::from_tags(field, tags)
    }

    fn from_tags(field: &'static str, mut tags: Vec<Tag>) -> Result<Self> {
        tags.sort();
        tags.dedup();
        if tags.len() > MAX_TAGS {
            return Err(Error::invalid(
                field,
                format!(
                    "a task has at most {MAX_TAGS} tags, this would give it {}",
                    tags.len()
                ),
            ));
        }
        Ok(Self(tags))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|t| t.0.clone()).collect()
    }

    /// As stored in the task's row: one tag per line.
    pub(crate) fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(Tag::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub(crate) fn from_stored(raw: &str) -> Self {
        Self(
            raw.split('\n')
                .filter(|t| !t.is_empty())
                .map(|t| Tag(t.to_owned()))
                .collect(),
        )
    }

    /// These tags with `add` added and `remove` removed (`field` names the
    /// argument blamed when the result has too many).
    pub fn edited(&self, add: &[Tag], remove: &[Tag]) -> Result<Self> {
        let tags = self
            .0
            .iter()
            .chain(add)
            .filter(|t| !remove.contains(t))
            .cloned()
            .collect();
        Self::from_tags("add_tags", tags)
    }
}

/// A list of tags a client named (filters, add_tags, remove_tags): 1 to 20.
pub fn parse_tag_list(field: &'static str, raw: &[String]) -> Result<Vec<Tag>> {
    if raw.is_empty() || raw.len() > MAX_TAGS {
        return Err(Error::invalid(
            field,
            format!("{field} must list 1 to {MAX_TAGS} tags, got {}", raw.len()),
        ));
    }
    let mut tags = raw
        .iter()
        .map(|t| Tag::parse(field, t))
        .collect::<Result<Vec<_>>>()?;
    tags.sort();
    tags.dedup();
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn tags_are_trimmed_lowercased_sorted_and_deduplicated() {
        let tags = Tags::parse("tags", &strings(&[" Work ", "home", "WORK", "Éclair"]));
        assert_eq!(
            tags.map(|t| t.names()).ok(),
            Some(strings(&["home", "work", "éclair"]))
        );
    }

    #[test]
    fn bad_tags_are_refused() {
        assert!(Tags::parse("tags", &strings(&[""])).is_err());
        assert!(Tags::parse("tags", &strings(&["a\nb"])).is_err());
        assert!(Tags::parse("tags", &strings(&[&"x".repeat(41)])).is_err());
        assert!(Tags::parse("tags", &strings(&[&"x".repeat(40)])).is_ok());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse("tags", &many).is_err());
        assert!(Tags::parse("tags", &many[..20]).is_ok());
    }

    #[test]
    fn edits_add_and_remove_without_resending() {
        let tags = Tags::parse("tags", &strings(&["a", "b"])).unwrap_or_default();
        let add = parse_tag_list("add_tags", &strings(&["C"])).unwrap_or_default();
        let remove = parse_tag_list("remove_tags", &strings(&["a"])).unwrap_or_default();
        assert_eq!(
            tags.edited(&add, &remove).map(|t| t.names()).ok(),
            Some(strings(&["b", "c"]))
        );
        assert_eq!(Tags::from_stored(&tags.to_stored()), tags);
        assert_eq!(Tags::from_stored(""), Tags::default());
    }
}
