//! Time as the domain keeps it: UTC, at the precision both databases store
//! (microseconds), shown as RFC 3339.

use chrono::{DateTime, SecondsFormat, Utc};

/// Timestamps in every output: UTC, RFC 3339, microseconds, `Z`.
pub fn format_timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The current time, for callers outside the domain ("overdue" bounds).
pub fn now_utc() -> DateTime<Utc> {
    now()
}

/// The current time at the precision both databases keep (microseconds), so
/// what a write returns equals what a later read returns.
pub(crate) fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_z() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456);
        assert_eq!(
            at.map(|at| format_timestamp(&at)).as_deref(),
            Some("2023-11-14T22:13:20.123456Z")
        );
    }
}
