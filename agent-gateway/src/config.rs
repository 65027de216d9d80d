//! Command line and environment of `todo-gateway`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use todo_server::Secret;
use todo_server::http::HttpLimitArgs;

use crate::agent::Bounds;
use todo_server::limit::LimitBackendArgs;
use todo_server::process::ProcessArgs;

#[derive(Debug, Parser)]
#[command(
    name = "todo-gateway",
    version,
    about = "The chat gateway of todo-mcp: signed-in users talk to a model that manages their tasks \
             through the todo-mcp server.",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub common: ProcessArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the chat API.
    Serve(Box<ServeArgs>),
    /// Apply the database migrations and exit.
    Migrate,
    /// Print a development token for a user, signed with AUTH_JWT_SECRET (HS256).
    Token(TokenArgs),
}

/// How user tokens are verified.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// Base URL of Better Auth; its keys are then read from {BETTER_AUTH_URL}/api/auth/jwks
    /// and it is the default issuer and audience.
    #[arg(long, env = "BETTER_AUTH_URL", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub better_auth_url: Option<String>,

    /// JWKS URL of the user tokens' keys (EdDSA, ES256, RS256), if not Better Auth's.
    #[arg(long, env = "AUTH_JWKS_URL", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub auth_jwks_url: Option<String>,

    /// Required `iss` of user tokens. Default: BETTER_AUTH_URL.
    #[arg(long, env = "AUTH_ISSUER", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub auth_issuer: Option<String>,

    /// Required `aud` of user tokens. Default: BETTER_AUTH_URL.
    #[arg(long, env = "AUTH_AUDIENCE", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub auth_audience: Option<String>,

    /// Seconds between two JWKS fetches caused by tokens with an unknown `kid`.
    #[arg(
        long,
        env = "AUTH_JWKS_REFETCH_COOLDOWN",
        default_value_t = 30,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub auth_jwks_refetch_cooldown: u64,

    /// Accept user tokens from the JWKS source whatever their `iss` and `aud` when
    /// AUTH_ISSUER/AUTH_AUDIENCE (or BETTER_AUTH_URL) are unset (not recommended: one
    /// identity provider often signs for several applications).
    #[arg(long, env = "AUTH_JWKS_ANY_ISSUER", value_parser = clap::builder::BoolishValueParser::new())]
    pub auth_jwks_any_issuer: bool,

    /// Shared secret (at least 32 bytes) of HS256 user tokens: one of the gateway's own,
    /// never Better Auth's master secret.
    #[arg(long, env = "AUTH_JWT_SECRET", hide_env_values = true)]
    pub auth_jwt_secret: Option<Secret>,

    /// Former name of AUTH_JWT_SECRET, still read (with a warning) when AUTH_JWT_SECRET is unset.
    #[arg(long, env = "BETTER_AUTH_SECRET", hide_env_values = true)]
    pub better_auth_secret: Option<Secret>,
}

impl AuthArgs {
    /// The HS256 secret of user tokens: AUTH_JWT_SECRET, else the former
    /// BETTER_AUTH_SECRET.
    pub fn hs256_secret(&self) -> Option<&Secret> {
        self.auth_jwt_secret
            .as_ref()
            .or(self.better_auth_secret.as_ref())
    }

    /// Say so when the secret comes by its former name, or is given twice.
    pub fn warn_about_names(&self) {
        match (&self.auth_jwt_secret, &self.better_auth_secret) {
            (None, Some(_)) => tracing::warn!(
                "BETTER_AUTH_SECRET is the former name of AUTH_JWT_SECRET: rename it, and give the \
                 gateway a secret of its own (Better Auth's master secret signs its cookies and \
                 encrypts its keys; Better Auth's JWT plugin never issues HS256 tokens)"
            ),
            (Some(_), Some(_)) => tracing::warn!(
                "both AUTH_JWT_SECRET and BETTER_AUTH_SECRET are set: BETTER_AUTH_SECRET is ignored"
            ),
            _ => {}
        }
    }

    /// `BETTER_AUTH_URL` without trailing slashes: Better Auth issues its
    /// bare origin as `iss` and `aud`, however the URL was written.
    pub fn better_auth_base(&self) -> Option<String> {
        self.better_auth_url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_owned())
    }

    pub fn jwks_url(&self) -> Option<String> {
        self.auth_jwks_url.clone().or_else(|| {
            self.better_auth_base()
                .map(|base| format!("{base}/api/auth/jwks"))
        })
    }

    pub fn issuer(&self) -> Option<String> {
        self.auth_issuer.clone().or_else(|| self.better_auth_base())
    }

    pub fn audience(&self) -> Option<String> {
        self.auth_audience
            .clone()
            .or_else(|| self.better_auth_base())
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GATEWAY_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of their own
    /// (keep it private). Off when unset.
    #[arg(long, env = "METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Development mode: the web chat offers a sign-in as any user name
    /// (POST /dev/token, signed with AUTH_JWT_SECRET). Loopback only.
    #[arg(long, env = "DEV_MODE", value_parser = clap::builder::BoolishValueParser::new())]
    pub dev: bool,

    #[command(flatten)]
    pub auth: AuthArgs,

    /// Base URL of the OpenAI-compatible API (OpenAI, Gemini, Ollama, vLLM, OpenRouter, LiteLLM).
    #[arg(
        long,
        env = "LLM_BASE_URL",
        default_value = "http://127.0.0.1:11434/v1"
    )]
    pub llm_base_url: String,

    /// API key of the model provider.
    #[arg(long, env = "LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<Secret>,

    /// Model name.
    #[arg(long, env = "LLM_MODEL", default_value = "llama3.1")]
    pub llm_model: String,

    /// Timeout of one model call, in seconds.
    #[arg(long, env = "LLM_TIMEOUT_SECS", default_value_t = 60)]
    pub llm_timeout_secs: u64,

    /// Timeout of one tool call, in seconds.
    #[arg(long, env = "TOOL_TIMEOUT_SECS", default_value_t = 30)]
    pub tool_timeout_secs: u64,

    /// Seconds between keep-alive comments of a quiet streamed reply.
    #[arg(long, env = "SSE_KEEPALIVE_SECS", default_value_t = 15)]
    pub sse_keepalive_secs: u64,

    /// Most model calls in one turn.
    #[arg(long, env = "MAX_AGENT_STEPS", default_value_t = 8)]
    pub max_agent_steps: u32,

    /// Tool calls of one model step that run; the rest are answered with an error
    /// asking the model to batch.
    #[arg(long, env = "MAX_TOOL_CALLS_PER_STEP", default_value_t = 16)]
    pub max_tool_calls_per_step: u32,

    /// Bytes of one tool result stored and sent to the model; a longer one is cut,
    /// with a note saying so.
    #[arg(long, env = "MAX_TOOL_RESULT_BYTES", default_value_t = 16384)]
    pub max_tool_result_bytes: u32,

    /// Bytes of the messages of one model call: older history is left out to fit,
    /// and a turn whose own tool results outgrow it stops, saying so.
    #[arg(long, env = "MAX_PROMPT_BYTES", default_value_t = 524288)]
    pub max_prompt_bytes: u32,

    /// Wall-clock limit of one turn, in seconds (it stops, saying so, even when
    /// its client has gone).
    #[arg(long, env = "TURN_TIMEOUT_SECS", default_value_t = 120)]
    pub turn_timeout_secs: u64,

    /// Model tokens (prompt and completion, as the model reports them) each user may use per
    /// UTC day; a user who spent them gets 429 with Retry-After until midnight UTC. 0: no budget.
    #[arg(long, env = "DAILY_TOKEN_BUDGET", default_value_t = 1_000_000)]
    pub daily_token_budget: u64,

    /// Conversations one user may keep; starting another is refused (429 quota_exceeded)
    /// until some are deleted. 0: no limit.
    #[arg(long, env = "MAX_CONVERSATIONS_PER_USER", default_value_t = 1_000)]
    pub max_conversations_per_user: u32,

    /// Messages one conversation may hold (tool calls and results included); a new message
    /// in a full one is refused (429 quota_exceeded). 0: no limit.
    #[arg(long, env = "MAX_MESSAGES_PER_CONVERSATION", default_value_t = 5_000)]
    pub max_messages_per_conversation: u32,

    /// Turns running at once across all users; more are answered 503 with Retry-After.
    #[arg(long, env = "MAX_CONCURRENT_TURNS", default_value_t = 64)]
    pub max_concurrent_turns: usize,

    /// Model calls running at once across all turns; more wait for a free place
    /// (within their turn's deadline).
    #[arg(long, env = "MAX_CONCURRENT_MODEL_CALLS", default_value_t = 32)]
    pub max_concurrent_model_calls: usize,

    /// How many of the last messages the model sees.
    #[arg(long, env = "HISTORY_MESSAGES", default_value_t = 20)]
    pub history_messages: u32,

    /// Chat requests per user per minute (a burst of as many is allowed).
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE", default_value_t = 10)]
    pub rate_limit_per_minute: u32,

    /// Other API requests (conversation reads and deletes) per user per minute.
    #[arg(long, env = "READ_RATE_LIMIT_PER_MINUTE", default_value_t = 120)]
    pub read_rate_limit_per_minute: u32,

    #[command(flatten)]
    pub limit_backend: LimitBackendArgs,

    /// The task server's MCP endpoint.
    #[arg(long, env = "MCP_URL", default_value = "http://127.0.0.1:8001/mcp")]
    pub mcp_url: String,

    /// The task server's HS256 secret: the gateway signs short-lived tokens with it.
    #[arg(long, env = "MCP_JWT_SECRET", hide_env_values = true)]
    pub mcp_jwt_secret: Secret,

    /// The task server's audience.
    #[arg(long, env = "MCP_AUDIENCE", default_value = "todo-mcp")]
    pub mcp_audience: String,

    /// The `iss` of the tokens the gateway signs for the task server (todo-mcp accepts it on
    /// HS256 tokens, never a JWKS source's issuer).
    #[arg(long, env = "MCP_TOKEN_ISSUER", default_value = "todo-gateway")]
    pub mcp_token_issuer: String,

    /// Browser origins of frontends allowed to call the API (comma-separated, exact
    /// scheme://host[:port]). None by default.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,

    #[command(flatten)]
    pub http_limits: HttpLimitArgs,
}

impl ServeArgs {
    pub fn llm_timeout(&self) -> Duration {
        Duration::from_secs(self.llm_timeout_secs.max(1))
    }

    pub fn tool_timeout(&self) -> Duration {
        Duration::from_secs(self.tool_timeout_secs.max(1))
    }

    pub fn bounds(&self) -> Bounds {
        Bounds {
            tool_calls_per_step: self.max_tool_calls_per_step.max(1) as usize,
            tool_result_bytes: self.max_tool_result_bytes.max(256) as usize,
            prompt_bytes: self.max_prompt_bytes.max(1024) as usize,
            turn_timeout: Duration::from_secs(self.turn_timeout_secs.max(1)),
        }
    }

    pub fn sse_keepalive(&self) -> Duration {
        Duration::from_secs(self.sse_keepalive_secs.max(1))
    }
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The user (the token's `sub`).
    #[arg(long)]
    pub user: String,

    /// How long the token is valid: a number with s, m, h or d.
    #[arg(long, default_value = "1h", value_parser = todo_server::process::parse_ttl)]
    pub ttl: std::time::Duration,

    #[command(flatten)]
    pub auth: AuthArgs,
}
