//! The rate limits' counter in Redis, shared by every gateway instance:
//! one Lua script per check (GCRA on Redis's clock, so instances' clocks
//! need not agree). While Redis does not answer, a check says so at once
//! instead of waiting each time, and Redis is tried again a little later.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::http::metrics::Metrics;
use crate::limit::decision::Decision;

/// Longest wait for Redis before the local limiter decides.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// After Redis failed, how long to decide locally before trying it again.
const REDIS_RETRY: Duration = Duration::from_secs(2);
/// GCRA on Redis's clock, in milliseconds. KEYS[1]: the user's key; ARGV[1]:
/// the emission interval (60 000 / per minute); ARGV[2]: the burst. Returns
/// {1, remaining} or {0, milliseconds to wait}.
const GCRA: &str = r"
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local allow_at = tat + emission - burst * emission
if now < allow_at then
  return {0, allow_at - now}
end
local new_tat = tat + emission
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((now - (new_tat - burst * emission)) / emission)}
";

/// A connection to Redis shared by the limits, with the "is it down" state
/// that makes a dead Redis cost one quick failure every few seconds instead
/// of a timeout per request.
pub struct RedisCounter {
    client: redis::Client,
    script: redis::Script,
    state: Mutex<RedisState>,
    metrics: Option<Arc<Metrics>>,
}

#[derive(Default)]
struct RedisState {
    connection: Option<redis::aio::MultiplexedConnection>,
    /// Set while Redis is failing: when to try it again.
    retry_at: Option<Instant>,
}

impl RedisCounter {
    /// Nothing is connected yet: the first check connects (a Redis that is
    /// down at start does not stop the gateway).
    pub fn new(url: &str, metrics: Option<Arc<Metrics>>) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            script: redis::Script::new(GCRA),
            state: Mutex::new(RedisState::default()),
            metrics,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, RedisState> {
        // A panic elsewhere while holding it leaves plain data behind.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Redis's decision, or None when Redis is not answering.
    pub(crate) async fn check(&self, key: &str, per_minute: u32) -> Option<Decision> {
        let existing = {
            let state = self.state();
            if state.retry_at.is_some_and(|at| Instant::now() < at) {
                return None;
            }
            state.connection.clone()
        };
        let work = async {
            let mut connection = match existing {
                Some(connection) => connection,
                None => {
                    let connection = self.client.get_multiplexed_async_connection().await?;
                    self.state().connection = Some(connection.clone());
                    connection
                }
            };
            let emission = 60_000u64.div_ceil(u64::from(per_minute));
            self.script
                .key(key)
                .arg(emission)
                .arg(per_minute)
                .invoke_async::<(i64, i64)>(&mut connection)
                .await
        };
        let outcome = match tokio::time::timeout(REDIS_TIMEOUT, work).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no answer within {REDIS_TIMEOUT:?}")),
        };
        match outcome {
            Ok((allowed, value)) => {
                if self.state().retry_at.take().is_some() {
                    tracing::info!("Redis answers again: rate limits hold across instances");
                }
                let value = u64::try_from(value).unwrap_or(0);
                Some(if allowed == 1 {
                    Decision::Allow {
                        remaining: u32::try_from(value).unwrap_or(u32::MAX),
                    }
                } else {
                    Decision::Deny {
                        retry_after: Duration::from_millis(value),
                    }
                })
            }
            Err(error) => {
                if let Some(metrics) = &self.metrics {
                    metrics.limiter_error();
                }
                let mut state = self.state();
                state.connection = None;
                if state.retry_at.is_none() {
                    tracing::warn!(%error, "Redis is unreachable: rate limits are per instance until it answers again");
                }
                state.retry_at = Some(Instant::now() + REDIS_RETRY);
                None
            }
        }
    }
}

impl crate::limit::decision::LimitBackendArgs {
    /// The shared counter these arguments name (None: count in memory), or
    /// why the Redis URL is refused.
    pub fn counter(
        &self,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Option<Arc<RedisCounter>>, redis::RedisError> {
        match self.rate_limit_backend {
            crate::limit::decision::Backend::Memory => Ok(None),
            crate::limit::decision::Backend::Redis => {
                Ok(Some(Arc::new(RedisCounter::new(&self.redis_url, metrics)?)))
            }
        }
    }
}
