//! Per-user rate limits: N requests a minute, in a burst of as many (GCRA).
//!
//! The in-memory limiter counts per gateway instance. With Redis, every
//! instance checks one shared counter per user and limit, so the limit holds
//! however a load balancer spreads the requests. The check is one Lua script
//! (the same GCRA, on Redis's clock, so instances' clocks need not agree).
//! When Redis does not answer within a moment, the instance decides with its
//! in-memory limiter, logs that once, and tries Redis again a little later:
//! the gateway keeps serving, with per-instance limits meanwhile.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde_json::json;
use todo_shared::UserId;
use tokio::time::Instant;

use crate::metrics::GatewayMetrics;

/// Longest wait for Redis before the local limiter decides.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// After Redis failed, how long to decide locally before trying it again.
const REDIS_RETRY: Duration = Duration::from_secs(2);
/// Keys are `{KEY_PREFIX}:{limit}:{user}`.
const KEY_PREFIX: &str = "todo-gateway:ratelimit";

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

/// What a check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow { remaining: u32 },
    Deny { retry_after: Duration },
}

/// Where limits are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// In this process (one instance).
    Memory,
    /// In Redis, shared by every instance.
    Redis,
}

/// A connection to Redis shared by the limits, with the "is it down" state
/// that makes a dead Redis cost one quick failure every few seconds instead
/// of a timeout per request.
pub struct RedisCounter {
    client: redis::Client,
    script: redis::Script,
    state: Mutex<RedisState>,
    metrics: Option<GatewayMetrics>,
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
    pub fn new(url: &str, metrics: Option<GatewayMetrics>) -> Result<Self, redis::RedisError> {
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
    async fn check(&self, key: &str, per_minute: u32) -> Option<Decision> {
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

type LocalLimiter =
    RateLimiter<UserId, DefaultKeyedStateStore<UserId>, DefaultClock, StateInformationMiddleware>;

/// One limit (`chat` or `read`): per user per minute.
#[derive(Clone)]
pub struct Limit {
    inner: Arc<LimitInner>,
}

struct LimitInner {
    name: &'static str,
    per_minute: u32,
    local: LocalLimiter,
    redis: Option<Arc<RedisCounter>>,
    metrics: Option<GatewayMetrics>,
}

impl Limit {
    /// `per_minute` requests per user per minute (at least 1). Idle users
    /// are forgotten every minute by a task of its own.
    pub fn new(
        name: &'static str,
        per_minute: u32,
        redis: Option<Arc<RedisCounter>>,
        metrics: Option<GatewayMetrics>,
    ) -> Self {
        let per_minute = per_minute.max(1);
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        let limit = Self {
            inner: Arc::new(LimitInner {
                name,
                per_minute,
                local: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
                redis,
                metrics,
            }),
        };
        let weak = Arc::downgrade(&limit.inner);
        tokio::spawn(async move {
            let mut every_minute = tokio::time::interval(Duration::from_secs(60));
            every_minute.tick().await;
            loop {
                every_minute.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                inner.local.retain_recent();
                inner.local.shrink_to_fit();
            }
        });
        limit
    }

    /// Count one request of `user`.
    pub async fn check(&self, user: &UserId) -> Decision {
        let inner = &self.inner;
        if let Some(redis) = &inner.redis {
            let key = format!("{KEY_PREFIX}:{}:{}", inner.name, user.as_str());
            if let Some(decision) = redis.check(&key, inner.per_minute).await {
                return decision;
            }
        }
        match inner.local.check_key(user) {
            Ok(snapshot) => Decision::Allow {
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => Decision::Deny {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            },
        }
    }
}

/// Middleware: the limit for the authenticated caller (an [`crate::http::Caller`]
/// in the request's extensions, put there by the authentication layer).
pub async fn enforce(State(limit): State<Limit>, request: Request, next: Next) -> Response {
    let Some(crate::http::Caller(user)) = request.extensions().get().cloned() else {
        // Unreachable behind the authentication layer; fail closed.
        tracing::error!("rate limit without an authenticated user");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let per_minute = limit.inner.per_minute;
    match limit.check(&user).await {
        Decision::Allow { remaining } => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(per_minute));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            response
        }
        Decision::Deny { retry_after } => {
            if let Some(metrics) = &limit.inner.metrics {
                metrics.rate_limited(limit.inner.name);
            }
            tracing::warn!(user = %user, limit = limit.inner.name, path = %request.uri().path(), "rate limit exceeded");
            let wait = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({
                    "error": "rate_limited",
                    "message": format!("Too many requests. Try again in {wait} s."),
                })),
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
            headers.insert("x-ratelimit-after", HeaderValue::from(wait));
            headers.insert("x-ratelimit-limit", HeaderValue::from(per_minute));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn the_local_limit_allows_a_burst_then_refuses() {
        let limit = Limit::new("chat", 3, None, None);
        for remaining in [2, 1, 0] {
            assert_eq!(
                limit.check(&user("ann")).await,
                Decision::Allow { remaining }
            );
        }
        let Decision::Deny { retry_after } = limit.check(&user("ann")).await else {
            panic!("the fourth request was allowed");
        };
        assert!(retry_after <= Duration::from_secs(20), "{retry_after:?}");
        // Another user has a budget of their own.
        assert_eq!(
            limit.check(&user("bob")).await,
            Decision::Allow { remaining: 2 }
        );
    }

    #[tokio::test]
    async fn an_unreachable_redis_falls_back_to_the_local_limit() {
        // Port 1 on loopback: nothing listens, the connection is refused.
        let redis = RedisCounter::new("redis://127.0.0.1:1/", None)
            .map(Arc::new)
            .ok();
        assert!(redis.is_some());
        let limit = Limit::new("chat", 2, redis, None);
        assert!(matches!(
            limit.check(&user("cy")).await,
            Decision::Allow { .. }
        ));
        assert!(matches!(
            limit.check(&user("cy")).await,
            Decision::Allow { .. }
        ));
        assert!(matches!(
            limit.check(&user("cy")).await,
            Decision::Deny { .. }
        ));
    }
}
