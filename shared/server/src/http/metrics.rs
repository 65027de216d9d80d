//! A service's metrics: Prometheus/OpenMetrics text from a [`Metrics`] value
//! that each binary makes once and hands around (no global registry). Every
//! label value is bounded: routes are the router's templates, never raw
//! paths; methods outside the usual seven count as `other`; tool names are
//! checked by the caller against the known tools.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use todo_domain::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolNameLabels {
    pool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolNameLabels {
    tool: String,
}

/// A family whose histograms are made by a plain function.
pub type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latencies from 0.5 ms to about 16 s.
fn fast_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// `metric`, registered in `registry` under `name` (after the `todo_`
/// prefix) with `help`; the value returned shares its counts with the
/// registry.
pub fn register<M: Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// A service's metrics: the shared families below, and whatever the binary
/// registers in [`Metrics::registry_mut`] before sharing it.
pub struct Metrics {
    registry: Registry,
    store: Option<Store>,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    auth_failures: Family<ReasonLabels, Counter>,
    shed: Family<ReasonLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    limiter_errors: Counter,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Family<PoolNameLabels, Gauge>,
    tool_calls: Family<ToolLabels, Counter>,
    tool_duration: HistogramFamily<ToolNameLabels>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Metric names start with `todo_`. `store`, when given, is sampled for
    /// its pools' use at each scrape.
    pub fn new(store: Option<Store>) -> Self {
        let mut registry = Registry::with_prefix("todo");
        let r = &mut registry;
        Self {
            http_requests: register(
                r,
                "http_requests",
                "HTTP requests answered, by method, route template and status",
                Family::default(),
            ),
            http_duration: register(
                r,
                "http_request_duration_seconds",
                "Time to the response's headers (a streamed body goes on after)",
                Family::new_with_constructor(fast_histogram),
            ),
            auth_failures: register(
                r,
                "auth_failures",
                "Requests refused for their credentials, by reason",
                Family::default(),
            ),
            shed: register(
                r,
                "load_shed",
                "Work refused because a limit of the whole service was reached (503), by what \
                 was full: connections, requests, turns",
                Family::default(),
            ),
            rate_limited: register(
                r,
                "rate_limited",
                "Requests refused by a per-user rate limit, by limit (gateway: chat, read; \
                 todo-mcp: mcp)",
                Family::default(),
            ),
            limiter_errors: register(
                r,
                "rate_limit_backend_errors",
                "Rate-limit checks that Redis did not answer (the local limiter decided)",
                Counter::default(),
            ),
            pool_connections: register(
                r,
                "db_pool_connections",
                "Database connections open, by pool and state (idle or in_use)",
                Family::default(),
            ),
            pool_max: register(
                r,
                "db_pool_max_connections",
                "Most connections each database pool opens",
                Family::default(),
            ),
            tool_calls: register(
                r,
                "tool_calls",
                "Task tool calls, by tool and outcome",
                Family::default(),
            ),
            tool_duration: register(
                r,
                "tool_call_duration_seconds",
                "Task tool call latency, by tool",
                Family::new_with_constructor(fast_histogram),
            ),
            registry,
            store,
        }
    }

    /// Where a binary registers metrics of its own (before sharing `self`).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// One request refused for its credentials (`reason` from
    /// [`crate::auth::AuthError::reason`] or the like: a fixed word).
    pub fn auth_failure(&self, reason: &'static str) {
        self.auth_failures
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Work refused with a 503 because `what` (a fixed word) was full.
    pub fn shed(&self, what: &'static str) {
        self.shed
            .get_or_create(&ReasonLabels { reason: what })
            .inc();
    }

    /// A request refused by the per-user limit `limit`.
    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited
            .get_or_create(&LimitLabels { limit })
            .inc();
    }

    /// A rate-limit check Redis did not answer.
    pub fn limiter_error(&self) {
        self.limiter_errors.inc();
    }

    /// One tool call. `tool` must be a known tool's name (or `unknown`):
    /// label values have to stay few.
    pub fn tool_call(&self, tool: &str, outcome: &'static str, elapsed: Duration) {
        self.tool_calls
            .get_or_create(&ToolLabels {
                tool: tool.to_owned(),
                outcome,
            })
            .inc();
        self.tool_duration
            .get_or_create(&ToolNameLabels {
                tool: tool.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// One request answered (by [`crate::http::observe`]).
    pub(crate) fn http_request(
        &self,
        method: &'static str,
        route: String,
        status: u16,
        elapsed: Duration,
    ) {
        let labels = RouteLabels { method, route };
        self.http_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        self.http_requests
            .get_or_create(&RequestLabels {
                method,
                route: labels.route,
                status,
            })
            .inc();
    }

    /// The text exposition (OpenMetrics, which Prometheus reads).
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        if let Some(store) = &self.store {
            for pool in store.pool_stats() {
                let in_use = pool.open.saturating_sub(pool.idle);
                for (state, value) in [("idle", pool.idle), ("in_use", in_use)] {
                    self.pool_connections
                        .get_or_create(&PoolLabels {
                            pool: pool.name,
                            state,
                        })
                        .set(i64::from(value));
                }
                self.pool_max
                    .get_or_create(&PoolNameLabels { pool: pool.name })
                    .set(i64::from(pool.max));
            }
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_what_was_recorded() {
        let metrics = Metrics::new(None);
        metrics.http_request("GET", "/health".to_owned(), 200, Duration::from_millis(3));
        metrics.auth_failure("expired");
        metrics.tool_call("add_task", "ok", Duration::from_millis(2));
        let text = metrics.render().unwrap_or_default();
        assert!(
            text.contains(
                r#"todo_http_requests_total{method="GET",route="/health",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"todo_auth_failures_total{reason="expired"} 1"#));
        assert!(text.contains(r#"todo_tool_calls_total{tool="add_task",outcome="ok"} 1"#));
        assert!(text.contains(r#"todo_tool_call_duration_seconds_count{tool="add_task"} 1"#));
        assert!(text.ends_with("# EOF\n"));
    }
}
