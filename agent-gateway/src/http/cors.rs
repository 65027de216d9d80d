//! Cross-origin requests from frontends on other origins: none by default;
//! the exact origins of `CORS_ALLOWED_ORIGINS` may call the API from a
//! browser, with a bearer token (never cookies: no credentials mode).

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// The layer for `origins` (None without any), or why an origin is refused.
pub fn layer(origins: &[String]) -> Result<Option<CorsLayer>, String> {
    if origins.is_empty() {
        return Ok(None);
    }
    let mut allowed = Vec::with_capacity(origins.len());
    for origin in origins {
        allowed.push(exact_origin(origin)?);
    }
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("traceparent"),
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::RETRY_AFTER,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("x-ratelimit-limit"),
                HeaderName::from_static("x-ratelimit-remaining"),
                HeaderName::from_static("server-timing"),
            ])
            .max_age(PREFLIGHT_MAX_AGE),
    ))
}

/// `scheme://host[:port]`, nothing more (no path, no wildcard), as a
/// browser sends it in `Origin`.
fn exact_origin(origin: &str) -> Result<HeaderValue, String> {
    let trimmed = origin.trim();
    let refuse = |why: &str| Err(format!("CORS_ALLOWED_ORIGINS: {trimmed:?} {why}"));
    let Some((scheme, rest)) = trimmed.split_once("://") else {
        return refuse("is not an origin (scheme://host[:port])");
    };
    if scheme != "http" && scheme != "https" {
        return refuse("is not http or https");
    }
    if rest.is_empty() || rest.contains(['/', '*', '?', '#', '@', ' ']) {
        return refuse("must be exactly scheme://host[:port], without a path or wildcard");
    }
    HeaderValue::from_str(trimmed).or_else(|_| refuse("is not a valid header value"))
}

#[cfg(test)]
mod tests {
    use super::layer;

    #[test]
    fn only_exact_origins_are_accepted() {
        assert!(layer(&[]).is_ok_and(|l| l.is_none()));
        assert!(layer(&["https://app.example".into(), "http://localhost:5173".into()]).is_ok());
        for bad in [
            "*",
            "https://*.example",
            "https://app.example/",
            "app.example",
            "ftp://x",
        ] {
            assert!(layer(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
