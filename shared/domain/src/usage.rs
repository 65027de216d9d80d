//! How many model tokens a user's turns used per UTC day: what the gateway's
//! daily budget counts. Days are UTC, so that every instance agrees on when
//! a budget starts again.

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::error::Result;
use crate::store::Store;
use crate::user::UserId;

/// The UTC day of `now`, as stored (YYYY-MM-DD).
pub fn day(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%d").to_string()
}

/// How long from `now` until the next UTC day begins.
pub fn until_tomorrow(now: DateTime<Utc>) -> std::time::Duration {
    let tomorrow = (now + Duration::days(1))
        .date_naive()
        .and_time(NaiveTime::MIN)
        .and_utc();
    (tomorrow - now).to_std().unwrap_or_default()
}

/// Tokens `user` used on the UTC day of `now`.
pub async fn used_today(store: &Store, user: &UserId, now: DateTime<Utc>) -> Result<u64> {
    let used = store.tokens_used(user, &day(now)).await?;
    Ok(u64::try_from(used).unwrap_or(0))
}

/// Count `tokens` more for `user` on the UTC day of `now`.
pub async fn record(store: &Store, user: &UserId, now: DateTime<Utc>, tokens: u64) -> Result<()> {
    if tokens == 0 {
        return Ok(());
    }
    let tokens = i64::try_from(tokens).unwrap_or(i64::MAX);
    store.add_tokens(user, &day(now), tokens).await?;
    Ok(())
}

/// Forget usage older than `keep_days` before `now`; how many rows went.
pub async fn purge(store: &Store, now: DateTime<Utc>, keep_days: i64) -> Result<u64> {
    Ok(store
        .purge_tokens_before(&day(now - Duration::days(keep_days)))
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_and_end_at_midnight() {
        let now = DateTime::parse_from_rfc3339("2026-12-05T23:59:30+00:00")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(day(now), "2026-12-05");
        assert_eq!(until_tomorrow(now), std::time::Duration::from_secs(30));
    }
}
