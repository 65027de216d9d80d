//! What `list` is asked for: filters, a sort order, and the cursor that
//! continues a page under that order. Cursors are keyset positions (the
//! sort key and the id of the last task shown), so pages stay stable while
//! tasks are added or changed elsewhere.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::page::Limit;
use crate::task::due::DueBound;
use crate::task::input::StatusFilter;
use crate::task::priority::Priority;
use crate::task::search::SearchQuery;
use crate::task::tags::Tag;

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Newest first (the default).
    #[default]
    Created,
    /// Soonest due first; tasks without a due date last.
    Due,
    /// Highest priority first, then newest.
    Priority,
    /// Most recently changed first.
    Updated,
    /// Best search match first (title matches before description-only
    /// matches), then newest: the order of a search without `sort`.
    Relevance,
}

impl Sort {
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim() {
            "created" => Ok(Self::Created),
            "due" => Ok(Self::Due),
            "priority" => Ok(Self::Priority),
            "updated" => Ok(Self::Updated),
            other => Err(Error::invalid(
                "sort",
                format!(
                    "sort must be \"created\", \"due\", \"priority\" or \"updated\", got {:?}",
                    crate::zone::shorten(other)
                ),
            )),
        }
    }

    fn tag(self) -> char {
        match self {
            Self::Created => 't',
            Self::Due => 'd',
            Self::Priority => 'p',
            Self::Updated => 'u',
            Self::Relevance => 'r',
        }
    }
}

/// Which tasks to list. Every filter narrows: they combine with AND.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: StatusFilter,
    /// Due on or before (inclusive), in the caller's zone.
    pub due_before: Option<DueBound>,
    /// Due on or after (inclusive), in the caller's zone.
    pub due_after: Option<DueBound>,
    /// Not completed and due before now (whole days: before today).
    pub overdue: Option<DueBound>,
    /// At least this priority.
    pub min_priority: Option<Priority>,
    /// Any of these tags.
    pub tags: Vec<Tag>,
    pub query: Option<SearchQuery>,
}

/// One page request.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub filter: TaskFilter,
    pub sort: Sort,
    pub limit: Limit,
    pub cursor: Option<Cursor>,
}

/// An opaque pagination cursor: the position after the last task of the
/// previous page, under one sort order. Clients only pass back what `list`
/// gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub(crate) id: i64,
    pub(crate) key: CursorKey,
}

/// The sort key of the last task shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CursorKey {
    Created,
    Due(Option<String>),
    Priority(i32),
    Updated(DateTime<Utc>),
    Relevance(i32),
}

impl Cursor {
    /// `raw`, which must come from a listing with the same `sort`.
    pub fn parse(raw: &str, sort: Sort) -> Result<Self> {
        let invalid = || {
            Error::invalid(
                "cursor",
                "cursor is not valid: pass the next_cursor value of a previous list_tasks result with the same sort, or omit it for the first page",
            )
        };
        let rest = raw.strip_prefix(sort.tag()).ok_or_else(invalid)?;
        let (id, key) = match rest.split_once('~') {
            Some((id, key)) => (id, Some(key)),
            None => (rest, None),
        };
        let id = id
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(invalid)?;
        let key = match (sort, key) {
            (Sort::Created, None) => CursorKey::Created,
            (Sort::Due, key) => CursorKey::Due(key.map(str::to_owned)),
            (Sort::Priority, Some(key)) => CursorKey::Priority(key.parse().map_err(|_| invalid())?),
            (Sort::Relevance, Some(key)) => {
                CursorKey::Relevance(key.parse().map_err(|_| invalid())?)
            }
            (Sort::Updated, Some(key)) => key
                .parse::<i64>()
                .ok()
                .and_then(DateTime::from_timestamp_micros)
                .map(CursorKey::Updated)
                .ok_or_else(invalid)?,
            _ => return Err(invalid()),
        };
        Ok(Self { id, key })
    }

    pub fn encode(&self) -> String {
        let (tag, key) = match &self.key {
            CursorKey::Created => ('t', None),
            CursorKey::Due(key) => ('d', key.clone()),
            CursorKey::Priority(rank) => ('p', Some(rank.to_string())),
            CursorKey::Updated(at) => ('u', Some(at.timestamp_micros().to_string())),
            CursorKey::Relevance(tier) => ('r', Some(tier.to_string())),
        };
        match key {
            Some(key) => format!("{tag}{}~{key}", self.id),
            None => format!("{tag}{}", self.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_under_their_own_sort_only() {
        let cases = [
            (Sort::Created, "t42"),
            (Sort::Due, "d42~2026-12-24"),
            (Sort::Due, "d42"),
            (Sort::Priority, "p42~3"),
            (Sort::Updated, "u42~1700000000123456"),
            (Sort::Relevance, "r42~1"),
        ];
        for (sort, raw) in cases {
            let cursor = Cursor::parse(raw, sort);
            assert_eq!(cursor.map(|c| c.encode()).ok().as_deref(), Some(raw));
            assert!(Cursor::parse(raw, Sort::Created).is_ok() == (sort == Sort::Created));
        }
        for raw in [
            "", "42", "t", "t-1", "t0", "tabc", "x42", "t42~1", "p42", "u42~x",
        ] {
            assert!(
                Cursor::parse(raw, Sort::Created).is_err() || raw == "t42",
                "{raw:?}"
            );
            assert!(Cursor::parse(raw, Sort::Priority).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn unknown_sorts_name_the_accepted_ones() {
        let message = Sort::parse("alphabetical").err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some(
                "sort must be \"created\", \"due\", \"priority\" or \"updated\", got \"alphabetical\""
            )
        );
    }
}
