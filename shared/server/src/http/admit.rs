//! Admission of a request: past the number of requests a service handles at
//! once, more are refused at once with 503 and `Retry-After` (load shed,
//! never queued), and a request's body must arrive whole within a time
//! limit (408 otherwise). Liveness (`/health`) is always answered.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use tokio::sync::Semaphore;

use crate::http::metrics::Metrics;

/// How many requests run at once, and how long a body may take to arrive.
#[derive(Debug)]
pub struct RequestLimits {
    in_flight: Arc<Semaphore>,
    body_timeout: Duration,
    /// Bodies are read up to one byte past this; the route's own limit
    /// refuses them (413) in the service's words.
    max_body_bytes: usize,
    metrics: Option<Arc<Metrics>>,
}

impl RequestLimits {
    pub fn new(
        max_requests: usize,
        body_timeout: Duration,
        max_body_bytes: usize,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(max_requests.max(1))),
            body_timeout,
            max_body_bytes,
            metrics,
        }
    }
}

/// The middleware: admit the request, or shed it; then read its body in time.
pub async fn admit(
    State(limits): State<Arc<RequestLimits>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == "/health" {
        return next.run(request).await;
    }
    let Ok(_permit) = limits.in_flight.clone().try_acquire_owned() else {
        if let Some(metrics) = &limits.metrics {
            metrics.shed("requests");
        }
        return overloaded("the server is busy: try again in a second");
    };
    match read_body(request, &limits).await {
        Ok(request) => next.run(request).await,
        Err(response) => response,
    }
}

/// A 503 that tells the client to come back in a second.
pub fn overloaded(message: &str) -> Response {
    let body = serde_json::json!({"error": "overloaded", "message": message});
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The request with its body read (at most one byte past the limit) before
/// the deadline.
async fn read_body(request: Request, limits: &RequestLimits) -> Result<Request, Response> {
    use axum::body::HttpBody as _;
    let (parts, body) = request.into_parts();
    if body.size_hint().exact() == Some(0) {
        return Ok(Request::from_parts(parts, body));
    }
    let deadline = tokio::time::Instant::now() + limits.body_timeout;
    let mut chunks = body.into_data_stream();
    let mut read = Vec::new();
    while read.len() <= limits.max_body_bytes {
        match tokio::time::timeout_at(deadline, chunks.next()).await {
            Ok(Some(Ok(chunk))) => read.extend_from_slice(&chunk),
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                let body = serde_json::json!({"error": "bad_request", "message": "the request body could not be read"});
                return Err((StatusCode::BAD_REQUEST, axum::Json(body)).into_response());
            }
            Err(_) => return Err(too_slow(limits.body_timeout)),
        }
    }
    Ok(Request::from_parts(parts, Body::from(Bytes::from(read))))
}

fn too_slow(timeout: Duration) -> Response {
    let body = serde_json::json!({
        "error": "request_timeout",
        "message": format!("the request body did not arrive within {} s", timeout.as_secs()),
    });
    let mut response = (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
