//! The caller's time zone, an IANA name: where "today", "overdue" and a
//! date-only bound are evaluated. The server never assumes UTC for a user
//! whose zone it knows.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::error::{Error, Result};

/// An IANA time zone (`Europe/Paris`, `Pacific/Auckland`, `UTC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(chrono_tz::Tz);

impl Default for Zone {
    fn default() -> Self {
        Self::UTC
    }
}

impl Zone {
    pub const UTC: Self = Self(chrono_tz::Tz::UTC);

    pub fn parse(raw: &str) -> Result<Self> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            Error::invalid(
                "timezone",
                format!(
                    "timezone must be an IANA time zone name like Europe/Paris or America/New_York, got {:?}",
                    shorten(raw)
                ),
            )
        })
    }

    /// The machine's own zone, or UTC when it cannot be told.
    pub fn local() -> Self {
        iana_time_zone::get_timezone()
            .ok()
            .and_then(|name| Self::parse(&name).ok())
            .unwrap_or(Self::UTC)
    }

    /// Every zone name this server knows (the IANA database it was built
    /// with).
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub(crate) fn from_tz(tz: chrono_tz::Tz) -> Self {
        Self(tz)
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The calendar date at `at` in this zone.
    pub fn date_at(self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// The first instant of `day` in this zone. Where a clock change skips
    /// midnight, the day starts at the first hour that exists.
    pub fn start_of(self, day: NaiveDate) -> DateTime<Utc> {
        (0..=3)
            .find_map(|hour| {
                let time = NaiveTime::from_hms_opt(hour, 0, 0)?;
                self.0
                    .from_local_datetime(&day.and_time(time))
                    .earliest()
                    .map(|at| at.with_timezone(&Utc))
            })
            .unwrap_or_else(|| day.and_time(NaiveTime::MIN).and_utc())
    }

    /// The last second of `day` in this zone (inclusive upper bounds).
    pub fn end_of(self, day: NaiveDate) -> DateTime<Utc> {
        match day.checked_add_days(Days::new(1)) {
            Some(next) => self.start_of(next) - chrono::Duration::seconds(1),
            None => DateTime::<Utc>::MAX_UTC,
        }
    }
}

/// At most 64 characters of what a client sent, for an error message.
pub(crate) fn shorten(raw: &str) -> String {
    let mut short: String = raw.chars().take(64).collect();
    if short.len() < raw.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_parse_and_garbage_does_not() {
        assert_eq!(
            Zone::parse("Europe/Paris").ok().map(Zone::name),
            Some("Europe/Paris")
        );
        for raw in ["", "Mars/Olympus", "+01:00", "tomorrow"] {
            let message = Zone::parse(raw).err().map(|e| e.to_string());
            assert!(
                message.is_some_and(|m| m.starts_with("timezone must be an IANA")),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_same_instant_is_a_different_date_in_auckland_and_los_angeles() {
        let at = DateTime::parse_from_rfc3339("2026-12-03T20:00:00Z")
            .map(|at| at.with_timezone(&Utc))
            .ok();
        let dates = at.map(|at| {
            (
                Zone::parse("Pacific/Auckland").map(|z| z.date_at(at)).ok(),
                Zone::parse("America/Los_Angeles")
                    .map(|z| z.date_at(at))
                    .ok(),
            )
        });
        assert_eq!(
            dates,
            Some((
                NaiveDate::from_ymd_opt(2026, 12, 4),
                NaiveDate::from_ymd_opt(2026, 12, 3)
            ))
        );
    }

    #[test]
    fn a_day_starts_and_ends_in_the_zone() {
        let paris = Zone::parse("Europe/Paris").ok();
        let day = NaiveDate::from_ymd_opt(2026, 12, 24);
        let bounds = paris
            .zip(day)
            .map(|(z, d)| (z.start_of(d).to_rfc3339(), z.end_of(d).to_rfc3339()));
        assert_eq!(
            bounds,
            Some((
                "2026-12-23T23:00:00+00:00".to_owned(),
                "2026-12-24T22:59:59+00:00".to_owned()
            ))
        );
    }
}
