//! Repeating tasks: an RFC 5545 RRULE, parsed and expanded by the `rrule`
//! crate. We only choose which parts we accept and where the series starts.

use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use rrule::{RRule, Tz, Unvalidated};

use crate::error::{Error, Result};
use crate::task::due::Due;
use crate::zone::{Zone, shorten};

const MAX_RULE_CHARS: usize = 200;
const PARTS: [&str; 7] = [
    "FREQ",
    "INTERVAL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "COUNT",
    "UNTIL",
];
const FREQUENCIES: [&str; 4] = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"];
const FORM: &str = "recurrence must be an RRULE like FREQ=MONTHLY;BYMONTHDAY=1 or FREQ=WEEKLY;BYDAY=MO,TH \
     (FREQ DAILY, WEEKLY, MONTHLY or YEARLY, with INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, COUNT or UNTIL)";

/// A repeat rule, checked against the due it starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence(String);

impl Recurrence {
    /// `raw` (with or without `RRULE:`), for a series that starts at `start`.
    pub fn parse(raw: &str, start: Option<&Due>) -> Result<Self> {
        let rule = raw.trim();
        let rule = rule
            .strip_prefix("RRULE:")
            .unwrap_or(rule)
            .to_ascii_uppercase();
        let refuse = |why: String| Error::invalid("recurrence", format!("{FORM}; {why}"));
        if rule.chars().count() > MAX_RULE_CHARS {
            return Err(refuse(format!("got {} characters", rule.chars().count())));
        }
        let Some(start) = start else {
            return Err(Error::invalid(
                "recurrence",
                "recurrence needs a due date to start from: give due too (e.g. due 2026-12-01 with FREQ=MONTHLY;BYMONTHDAY=1)",
            ));
        };
        let mut frequency = None;
        for part in rule.split(';') {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            if !PARTS.contains(&name) {
                return Err(refuse(format!("{:?} is not supported", shorten(name))));
            }
            if name == "FREQ" {
                frequency = Some(value);
            }
        }
        match frequency {
            Some(f) if FREQUENCIES.contains(&f) => {}
            Some(f) => return Err(refuse(format!("FREQ={} is not supported", shorten(f)))),
            None => return Err(refuse("FREQ is missing".to_owned())),
        }
        let recurrence = Self(rule);
        recurrence
            .series(start, Zone::UTC)
            .map_err(|error| refuse(error.to_string()))?;
        Ok(recurrence)
    }

    /// What was stored, read back.
    pub(crate) fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn counted(&self) -> bool {
        self.0.split(';').any(|part| part.starts_with("COUNT="))
    }

    /// The first occurrence after `current`, for a series that started at
    /// `start`; `None` when the rule has ended (COUNT or UNTIL reached).
    /// Timed dues repeat at the same wall-clock time in `zone` when their
    /// offset is the zone's, else at the same offset.
    pub fn next_after(&self, start: &Due, current: &Due, zone: Zone) -> Option<Due> {
        // A series without COUNT repeats the same way from any of its
        // occurrences, so expand from the current one (a few steps) rather
        // than from a start years ago.
        let from = if self.counted() { start } else { current };
        let (set, frame) = self.series(from, zone).ok()?;
        let current_at = frame.instant(current);
        let result = set.after(current_at).all(3);
        let next = result.dates.into_iter().find(|at| *at > current_at)?;
        // Dues stay within the years 1970 to 9999: past them, the series ends.
        Some(frame.due(next)).filter(|due| due.in_range())
    }

    fn series(
        &self,
        start: &Due,
        zone: Zone,
    ) -> Result<(rrule::RRuleSet, Frame), rrule::RRuleError> {
        let frame = Frame::for_due(start, zone);
        let rule: RRule<Unvalidated> = frame.until_as_instant(&self.0).parse()?;
        let set = rule.build(frame.instant(start))?;
        Ok((set, frame))
    }
}

/// How a due maps to the crate's zoned date-times and back.
enum Frame {
    /// A whole day: midnight UTC, read back as its date.
    Day,
    /// An IANA zone whose offset the due had.
    Zone(chrono_tz::Tz),
    /// A fixed offset: wall-clock time expanded as UTC, given the offset back.
    Offset(FixedOffset),
}

impl Frame {
    fn for_due(due: &Due, zone: Zone) -> Self {
        match due {
            Due::Day(_) => Self::Day,
            Due::At(at) => {
                let in_zone = at.with_timezone(&zone.tz()).offset().fix();
                if in_zone == *at.offset() {
                    Self::Zone(zone.tz())
                } else {
                    Self::Offset(*at.offset())
                }
            }
        }
    }

    /// `rule` with a date-only `UNTIL=20270401` (the usual form for a
    /// series of whole days) written as the last second of that day in this
    /// frame, in UTC: the crate wants UNTIL in UTC when the start is zoned.
    fn until_as_instant(&self, rule: &str) -> String {
        rule.split(';')
            .map(|part| {
                let day = part
                    .strip_prefix("UNTIL=")
                    .filter(|v| v.len() == 8)
                    .and_then(|v| chrono::NaiveDate::parse_from_str(v, "%Y%m%d").ok());
                let Some(day) = day else {
                    return part.to_owned();
                };
                let last = day.and_hms_opt(23, 59, 59).unwrap_or_default();
                let until = match self {
                    Self::Zone(tz) => Zone::from_tz(*tz).end_of(day).naive_utc(),
                    Self::Day | Self::Offset(_) => last,
                };
                format!("UNTIL={}", until.format("%Y%m%dT%H%M%SZ"))
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    fn instant(&self, due: &Due) -> DateTime<Tz> {
        let naive: NaiveDateTime = match due {
            Due::Day(day) => day.and_time(NaiveTime::MIN),
            Due::At(at) => at.naive_local(),
        };
        match self {
            Self::Zone(tz) => match due {
                Due::At(at) => at.with_timezone(&Tz::Tz(*tz)),
                Due::Day(_) => Tz::UTC.from_utc_datetime(&naive),
            },
            Self::Day | Self::Offset(_) => Tz::UTC.from_utc_datetime(&naive),
        }
    }

    fn due(&self, at: DateTime<Tz>) -> Due {
        match self {
            Self::Day => Due::Day(at.date_naive()),
            Self::Zone(_) => Due::At(at.fixed_offset()),
            Self::Offset(offset) => {
                let naive = at.with_timezone(&Utc).naive_utc();
                match offset.from_local_datetime(&naive).single() {
                    Some(local) => Due::At(local),
                    None => Due::At(at.fixed_offset()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(raw: &str) -> Option<Due> {
        Due::parse("due", raw).ok()
    }

    /// The dues a task gets when completed `times` times.
    fn series(rule: &str, start: &str, times: usize) -> Vec<String> {
        let (Some(start), Ok(rule)) = (due(start), Recurrence::parse(rule, due(start).as_ref()))
        else {
            return vec!["invalid".into()];
        };
        let zone = Zone::parse("Europe/Paris").unwrap_or_default();
        let mut current = start;
        let mut dues = Vec::new();
        for _ in 0..times {
            match rule.next_after(&start, &current, zone) {
                Some(next) => {
                    dues.push(next.to_text());
                    current = next;
                }
                None => dues.push("ended".into()),
            }
        }
        dues
    }

    #[test]
    fn monthly_on_the_31st_skips_short_months() {
        assert_eq!(
            series("FREQ=MONTHLY;BYMONTHDAY=31", "2026-12-31", 3),
            ["2027-01-31", "2027-03-31", "2027-05-31"]
        );
    }

    #[test]
    fn weekly_on_two_weekdays_keeps_the_local_time_across_daylight_saving() {
        assert_eq!(
            series("FREQ=WEEKLY;BYDAY=MO,TH", "2027-03-25T09:00:00+01:00", 3),
            [
                "2027-03-29T09:00:00+02:00",
                "2027-04-01T09:00:00+02:00",
                "2027-04-05T09:00:00+02:00"
            ]
        );
    }

    #[test]
    fn count_ends_the_series() {
        assert_eq!(
            series("FREQ=DAILY;COUNT=2", "2026-12-01", 2),
            ["2026-12-02", "ended"]
        );
    }

    #[test]
    fn rules_we_do_not_take_are_refused_with_the_accepted_form() {
        let start = due("2026-12-01");
        for rule in [
            "FREQ=HOURLY",
            "FREQ=DAILY;BYHOUR=9",
            "every monday",
            "",
            "FREQ=WEEKLY;BYDAY=XX",
        ] {
            let message = Recurrence::parse(rule, start.as_ref())
                .err()
                .map(|e| e.to_string());
            assert!(
                message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("recurrence must be an RRULE")),
                "{rule:?}: {message:?}"
            );
        }
        let message = Recurrence::parse("FREQ=DAILY", None)
            .err()
            .map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("needs a due date")));
    }

    fn next(rule: &str, due: &str, zone: &str) -> Result<Option<String>, String> {
        let due = Due::parse("due", due).map_err(|e| e.to_string())?;
        let rule = Recurrence::parse(rule, Some(&due)).map_err(|e| e.to_string())?;
        let zone = Zone::parse(zone).map_err(|e| e.to_string())?;
        Ok(rule.next_after(&due, &due, zone).map(|d| d.to_text()))
    }

    #[test]
    fn until_in_every_form_works_in_every_frame() {
        for (rule, due, zone) in [
            ("FREQ=DAILY;UNTIL=20270401", "2027-03-25", "Europe/Paris"),
            (
                "FREQ=DAILY;UNTIL=20270401T000000Z",
                "2027-03-25",
                "Europe/Paris",
            ),
            (
                "FREQ=DAILY;UNTIL=20270401",
                "2027-03-25T09:00:00+01:00",
                "Europe/Paris",
            ),
            (
                "FREQ=DAILY;UNTIL=20270401T000000Z",
                "2027-03-25T09:00:00+01:00",
                "Europe/Paris",
            ),
            (
                "FREQ=DAILY;UNTIL=20270401T000000Z",
                "2027-03-25T09:00:00+05:00",
                "Europe/Paris",
            ),
            (
                "FREQ=DAILY;UNTIL=20270401T000000Z",
                "2027-03-25T09:00:00Z",
                "UTC",
            ),
        ] {
            let next = next(rule, due, zone);
            assert!(matches!(next, Ok(Some(_))), "{rule} {due} {zone}: {next:?}");
        }
        // UNTIL ends the series on its day, inclusive.
        assert_eq!(
            next("FREQ=DAILY;UNTIL=20270326", "2027-03-25", "UTC"),
            Ok(Some("2027-03-26".into()))
        );
        assert_eq!(
            next("FREQ=DAILY;UNTIL=20270325", "2027-03-25", "UTC"),
            Ok(None)
        );
        assert_eq!(
            next(
                "FREQ=DAILY;UNTIL=20270326",
                "2027-03-25T23:30:00+01:00",
                "Europe/Paris"
            ),
            Ok(Some("2027-03-26T23:30:00+01:00".into()))
        );
    }

    #[test]
    fn a_rule_that_never_occurs_again_completes_the_task() {
        // February 30th: the crate gives up after its iteration limit
        // (about 12 ms in a release build), and the task completes.
        let due = Due::parse("due", "2026-12-01").ok();
        let rule = Recurrence::parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", due.as_ref());
        let next = rule
            .ok()
            .zip(due)
            .and_then(|(r, d)| r.next_after(&d, &d, Zone::UTC));
        assert_eq!(next, None);
        // The last day there is: no year 10000.
        let (due, last) = (
            Due::parse("due", "2026-12-01").ok(),
            Due::parse("due", "9999-12-31").ok(),
        );
        let rule = Recurrence::parse("FREQ=DAILY", due.as_ref());
        let next = rule
            .ok()
            .zip(due.zip(last))
            .and_then(|(r, (d, l))| r.next_after(&d, &l, Zone::UTC));
        assert_eq!(next, None);
    }
}
