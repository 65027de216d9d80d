//! DNS-rebinding protection in front of everything that names this server:
//! `/mcp` and the protected-resource metadata answer only requests whose
//! `Host` is one of the allowed hosts and whose `Origin`, when a browser sent
//! one, is one of the allowed origins. It runs before authentication, so a
//! refused `Host` is never echoed into a `WWW-Authenticate` challenge or the
//! metadata (where a cache in front could keep it).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::options::HttpOptions;

/// The middleware (`route_layer`, with the server's options as state).
pub async fn check_host_and_origin(
    State(options): State<Arc<HttpOptions>>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(refusal) = admitted(&options, request.headers()) {
        tracing::warn!(
            reason = refusal,
            "request refused: DNS-rebinding protection"
        );
        let message = match refusal {
            "host" => "this server does not answer to that Host",
            _ => "requests from that Origin are not accepted",
        };
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"error": "forbidden", "message": message})),
        )
            .into_response();
    }
    next.run(request).await
}

/// Ok, or which header was refused (`host` or `origin`).
pub fn admitted(options: &HttpOptions, headers: &HeaderMap) -> Result<(), &'static str> {
    if !options.allowed_hosts.is_empty() {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(authority);
        let allowed = host.is_some_and(|(name, port)| {
            options.allowed_hosts.iter().any(|entry| {
                allowed_authority(entry).is_some_and(|(a_name, a_port)| {
                    a_name == name && a_port.is_none_or(|p| Some(p) == port)
                })
            })
        });
        if !allowed {
            return Err("host");
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN)
        && !options.allowed_origins.is_empty()
    {
        let origin = origin.to_str().unwrap_or_default().trim();
        if !options
            .allowed_origins
            .iter()
            .any(|entry| origin_matches(entry, origin))
        {
            return Err("origin");
        }
    }
    Ok(())
}

/// A Host value as (lower-case name without brackets, port).
fn authority(value: &str) -> Option<(String, Option<u16>)> {
    let parsed: Authority = value.trim().parse().ok()?;
    if parsed.as_str().contains('@') {
        return None;
    }
    let name = parsed.host().trim_start_matches('[').trim_end_matches(']');
    Some((name.to_ascii_lowercase(), parsed.port_u16()))
}

/// An allowed-hosts entry: `name`, `name:port`, `[v6]:port` or a bare IPv6
/// address.
fn allowed_authority(entry: &str) -> Option<(String, Option<u16>)> {
    let entry = entry.trim();
    if entry.matches(':').count() > 1 && !entry.starts_with('[') {
        return Some((entry.to_ascii_lowercase(), None));
    }
    authority(entry)
}

/// Does `origin` (scheme://host[:port]) match an allowed-origins entry
/// (`:*` for any port; no port: any port; `null` for `Origin: null`)?
fn origin_matches(entry: &str, origin: &str) -> bool {
    if entry == "null" || origin == "null" {
        return entry == origin;
    }
    let split = |value: &str| -> Option<(String, String)> {
        let (scheme, rest) = value.split_once("://")?;
        Some((
            scheme.to_ascii_lowercase(),
            rest.trim_end_matches('/').to_owned(),
        ))
    };
    let (Some((e_scheme, e_rest)), Some((o_scheme, o_rest))) = (split(entry), split(origin)) else {
        return false;
    };
    if e_scheme != o_scheme {
        return false;
    }
    let Some((o_name, o_port)) = authority(&o_rest) else {
        return false;
    };
    let default_port = if o_scheme == "https" { 443 } else { 80 };
    let o_port = o_port.unwrap_or(default_port);
    match e_rest.strip_suffix(":*") {
        Some(e_name) => authority(e_name).is_some_and(|(name, _)| name == o_name),
        None => authority(&e_rest)
            .is_some_and(|(name, port)| name == o_name && port.is_none_or(|p| p == o_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_by_name_and_port_when_the_entry_has_one() {
        let entry = |e: &str, host: &str| {
            let (name, port) = authority(host).expect("host");
            allowed_authority(e)
                .is_some_and(|(n, p)| n == name && p.is_none_or(|p| Some(p) == port))
        };
        assert!(entry("localhost", "LOCALHOST:8001"));
        assert!(entry("mcp:8001", "mcp:8001"));
        assert!(!entry("mcp:8001", "mcp:8002"));
        assert!(entry("::1", "[::1]:8001"));
        assert!(!entry("localhost", "localhost.evil.test"));
        assert!(authority("user@localhost").is_none());
    }

    #[test]
    fn origins_match_scheme_host_and_port() {
        assert!(origin_matches(
            "http://localhost:*",
            "http://localhost:5173"
        ));
        assert!(!origin_matches(
            "http://localhost:*",
            "https://localhost:5173"
        ));
        assert!(origin_matches("https://app.test", "https://app.test"));
        assert!(origin_matches("https://app.test:443", "https://app.test"));
        assert!(!origin_matches(
            "https://app.test",
            "https://app.test.evil.test"
        ));
        assert!(!origin_matches("http://127.0.0.1:*", "null"));
        assert!(origin_matches("null", "null"));
    }
}
