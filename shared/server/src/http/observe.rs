//! The middleware every request of both services passes: its request id,
//! its log span and its metrics.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::http::metrics::Metrics;
use crate::trace::{
    REQUEST_ID_HEADER, RequestId, TRACEPARENT_HEADER, TraceContext, parse_traceparent,
};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let odd = Method::from_bytes(b"BREW").unwrap_or(Method::TRACE);
        assert_eq!(method_label(&odd), "other");
    }
}
