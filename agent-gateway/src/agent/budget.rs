//! The per-user daily budget of model tokens, counted from the usage the
//! model reports and kept in the database (so every instance counts the
//! same): a turn of a user who spent it is refused before anything is
//! stored (429 with `Retry-After` until the next UTC day), and a turn that
//! spends it stops before its next model call.

use std::time::Duration;

use todo_domain::UserId;
use todo_domain::usage;

use crate::agent::report::TurnError;
use crate::agent::turn::Agent;

/// The message that ends a turn that spent the day's budget.
pub const BUDGET_MESSAGE: &str = "I had to stop before finishing: you have used today's budget of \
model tokens. It starts again at midnight UTC; please check your tasks and tell me then what is \
still to be done.";

/// How often the days past are forgotten, and how many days are kept.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
const KEEP_DAYS: i64 = 2;

impl Agent {
    /// Tokens `user` may still use today (None when there is no budget), or
    /// [`TurnError::BudgetSpent`].
    pub(crate) async fn budget_left(&self, user: &UserId) -> Result<Option<u64>, TurnError> {
        let Some(budget) = self.config.daily_tokens else {
            return Ok(None);
        };
        let now = chrono::Utc::now();
        let used = usage::used_today(&self.store, user, now).await?;
        if used >= budget {
            if let Some(metrics) = self.capacity.metrics() {
                metrics.rate_limited("token_budget");
            }
            return Err(TurnError::BudgetSpent {
                budget,
                retry_after: usage::until_tomorrow(now),
            });
        }
        Ok(Some(budget - used))
    }

    /// Count what a turn used (when there is a budget). A failure to count
    /// is logged, never the turn's failure.
    pub(crate) async fn record_tokens(&self, user: &UserId, tokens: u64) {
        if self.config.daily_tokens.is_none() || tokens == 0 {
            return;
        }
        if let Err(error) = usage::record(&self.store, user, chrono::Utc::now(), tokens).await {
            tracing::warn!(%error, user = %user, tokens, "cannot count a turn's model tokens");
        }
    }

    /// Forget past days' usage every hour, while the agent lives.
    pub fn spawn_usage_purge(&self) {
        if self.config.daily_tokens.is_none() {
            return;
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PURGE_EVERY);
            loop {
                every.tick().await;
                match usage::purge(&store, chrono::Utc::now(), KEEP_DAYS).await {
                    Ok(0) => {}
                    Ok(rows) => tracing::debug!(rows, "forgot past days' token usage"),
                    Err(error) => tracing::warn!(%error, "cannot forget past days' token usage"),
                }
            }
        });
    }
}
