//! The HTTP front door's settings, resolved from the command line: how
//! callers are authenticated, and which hosts, origins and public URL to
//! expect.

use anyhow::{Context as _, bail};
use todo_domain::UserId;
use todo_server::Authenticator;
use todo_server::auth::{TokenVerifier, VerifierConfig};

use crate::config::HttpArgs;

/// What the HTTP front door needs to know besides the store.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Who calls: the bearer token's `sub`, or with `--no-auth` always `--user`.
    pub authenticator: Authenticator,
    /// Public base URL (no trailing slash), if known.
    pub public_url: Option<String>,
    pub authorization_servers: Vec<String>,
    /// Accepted Host values; empty accepts any.
    pub allowed_hosts: Vec<String>,
    /// Accepted Origin values; empty accepts any.
    pub allowed_origins: Vec<String>,
}

impl HttpOptions {
    /// The options `todo-mcp http` was started with; `user` is `--user`,
    /// whom `--no-auth` acts as. Refuses what cannot be served safely.
    pub fn from_args(args: &HttpArgs, user: &UserId) -> anyhow::Result<Self> {
        let authenticator = if args.no_auth {
            if !args.bind.ip().is_loopback() {
                bail!(
                    "--no-auth is for local development and only allowed on a loopback --bind (got {})",
                    args.bind
                );
            }
            tracing::warn!(user = %user, "authentication is OFF (--no-auth): every request acts as this user");
            Authenticator::Fixed(user.clone())
        } else {
            // The gateway's user-token secret in the same environment (one
            // shared .env): equal, a user's token would open this server.
            for name in ["AUTH_JWT_SECRET", "BETTER_AUTH_SECRET"] {
                let user_secret = std::env::var(name).unwrap_or_default();
                if !user_secret.is_empty()
                    && args
                        .tokens
                        .jwt_secret
                        .as_ref()
                        .is_some_and(|s| s.expose() == user_secret)
                {
                    bail!(
                        "MCP_JWT_SECRET and {name} are the same: give each its own secret \
                         (openssl rand -hex 32), or tokens for one service would open the other"
                    );
                }
            }
            // A JWKS source may sign for other applications too: its
            // tokens must name it as their issuer.
            if args.tokens.jwks_url.is_some()
                && args.tokens.issuer.is_none()
                && !args.jwks_any_issuer
            {
                bail!(
                    "MCP_JWKS_URL is set without MCP_ISSUER: set MCP_ISSUER to the `iss` of that \
                     source's tokens (or MCP_JWKS_ANY_ISSUER=true to accept any issuer; not \
                     recommended: one identity provider often signs for several applications)"
                );
            }
            let verifier = TokenVerifier::new(VerifierConfig {
                hs256_secret: args.tokens.jwt_secret.clone(),
                jwks_url: args.tokens.jwks_url.clone(),
                audience: Some(args.tokens.audience.clone()),
                issuer: args.tokens.issuer.clone(),
                hs256_issuers: args.tokens.hs256_issuers(),
                jwks_refetch_cooldown: std::time::Duration::from_secs(args.jwks_refetch_cooldown),
                ..VerifierConfig::default()
            })
            .context("cannot verify tokens (set MCP_JWT_SECRET and/or MCP_JWKS_URL, or use --no-auth locally)")?;
            Authenticator::Tokens(verifier)
        };
        let public_url = args
            .public_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_owned());
        let authorization_servers = if args.authorization_servers.is_empty() {
            args.tokens.issuer.iter().cloned().collect()
        } else {
            args.authorization_servers.clone()
        };
        let allowed_hosts = allowed_hosts(args, public_url.as_deref());
        // The metadata and the 401 name this server: from the public URL, or
        // from a Host the guard admitted. With every Host admitted, only the
        // public URL is safe to name.
        if allowed_hosts.is_empty() && public_url.is_none() && !args.bind.ip().is_loopback() {
            bail!(
                "MCP_ALLOWED_HOSTS=* on {} needs MCP_PUBLIC_URL: without it the metadata and \
                 401 challenges would name whatever Host a request sends",
                args.bind
            );
        }
        Ok(Self {
            authenticator,
            public_url: public_url.clone(),
            authorization_servers,
            allowed_hosts,
            allowed_origins: allowed_origins(args),
        })
    }
}

fn allowed_hosts(args: &HttpArgs, public_url: Option<&str>) -> Vec<String> {
    if args.allowed_hosts.iter().any(|h| h == "*") {
        return Vec::new();
    }
    if !args.allowed_hosts.is_empty() {
        return args.allowed_hosts.clone();
    }
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let ip = args.bind.ip();
    if !ip.is_unspecified() && !ip.is_loopback() {
        hosts.push(ip.to_string());
    }
    if let Some(host) = public_url.and_then(url_host) {
        hosts.push(host);
    }
    if ip.is_unspecified() {
        tracing::warn!(
            "listening on all interfaces but only loopback Host headers are accepted; \
             set MCP_ALLOWED_HOSTS (or MCP_PUBLIC_URL) to the names clients use"
        );
    }
    hosts
}

fn allowed_origins(args: &HttpArgs) -> Vec<String> {
    if args.allowed_origins.iter().any(|o| o == "*") {
        return Vec::new();
    }
    if !args.allowed_origins.is_empty() {
        return args.allowed_origins.clone();
    }
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
        .map(String::from)
        .to_vec()
}

/// The host of an http(s) URL.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use crate::http::options::url_host;

    #[test]
    fn the_host_of_a_url_is_found_without_port_user_or_brackets() {
        assert_eq!(
            url_host("https://tasks.example.com/mcp").as_deref(),
            Some("tasks.example.com")
        );
        assert_eq!(url_host("http://u:p@host:8001").as_deref(), Some("host"));
        assert_eq!(url_host("http://[::1]:8001/").as_deref(), Some("::1"));
        assert_eq!(url_host("no-scheme"), None);
    }
}
