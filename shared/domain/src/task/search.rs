//! Full-text search over title and description: word-based, case- and
//! accent-insensitive. Text is folded here, once, the same way for both
//! databases (lower-case, accents stripped, split into words), and each
//! database indexes the folded words: SQLite with FTS5, PostgreSQL with a
//! `tsvector` and a GIN index.
//!
//! Every indexed word carries its owner's [`scope`] as a prefix
//! (`u3f9a0c21d7` + `milk`), so that a search looks up that user's words
//! only: the index's posting lists are per user, and one user's thousands
//! of "milk"s cost another user's search nothing. The scope only narrows
//! the lookup; every query still filters on `user_id`.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::error::{Error, Result};
use crate::user::UserId;

const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_WORDS: usize = 10;

/// The prefix of `user`'s indexed words: `u` and 10 hex digits of a
/// stable hash (FNV-1a) of the user id. Stable across processes and
/// releases, since it is stored.
pub fn scope(user: &UserId) -> String {
    let hash = user
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("u{:010x}", hash >> 24)
}

/// `text` as the indexes see it: its words, folded, each with `scope` in
/// front, separated by spaces.
pub fn fold(scope: &str, text: &str) -> String {
    let mut folded = String::with_capacity(text.len() * 2);
    for word in words(text) {
        if !folded.is_empty() {
            folded.push(' ');
        }
        folded.push_str(scope);
        folded.push_str(&word);
    }
    folded
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

    /// FTS5: every word of `scope` as a prefix, optionally in one column
    /// only.
    pub(crate) fn fts5(&self, scope: &str, column: Option<&str>) -> String {
        let terms = self
            .0
            .iter()
            .map(|w| format!("\"{scope}{w}\"*"))
            .collect::<Vec<_>>()
            .join(" AND ");
        match column {
            Some(column) => format!("{{{column}}} : ({terms})"),
            None => terms,
        }
    }

    /// PostgreSQL `to_tsquery('simple', …)`: every word of `scope` as a
    /// prefix, optionally only among the title's words (weight A).
    pub(crate) fn tsquery(&self, scope: &str, title_only: bool) -> String {
        let weight = if title_only { "A" } else { "" };
        self.0
            .iter()
            .map(|w| format!("{scope}{w}:*{weight}"))
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
            fold("", "Crème BRÛLÉE, for José's party!"),
            "creme brulee for jose s party"
        );
        assert_eq!(fold("", "ﬁle №5"), "file no5");
        assert_eq!(fold("u1", "  "), "");
        assert_eq!(fold("u1", "Buy milk"), "u1buy u1milk");
    }

    #[test]
    fn scopes_are_stable_and_differ_between_users() {
        let scope_of = |id: &str| UserId::parse(id).map(|u| scope(&u)).unwrap_or_default();
        assert_eq!(scope_of("alice"), scope_of("alice"));
        assert_ne!(scope_of("alice"), scope_of("bob"));
        assert_eq!(scope_of("alice").len(), 11);
        assert!(scope_of("alice").chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn queries_are_words_only_so_they_cannot_inject_syntax() {
        let query = SearchQuery::parse("Crème \"OR\" * NEAR(").ok();
        assert_eq!(
            query.as_ref().map(|q| q.fts5("u1", None)).as_deref(),
            Some("\"u1creme\"* AND \"u1or\"* AND \"u1near\"*")
        );
        assert_eq!(
            query.map(|q| q.tsquery("u1", true)).as_deref(),
            Some("u1creme:*A & u1or:*A & u1near:*A")
        );
        assert!(SearchQuery::parse("  !!! ").is_err());
        assert!(SearchQuery::parse(&"word ".repeat(11)).is_err());
    }
}
