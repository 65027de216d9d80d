//! One limit (`chat` or `read`): per user per minute, in Redis when there
//! is one and it answers, else in this process.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use todo_domain::UserId;

use crate::http::metrics::Metrics;
use crate::limit::decision::Decision;
use crate::limit::redis_counter::RedisCounter;

type LocalLimiter =
    RateLimiter<UserId, DefaultKeyedStateStore<UserId>, DefaultClock, StateInformationMiddleware>;

/// One limit (`chat` or `read`): per user per minute.
#[derive(Clone)]
pub struct Limit {
    inner: Arc<LimitInner>,
}

struct LimitInner {
    /// The service counting (`todo-gateway`, `todo-mcp`): Redis keys are
    /// `{service}:ratelimit:{name}:{user}`.
    service: &'static str,
    name: &'static str,
    per_minute: u32,
    local: LocalLimiter,
    redis: Option<Arc<RedisCounter>>,
    metrics: Option<Arc<Metrics>>,
}

impl Limit {
    /// `per_minute` requests per user per minute (at least 1). Idle users
    /// are forgotten every minute by a task of its own.
    pub fn new(
        service: &'static str,
        name: &'static str,
        per_minute: u32,
        redis: Option<Arc<RedisCounter>>,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        let per_minute = per_minute.max(1);
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        let limit = Self {
            inner: Arc::new(LimitInner {
                service,
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

    /// `chat` or `read`.
    pub fn name(&self) -> &'static str {
        self.inner.name
    }

    pub fn per_minute(&self) -> u32 {
        self.inner.per_minute
    }

    /// A request refused by this limit, for the metrics.
    pub fn count_refusal(&self) {
        if let Some(metrics) = &self.inner.metrics {
            metrics.rate_limited(self.inner.name);
        }
    }

    /// Count one request of `user`.
    pub async fn check(&self, user: &UserId) -> Decision {
        let inner = &self.inner;
        if let Some(redis) = &inner.redis {
            let key = format!(
                "{}:ratelimit:{}:{}",
                inner.service,
                inner.name,
                user.as_str()
            );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn the_local_limit_allows_a_burst_then_refuses() {
        let limit = Limit::new("todo-gateway", "chat", 3, None, None);
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
        let limit = Limit::new("todo-gateway", "chat", 2, redis, None);
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
