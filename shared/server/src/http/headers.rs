//! Headers every answer of both services carries.

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// `X-Content-Type-Options: nosniff` on every answer that does not set it:
/// a browser must take a JSON error (which may echo what a client sent) as
/// JSON, never sniff it into HTML or script. Used with
/// `axum::middleware::map_response`.
pub async fn nosniff(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    response
}
