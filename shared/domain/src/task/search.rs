//! Full-text search over title and description: word-based, case- and
//! accent-insensitive. Text is folded here, once, the same way for both
//! databases (lower-case, accents stripped, split into words), and each
//! database indexes the folded words: SQLite with FTS5, PostgreSQL with a
//! `tsvector` and a GIN index.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::error::{Error, Result};

const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_WORDS: usize = 10;

/// `text` as the indexes see it: its words, folded, separated by spaces.
pub fn fold(text: &str) -> String {
    words(text).join(" ")
}

fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What a client searched for: 1 to 10 folded words, every one of which a
/// task must contain (as a word or the start of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(Vec<String>);

impl SearchQuery {
    pub fn parse(raw: &str) -> Result<Self> {
        let chars = raw.chars().count();
        let words = words(raw);
        if chars > MAX_QUERY_CHARS || words.is_empty() || words.len() > MAX_QUERY_WORDS {
            return Err(Error::invalid(
                "query",
                format!(
                    "query must be 1 to {MAX_QUERY_WORDS} words (letters or digits), at most {MAX_QUERY_CHARS} characters"
                ),
            ));
        }
        Ok(Self(words))
    }

    /// FTS5: every word as a prefix, optionally in one column only.
    pub(crate) fn fts5(&self, column: Option<&str>) -> String {
        let terms = self
            .0
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" AND ");
        match column {
            Some(column) => format!("{{{column}}} : ({terms})"),
            None => terms,
        }
    }

    /// PostgreSQL `to_tsquery('simple', …)`: every word as a prefix,
    /// optionally only among the title's words (weight A).
    pub(crate) fn tsquery(&self, title_only: bool) -> String {
        let weight = if title_only { "A" } else { "" };
        self.0
            .iter()
            .map(|w| format!("{w}:*{weight}"))
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_folded_to_plain_lower_case_words() {
        assert_eq!(
            fold("Crème BRÛLÉE, for José's party!"),
            "creme brulee for jose s party"
        );
        assert_eq!(fold("ﬁle №5"), "file no5");
        assert_eq!(fold("  "), "");
    }

    #[test]
    fn queries_are_words_only_so_they_cannot_inject_syntax() {
        let query = SearchQuery::parse("Crème \"OR\" * NEAR(").ok();
        assert_eq!(
            query.as_ref().map(|q| q.fts5(None)).as_deref(),
            Some("\"creme\"* AND \"or\"* AND \"near\"*")
        );
        assert_eq!(
            query.map(|q| q.tsquery(true)).as_deref(),
            Some("creme:*A & or:*A & near:*A")
        );
        assert!(SearchQuery::parse("  !!! ").is_err());
        assert!(SearchQuery::parse(&"word ".repeat(11)).is_err());
    }
}
