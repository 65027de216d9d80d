//! What a tool call's rmcp context says beyond its arguments: who calls,
//! and the request id and trace context to log the call under.

use rmcp::RoleServer;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RequestContext;
use todo_server::Caller;
use todo_server::trace::{REQUEST_ID_META_KEY, RequestId, TraceContext, parse_traceparent};

/// The caller: put on each request by the front door it came through (the
/// HTTP authentication layer, in the request rmcp hands on; the stdio
/// session, on the message itself).
pub fn caller(context: &RequestContext<RoleServer>) -> Option<Caller> {
    context
        .extensions
        .get::<Caller>()
        .or_else(|| http_parts(context)?.extensions.get::<Caller>())
        .cloned()
}

/// The request id and `traceparent` to log a call under: the HTTP layer's
/// (from the client's headers, the id made up when absent), else what the
/// call's `_meta` carries (stdio), checked like headers.
pub fn trace(
    context: &RequestContext<RoleServer>,
    request: &CallToolRequestParams,
) -> (String, String) {
    if let Some(trace) =
        http_parts(context).and_then(|parts| parts.extensions.get::<TraceContext>())
    {
        return (
            trace.request_id.to_string(),
            trace.traceparent.clone().unwrap_or_default(),
        );
    }
    let meta = request.meta.as_ref();
    let id = meta
        .and_then(|meta| meta.0.0.get(REQUEST_ID_META_KEY))
        .and_then(|v| v.as_str())
        .and_then(RequestId::parse)
        .map(|id| id.to_string())
        .unwrap_or_default();
    let traceparent = meta
        .and_then(|meta| meta.get_traceparent())
        .and_then(parse_traceparent)
        .unwrap_or_default();
    (id, traceparent)
}

/// The HTTP request a call came in (streamable HTTP only).
fn http_parts(context: &RequestContext<RoleServer>) -> Option<&http::request::Parts> {
    context.extensions.get::<http::request::Parts>()
}
