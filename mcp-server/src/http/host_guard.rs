//! DNS-rebinding protection in front of everything that names this server:
//! `/mcp` and the protected-resource metadata answer only requests whose
//! `Host` is one of the allowed hosts and whose `Origin`, when a browser sent
//! one, is one of the allowed origins. It runs before authentication, so a
//! refused `Host` is never echoed into a `WWW-Authenticate` challenge or the
//! metadata (where a cache in front could keep it). The allowed values are
//! parsed once, at start-up.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::options::HttpOptions;

/// The allowed hosts and origins, parsed (empty: any).
#[derive(Debug, Default)]
pub struct HostGuard {
    /// (name, port when the entry names one).
    hosts: Vec<(String, Option<u16>)>,
    origins: Vec<AllowedOrigin>,
}

/// An allowed-origins entry: `null`, or scheme, name and port (None: any).
#[derive(Debug, PartialEq, Eq)]
enum AllowedOrigin {
    Null,
    Site {
        scheme: String,
        name: String,
        port: Option<u16>,
    },
}

impl HostGuard {
    /// The guard for `options` (entries that cannot be parsed admit nothing).
    pub fn new(options: &HttpOptions) -> Self {
        Self {
            hosts: options
                .allowed_hosts
                .iter()
                .filter_map(|e| allowed_authority(e))
                .collect(),
            origins: options
                .allowed_origins
                .iter()
                .filter_map(|e| allowed_origin(e))
                .collect(),
        }
    }

    /// Ok, or which header was refused (`host` or `origin`).
    pub fn admitted(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        if !self.hosts.is_empty() {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .and_then(authority);
            let allowed = host.is_some_and(|(name, port)| {
                self.hosts.iter().any(|(a_name, a_port)| {
                    *a_name == name && a_port.is_none_or(|p| Some(p) == port)
                })
            });
            if !allowed {
                return Err("host");
            }
        }
        if let Some(origin) = headers.get(header::ORIGIN)
            && !self.origins.is_empty()
        {
            let origin = origin.to_str().ok().and_then(request_origin);
            if !origin.is_some_and(|o| self.origins.iter().any(|a| a.admits(&o))) {
                return Err("origin");
            }
        }
        Ok(())
    }
}

/// The middleware (`route_layer`, with the guard as state).
pub async fn check_host_and_origin(
    State(guard): State<Arc<HostGuard>>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(refusal) = guard.admitted(request.headers()) {
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

impl AllowedOrigin {
    /// Does an `Origin` (as [`request_origin`] read it) match this entry?
    fn admits(&self, origin: &AllowedOrigin) -> bool {
        match (self, origin) {
            (Self::Null, Self::Null) => true,
            (
                Self::Site { scheme, name, port },
                Self::Site {
                    scheme: o_scheme,
                    name: o_name,
                    port: o_port,
                },
            ) => scheme == o_scheme && name == o_name && port.is_none_or(|p| Some(p) == *o_port),
            _ => false,
        }
    }
}

/// `scheme://host[:port]` (or `null`) split in its parts.
fn split_origin(value: &str) -> Option<(AllowedOrigin, bool)> {
    if value == "null" {
        return Some((AllowedOrigin::Null, false));
    }
    let (scheme, rest) = value.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let rest = rest.trim_end_matches('/');
    let any_port = rest.ends_with(":*");
    let (name, port) = authority(rest.strip_suffix(":*").unwrap_or(rest))?;
    Some((AllowedOrigin::Site { scheme, name, port }, any_port))
}

/// An allowed-origins entry (`:*` or no port: any port; `null` for
/// `Origin: null`).
fn allowed_origin(entry: &str) -> Option<AllowedOrigin> {
    let (origin, any_port) = split_origin(entry.trim())?;
    Some(match origin {
        AllowedOrigin::Site { scheme, name, .. } if any_port => AllowedOrigin::Site {
            scheme,
            name,
            port: None,
        },
        origin => origin,
    })
}

/// A request's `Origin`, its port filled from the scheme when absent.
fn request_origin(value: &str) -> Option<AllowedOrigin> {
    match split_origin(value.trim())? {
        (_, true) => None,
        (AllowedOrigin::Site { scheme, name, port }, false) => {
            let default = if scheme == "https" { 443 } else { 80 };
            Some(AllowedOrigin::Site {
                port: Some(port.unwrap_or(default)),
                scheme,
                name,
            })
        }
        (AllowedOrigin::Null, _) => Some(AllowedOrigin::Null),
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
        let origin_matches = |entry: &str, origin: &str| {
            let allowed = allowed_origin(entry).expect("entry");
            request_origin(origin).is_some_and(|o| allowed.admits(&o))
        };
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
