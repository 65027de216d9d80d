//! Files embedded in the binary (the web chat's and the API reference's),
//! served with the strict security headers of the web chat: scripts,
//! styles and connections from this origin only, no inline code, no frames.

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// Scripts, styles and connections from this origin only; no inline code,
/// no frames, no plugins.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A page or file with the strict security headers of the web chat.
pub fn asset(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    asset_connecting_to(content_type, body, None)
}

/// [`asset`] for a page that may also connect to `origin` (Better Auth's).
pub fn asset_connecting_to(
    content_type: &'static str,
    body: impl Into<axum::body::Body>,
    origin: Option<&str>,
) -> Response {
    let csp = match origin {
        Some(origin) => HeaderValue::from_str(&CSP.replace(
            "connect-src 'self'",
            &format!("connect-src 'self' {origin}"),
        ))
        .unwrap_or(HeaderValue::from_static(CSP)),
        None => HeaderValue::from_static(CSP),
    };
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A handler that answers one embedded file, with its `#[utoipa::path]`:
/// `name: path, tag, description, media type => contents`. (`tt` fragments
/// reach utoipa's attribute as the plain literals it parses.)
macro_rules! embedded_file {
    ($(#[doc = $doc:tt])* $name:ident: $path:tt, $tag:tt, $what:tt, $mime:tt => $body:expr) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, tag = $tag,
            responses((status = 200, description = $what, content_type = $mime)))]
        pub async fn $name() -> axum::response::Response {
            $crate::http::assets::asset(concat!($mime, "; charset=utf-8"), $body)
        }
    };
}

pub(crate) use embedded_file;
