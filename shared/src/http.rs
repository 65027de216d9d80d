//! HTTP plumbing both services share (feature `http`): serving a router,
//! the middleware that gives every request its id, its log span and its
//! metrics, and the separate metrics listener.
//!
//! Metrics are Prometheus/OpenMetrics text from a [`Metrics`] value that
//! each binary makes once and hands around (no global registry). Every label
//! value is bounded: routes are the router's templates, never raw paths;
//! methods outside the usual seven count as `other`; tool names are checked
//! by the caller against the known tools.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::Store;
use crate::trace::{
    REQUEST_ID_HEADER, RequestId, TRACEPARENT_HEADER, TraceContext, parse_traceparent,
};

/// Serve `router` on `listener` until `shutdown` resolves, then let the
/// requests in flight finish.
pub async fn run(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

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

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latencies from 0.5 ms to about 16 s.
fn fast_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// A service's metrics: the shared families below, and whatever the binary
/// registers in [`Metrics::registry_mut`] before sharing it.
pub struct Metrics {
    registry: Registry,
    store: Option<Store>,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    auth_failures: Family<ReasonLabels, Counter>,
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
        let http_requests = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        let http_duration: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(fast_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to the response's headers (a streamed body goes on after)",
            http_duration.clone(),
        );
        let auth_failures = Family::default();
        registry.register(
            "auth_failures",
            "Requests refused for their credentials, by reason",
            auth_failures.clone(),
        );
        let pool_connections = Family::default();
        registry.register(
            "db_pool_connections",
            "Database connections open, by pool and state (idle or in_use)",
            pool_connections.clone(),
        );
        let pool_max = Family::default();
        registry.register(
            "db_pool_max_connections",
            "Most connections each database pool opens",
            pool_max.clone(),
        );
        let tool_calls = Family::default();
        registry.register(
            "tool_calls",
            "Task tool calls, by tool and outcome",
            tool_calls.clone(),
        );
        let tool_duration: HistogramFamily<ToolNameLabels> =
            Family::new_with_constructor(fast_histogram);
        registry.register(
            "tool_call_duration_seconds",
            "Task tool call latency, by tool",
            tool_duration.clone(),
        );
        Self {
            registry,
            store,
            http_requests,
            http_duration,
            auth_failures,
            pool_connections,
            pool_max,
            tool_calls,
            tool_duration,
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

    fn http_request(&self, method: &'static str, route: String, status: u16, elapsed: Duration) {
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

/// A label for `method` that a client cannot multiply.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware (for `Router::layer`, where the matched route is known): gives
/// the request its [`TraceContext`] (in its extensions), runs it in a span
/// carrying the request id, answers with `x-request-id`, and counts it.
pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let headers = request.headers();
    let request_id =
        RequestId::parse_or_generate(headers.get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()));
    let traceparent = headers
        .get(TRACEPARENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_traceparent);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = method_label(request.method());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        traceparent = tracing::field::Empty,
    );
    if let Some(traceparent) = &traceparent {
        span.record("traceparent", traceparent.as_str());
    }
    let id_header = HeaderValue::from_str(request_id.as_str()).ok();
    request.extensions_mut().insert(TraceContext {
        request_id,
        traceparent,
    });
    let mut response = next.run(request).instrument(span).await;
    metrics.http_request(method, route, response.status().as_u16(), started.elapsed());
    if let Some(id) = id_header {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}

/// Serve `GET /metrics` from `metrics` on `listener` (a listener of its own,
/// so that metrics are public only if its address is). Runs until the
/// process ends.
pub async fn serve_metrics(listener: TcpListener, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let router = Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics);
    axum::serve(listener, router).await
}

async fn scrape(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot encode the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Bind the metrics listener when an address is configured and serve it in
/// the background; logs where.
pub async fn spawn_metrics(
    bind: Option<SocketAddr>,
    metrics: &Arc<Metrics>,
) -> std::io::Result<()> {
    let Some(bind) = bind else {
        return Ok(());
    };
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let metrics = metrics.clone();
    tokio::spawn(async move {
        if let Err(error) = serve_metrics(listener, metrics).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    tracing::info!(addr = %addr, "metrics at http://{addr}/metrics");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let odd = Method::from_bytes(b"BREW").unwrap_or(Method::TRACE);
        assert_eq!(method_label(&odd), "other");
    }

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
