//! Command line and environment: every option is a flag with an env var,
//! and `todo-mcp --help` documents them all.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use todo_server::Secret;
use todo_server::http::HttpLimitArgs;
use todo_server::limit::LimitBackendArgs;
use todo_server::process::ProcessArgs;

#[derive(Debug, Parser)]
#[command(
    name = "todo-mcp",
    version,
    about = "A task-list MCP server: add, list, complete, update and delete tasks, per user.",
    long_about = "A task-list MCP server: add, list, complete, update and delete tasks, per user.\n\n\
        Without a subcommand it serves MCP over stdio (what Claude Desktop and other MCP hosts \
        launch). `todo-mcp http` serves MCP over streamable HTTP with bearer-token auth. \
        Options can also be set in the environment or in a .env file in the working directory."
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdin/stdout for one user (the default).
    Stdio,
    /// Serve MCP over streamable HTTP at /mcp, users identified by bearer JWTs.
    Http(Box<HttpArgs>),
    /// Apply the database migrations and exit.
    Migrate,
    /// Print an HS256 bearer token for --user, signed with MCP_JWT_SECRET
    /// (for local testing with curl or the MCP Inspector).
    Token(MintArgs),
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub process: ProcessArgs,

    /// The user whose tasks stdio mode (and http --no-auth) acts on.
    #[arg(
        long = "user",
        env = "TODO_USER_ID",
        global = true,
        default_value = "local"
    )]
    pub user: String,

    /// The user's time zone in stdio mode, an IANA name (e.g. Europe/Paris):
    /// where "today" and "overdue" are read. Default: this machine's zone.
    /// Over HTTP the token's zoneinfo claim says it (else UTC).
    #[arg(long = "timezone", env = "TODO_TIMEZONE", global = true)]
    pub timezone: Option<String>,

    /// Tasks one user may keep (open and completed); adding more is refused with a tool
    /// error saying so. 0: no limit.
    #[arg(
        long,
        env = "MAX_TASKS_PER_USER",
        global = true,
        default_value_t = 10_000
    )]
    pub max_tasks_per_user: u32,
}

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "MCP_BIND", default_value = "127.0.0.1:8001")]
    pub bind: SocketAddr,

    /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of their own
    /// (keep it private). Off when unset.
    #[arg(long, env = "METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    #[command(flatten)]
    pub tokens: TokenArgs,

    /// Seconds between two JWKS fetches caused by tokens with an unknown `kid`.
    #[arg(
        long,
        env = "MCP_JWKS_REFETCH_COOLDOWN",
        default_value_t = 30,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub jwks_refetch_cooldown: u64,

    /// Public base URL of this server (e.g. https://tasks.example.com), used in the
    /// protected-resource metadata. Default: http://<Host header>.
    #[arg(long, env = "MCP_PUBLIC_URL", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub public_url: Option<String>,

    /// Authorization servers to advertise in the protected-resource metadata
    /// (comma-separated). Default: the issuer, when set.
    #[arg(long, env = "MCP_AUTHORIZATION_SERVERS", value_delimiter = ',')]
    pub authorization_servers: Vec<String>,

    /// Host header values to accept (comma-separated, host or host:port; `*` accepts any).
    /// Default: localhost, 127.0.0.1, ::1, the bind address and the public URL's host.
    #[arg(long, env = "MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// Browser origins to accept (comma-separated, e.g. https://app.example.com; `:*` matches
    /// any port; `*` accepts any). Requests without an Origin header are not affected.
    /// Default: http://localhost:*, http://127.0.0.1:*, http://[::1]:*.
    #[arg(long, env = "MCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Accept tokens from MCP_JWKS_URL whatever their `iss` when MCP_ISSUER is unset (not
    /// recommended: one identity provider often signs for several applications).
    #[arg(long, env = "MCP_JWKS_ANY_ISSUER", value_parser = clap::builder::BoolishValueParser::new())]
    pub jwks_any_issuer: bool,

    /// Local development only: accept requests without a token, all as --user.
    /// Refused unless --bind is a loopback address.
    #[arg(long, env = "MCP_NO_AUTH", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_auth: bool,

    /// Requests to /mcp per user per minute (a burst of as many is allowed); more are
    /// answered 429 with Retry-After. 0 turns the limit off.
    #[arg(long, env = "MCP_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,

    #[command(flatten)]
    pub limit_backend: LimitBackendArgs,

    #[command(flatten)]
    pub http_limits: HttpLimitArgs,
}

/// What a bearer token must carry: shared by `http` (to verify) and `token`
/// (to mint).
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Shared secret (at least 32 bytes) for HS256 bearer tokens.
    #[arg(long, env = "MCP_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Required `aud` of bearer tokens.
    #[arg(long, env = "MCP_AUDIENCE", default_value = "todo-mcp")]
    pub audience: String,

    /// Required `iss` of bearer tokens: of the JWKS source's when MCP_JWKS_URL is set (then
    /// required unless MCP_JWKS_ANY_ISSUER), else of HS256 tokens (not checked when unset).
    #[arg(long, env = "MCP_ISSUER", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub issuer: Option<String>,

    /// JWKS URL with the public keys (EdDSA, RS256, ES256) of bearer tokens.
    #[arg(long, env = "MCP_JWKS_URL", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub jwks_url: Option<String>,

    /// The `iss` of the HS256 tokens the gateway mints: with MCP_JWKS_URL set, or MCP_ISSUER
    /// unset, HS256 tokens may carry it or no `iss`, never another.
    #[arg(long, env = "MCP_TOKEN_ISSUER", default_value = "todo-gateway")]
    pub token_issuer: String,
}

impl TokenArgs {
    /// The `iss` HS256 tokens may carry besides none, when they follow a
    /// rule of their own (see [`todo_server::auth::VerifierConfig`]): always
    /// with a JWKS source (whose issuer MCP_ISSUER is); without one, only
    /// when MCP_ISSUER does not bind them.
    pub fn hs256_issuers(&self) -> Option<Vec<String>> {
        (self.jwks_url.is_some() || self.issuer.is_none()).then(|| vec![self.token_issuer.clone()])
    }

    /// The `iss` of a token `todo-mcp token` mints.
    pub fn minted_issuer(&self) -> Option<&str> {
        match self.hs256_issuers() {
            Some(_) => None,
            None => self.issuer.as_deref(),
        }
    }
}

#[derive(Debug, Args)]
pub struct MintArgs {
    #[command(flatten)]
    pub tokens: TokenArgs,

    /// How long the token is valid: a number with s, m, h or d (e.g. 90s, 15m, 1h, 7d).
    #[arg(long, default_value = "1h", value_parser = todo_server::process::parse_ttl)]
    pub ttl: Duration,
}
