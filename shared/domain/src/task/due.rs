//! When a task is due: a whole day (`2026-12-24`), which stays a date and is
//! never turned into midnight UTC, or an instant with its offset
//! (`2026-12-24T09:00:00+01:00`). And the bounds `list` filters on, which
//! are evaluated in the caller's zone.

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, SecondsFormat, Utc};

use crate::error::{Error, Result};
use crate::zone::{Zone, shorten};

/// A due date or date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Day(NaiveDate),
    At(DateTime<FixedOffset>),
}

impl Due {
    /// `field` names the argument in the error (`due`, `due_before`, …).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let raw = raw.trim();
        let due = if raw.len() == 10 {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .map(Self::Day)
        } else {
            DateTime::parse_from_rfc3339(raw).ok().map(Self::At)
        };
        match due {
            Some(due) if due.in_range() => Ok(due),
            Some(_) => Err(Error::invalid(
                field,
                format!(
                    "{field} must be in the years 1970 to 9999, got {:?}",
                    shorten(raw)
                ),
            )),
            None => Err(Error::invalid(
                field,
                format!(
                    "{field} must be a date like 2026-12-24 or a date-time with offset like 2026-12-24T09:00:00+01:00, got {:?}",
                    shorten(raw)
                ),
            )),
        }
    }

    /// What was stored, read back. `None` for text that is not a due.
    pub(crate) fn from_stored(raw: &str) -> Option<Self> {
        Self::parse("due", raw).ok()
    }

    /// Within the years a due may have (1970 to 9999)?
    pub(crate) fn in_range(&self) -> bool {
        (1970..=9999).contains(&self.year())
    }

    fn year(&self) -> i32 {
        match self {
            Self::Day(day) => day.year(),
            Self::At(at) => at.year(),
        }
    }

    /// As clients see it: the date, or the date-time with its offset (`Z`
    /// for UTC).
    pub fn to_text(&self) -> String {
        match self {
            Self::Day(day) => day.format("%Y-%m-%d").to_string(),
            Self::At(at) => at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        }
    }

    /// The stored sort key: the date (`2026-12-24`), or the instant in UTC
    /// to the second (`2026-12-24T08:00:00Z`). Keys compare as text, and a
    /// day sorts before the instants of the same (UTC) date.
    pub fn key(&self) -> String {
        match self {
            Self::Day(day) => day.format("%Y-%m-%d").to_string(),
            Self::At(at) => instant_key(at.with_timezone(&Utc)),
        }
    }
}

/// An instant as a due sort key.
pub(crate) fn instant_key(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An inclusive bound on due dates, as `list` applies it: whole-day dues
/// against `day`, timed dues against `instant`. Both come from one bound the
/// client gave, read in the caller's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueBound {
    pub day: String,
    pub instant: String,
}

impl DueBound {
    /// `due_before`: inclusive. A date includes that whole day in the
    /// caller's zone; an instant includes the days that have begun by then.
    pub fn before(bound: Due, zone: Zone) -> Self {
        match bound {
            Due::Day(day) => Self::new(day, zone.end_of(day)),
            Due::At(at) => {
                let at = at.with_timezone(&Utc);
                Self::new(zone.date_at(at), at)
            }
        }
    }

    /// `due_after`: inclusive. A date includes that whole day in the
    /// caller's zone; an instant includes the day it falls on.
    pub fn after(bound: Due, zone: Zone) -> Self {
        match bound {
            Due::Day(day) => Self::new(day, zone.start_of(day)),
            Due::At(at) => {
                let at = at.with_timezone(&Utc);
                Self::new(zone.date_at(at), at)
            }
        }
    }

    /// Overdue: a whole-day due before today in the caller's zone, a timed
    /// due before now.
    pub fn overdue(now: DateTime<Utc>, zone: Zone) -> Self {
        let today = zone.date_at(now);
        let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
        Self::new(yesterday, now - chrono::Duration::seconds(1))
    }

    fn new(day: NaiveDate, instant: DateTime<Utc>) -> Self {
        Self {
            day: day.format("%Y-%m-%d").to_string(),
            instant: instant_key(instant),
        }
    }

    /// The looser of the two keys as an upper bound (for the index range).
    pub fn upper(&self) -> &str {
        self.day.as_str().max(self.instant.as_str())
    }

    /// The looser of the two keys as a lower bound.
    pub fn lower(&self) -> &str {
        self.day.as_str().min(self.instant.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(raw: &str) -> Option<Due> {
        Due::parse("due", raw).ok()
    }

    #[test]
    fn a_date_stays_a_date_and_a_date_time_keeps_its_offset() {
        assert_eq!(
            due("2026-12-24").map(|d| d.to_text()).as_deref(),
            Some("2026-12-24")
        );
        assert_eq!(
            due("2026-12-24T09:00:00+01:00")
                .map(|d| d.to_text())
                .as_deref(),
            Some("2026-12-24T09:00:00+01:00")
        );
        assert_eq!(
            due("2026-12-24T09:00:00+01:00").map(|d| d.key()).as_deref(),
            Some("2026-12-24T08:00:00Z")
        );
        assert_eq!(
            due("2026-12-24T08:00:00Z").map(|d| d.to_text()).as_deref(),
            Some("2026-12-24T08:00:00Z")
        );
    }

    #[test]
    fn bad_dues_name_the_accepted_forms() {
        for raw in [
            "tomorrow",
            "2026-13-01",
            "2026-02-30",
            "24/12/2026",
            "2026-12-24T09:00:00",
            "2026-1-5",
        ] {
            let message = Due::parse("due", raw).err().map(|e| e.to_string());
            assert!(
                message.as_deref().is_some_and(|m| m.starts_with(
                    "due must be a date like 2026-12-24 or a date-time with offset like 2026-12-24T09:00:00+01:00"
                )),
                "{raw:?}: {message:?}"
            );
        }
        for raw in ["1969-12-31", "0001-01-01"] {
            let message = Due::parse("due", raw).err().map(|e| e.to_string());
            assert!(message.is_some_and(|m| m.contains("1970 to 9999")), "{raw}");
        }
    }

    #[test]
    fn a_date_bound_covers_the_whole_day_in_the_callers_zone() {
        let paris = Zone::parse("Europe/Paris").unwrap_or_default();
        let bound = due("2026-12-24").map(|d| DueBound::before(d, paris));
        assert_eq!(
            bound,
            Some(DueBound {
                day: "2026-12-24".into(),
                instant: "2026-12-24T22:59:59Z".into()
            })
        );
        let bound = due("2026-12-24").map(|d| DueBound::after(d, paris));
        assert_eq!(
            bound.map(|b| b.instant),
            Some("2026-12-23T23:00:00Z".into())
        );
    }
}
