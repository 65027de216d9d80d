//! What `/mcp` says about its own protection: RFC 9728 protected-resource
//! metadata, and the 401 that points a client to it.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use todo_server::auth::AuthError;

use crate::http::options::HttpOptions;

/// RFC 9728 protected-resource metadata.
pub async fn resource_metadata(
    State(options): State<Arc<HttpOptions>>,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&options, &headers);
    let mut body = json!({
        "resource": format!("{base}/mcp"),
        "bearer_methods_supported": ["header"],
        "resource_name": "todo-mcp",
    });
    if !options.authorization_servers.is_empty() {
        body["authorization_servers"] = json!(options.authorization_servers);
    }
    Json(body).into_response()
}

/// The 401 of `/mcp`: a `WWW-Authenticate` challenge naming the metadata.
pub fn unauthorized(options: &HttpOptions, headers: &HeaderMap, error: &AuthError) -> Response {
    let metadata = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        base_url(options, headers)
    );
    // RFC 6750: no error code when the request had no credentials at all.
    let challenge = match error {
        AuthError::Missing => format!("Bearer resource_metadata=\"{metadata}\""),
        other => format!(
            "Bearer resource_metadata=\"{metadata}\", error=\"invalid_token\", error_description=\"{other}\""
        ),
    };
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "unauthorized", "message": error.to_string()})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The base URL clients reach us at: the configured public URL, else the
/// request's Host (only when it is a plain authority, so nothing odd is
/// echoed into headers).
fn base_url(options: &HttpOptions, headers: &HeaderMap) -> String {
    if let Some(url) = &options.public_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}
