//! The composition root of `todo-gateway serve`: the whole application
//! built from its configuration ([`App::build`]) and served on a listener
//! the caller bound ([`App::run`]). `main` and the tests reach the same
//! application through it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use todo_domain::Store;
use todo_domain::store::Quotas;
use todo_server::Authenticator;
use todo_server::Metrics;
use todo_server::auth::{TokenVerifier, VerifierConfig};
use todo_server::http::{Authentication, ConnectionLimits};
use todo_server::process::ProcessArgs;
use tokio::net::TcpListener;

use crate::agent::{Agent, AgentConfig, Capacity};
use crate::config::ServeArgs;
use crate::http::state::{AppState, DevTokens, RateLimits};
use crate::llm::{LlmClient, LlmConfig};
use crate::mcp::{McpConfig, TaskServer};
use crate::metrics::GatewayMetrics;
use todo_server::limit::Limit;

/// `todo-gateway serve`, ready to serve.
pub struct App {
    store: Store,
    router: Router,
    metrics: Arc<Metrics>,
    metrics_bind: Option<SocketAddr>,
    model: String,
    connection_limits: ConnectionLimits,
}

impl App {
    /// Check the configuration (before touching the database), open and
    /// migrate the store, and build the router with everything behind it.
    pub async fn build(args: &ServeArgs, process: &ProcessArgs) -> anyhow::Result<Self> {
        args.auth.warn_about_names();
        // With one secret for both, the task server's tokens would open the
        // gateway and the users' tokens the task server.
        if args
            .auth
            .hs256_secret()
            .is_some_and(|s| !s.expose().is_empty() && s.expose() == args.mcp_jwt_secret.expose())
        {
            anyhow::bail!(
                "AUTH_JWT_SECRET (or BETTER_AUTH_SECRET) and MCP_JWT_SECRET are the same: give \
                 each its own secret (openssl rand -hex 32), or tokens for one service would open \
                 the other"
            );
        }
        let jwks_url = args.auth.jwks_url();
        // A JWKS source may sign for other applications too: its tokens must
        // name this one as their audience and the source as their issuer.
        if jwks_url.is_some()
            && (args.auth.issuer().is_none() || args.auth.audience().is_none())
            && !args.auth.auth_jwks_any_issuer
        {
            anyhow::bail!(
                "AUTH_JWKS_URL is set without AUTH_ISSUER and AUTH_AUDIENCE: set both (or \
                 BETTER_AUTH_URL, which gives both), or AUTH_JWKS_ANY_ISSUER=true to accept any \
                 (not recommended: one identity provider often signs for several applications)"
            );
        }
        let verifier = TokenVerifier::new(VerifierConfig {
            hs256_secret: args.auth.hs256_secret().cloned(),
            jwks_url,
            audience: args.auth.audience(),
            issuer: args.auth.issuer(),
            jwks_refetch_cooldown: std::time::Duration::from_secs(
                args.auth.auth_jwks_refetch_cooldown,
            ),
            ..VerifierConfig::default()
        })
        .context(
            "cannot verify user tokens (set BETTER_AUTH_URL, AUTH_JWKS_URL and/or AUTH_JWT_SECRET)",
        )?;
        let mut llm = LlmConfig::new(args.llm_base_url.clone(), args.llm_model.clone());
        llm.api_key = args.llm_api_key.clone();
        llm.timeout = args.llm_timeout();
        let mut mcp = McpConfig::new(args.mcp_url.clone(), args.mcp_jwt_secret.clone());
        mcp.audience = args.mcp_audience.clone();
        mcp.issuer = Some(args.mcp_token_issuer.clone());
        mcp.tool_timeout = args.tool_timeout();
        let dev_tokens = dev_tokens(args)?;
        let cors =
            crate::http::cors::layer(&args.cors_allowed_origins).map_err(anyhow::Error::msg)?;
        // A turn holds its conversation's lease for one step at a time (it is
        // renewed after each): the longest a step can take, with room to spare.
        let step = llm.timeout * llm.max_attempts + llm.max_total_backoff + mcp.tool_timeout;
        let lease = step + Duration::from_secs(30);

        let store = process.open_store().await?.with_quotas(Quotas::new(
            0,
            args.max_conversations_per_user,
            args.max_messages_per_conversation,
        ));
        let mut metrics = Metrics::new(Some(store.clone()));
        let gateway_metrics = GatewayMetrics::register(&mut metrics);
        let metrics = Arc::new(metrics);
        let limits = rate_limits(args, &metrics)?;
        let agent = Agent {
            store: store.clone(),
            llm: LlmClient::new(llm)?.with_metrics(gateway_metrics),
            tasks: TaskServer::with_metrics(mcp, Some(metrics.clone()))?,
            config: AgentConfig {
                max_steps: args.max_agent_steps.max(1),
                history_messages: args.history_messages.max(1),
                lease,
                lease_wait: lease,
                bounds: args.bounds(),
                daily_tokens: (args.daily_token_budget > 0).then_some(args.daily_token_budget),
            },
            capacity: Capacity::new(
                args.max_concurrent_turns,
                args.max_concurrent_model_calls,
                Some(metrics.clone()),
            ),
        };
        agent.spawn_usage_purge();
        let state = AppState {
            agent,
            store: store.clone(),
            keep_alive: args.sse_keepalive(),
            dev_tokens,
            metrics: metrics.clone(),
            readiness: Arc::default(),
            better_auth: args.auth.better_auth_base(),
        };
        let authentication = Authentication {
            authenticator: Authenticator::Tokens(verifier),
            metrics: metrics.clone(),
            refuse: crate::http::auth::refusal(),
        };
        Ok(Self {
            router: crate::http::router(
                state,
                limits,
                authentication,
                Arc::new(
                    args.http_limits
                        .requests(crate::http::extract::MAX_BODY_BYTES, Some(metrics.clone())),
                ),
                cors,
            ),
            connection_limits: args.http_limits.connections(),
            store,
            metrics,
            metrics_bind: args.metrics_bind,
            model: args.llm_model.clone(),
        })
    }

    /// Serve on `listener` (and metrics on their own, when configured) until
    /// `shutdown` resolves; then let requests in flight finish and close the
    /// store.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        todo_server::http::spawn_metrics(self.metrics_bind, &self.metrics)
            .await
            .with_context(|| format!("cannot listen on --metrics-bind {:?}", self.metrics_bind))?;
        let addr = listener.local_addr()?;
        tracing::info!(addr = %addr, database = self.store.backend(), model = %self.model, "listening on http://{addr}/ (web chat at /, API under /api)");
        let metrics = Some(self.metrics.clone());
        todo_server::http::run(
            listener,
            self.router,
            shutdown,
            self.connection_limits,
            metrics,
        )
        .await?;
        self.store.close().await;
        Ok(())
    }
}

/// Development mode's sign-in as anyone: loopback only, and signed with the
/// HS256 secret the gateway verifies.
fn dev_tokens(args: &ServeArgs) -> anyhow::Result<Option<DevTokens>> {
    if !args.dev {
        return Ok(None);
    }
    if !args.bind.ip().is_loopback() {
        bail!(
            "--dev lets anyone sign in as any user: it is refused on {}, use a loopback address",
            args.bind
        );
    }
    let Some(secret) = args.auth.hs256_secret().cloned() else {
        bail!("--dev signs its tokens with AUTH_JWT_SECRET: set it");
    };
    tracing::warn!("development mode: the web chat lets anyone sign in as any user");
    Ok(Some(DevTokens {
        secret,
        audience: args.auth.audience(),
        issuer: args.auth.issuer(),
        ttl: Duration::from_secs(12 * 3600),
    }))
}

/// The per-user limits, counted in Redis when so configured.
fn rate_limits(args: &ServeArgs, metrics: &Arc<Metrics>) -> anyhow::Result<RateLimits> {
    let redis = args
        .limit_backend
        .counter(Some(metrics.clone()))
        .context("invalid REDIS_URL")?;
    Ok(RateLimits {
        chat: Limit::new(
            "todo-gateway",
            "chat",
            args.rate_limit_per_minute,
            redis.clone(),
            Some(metrics.clone()),
        ),
        read: Limit::new(
            "todo-gateway",
            "read",
            args.read_rate_limit_per_minute,
            redis,
            Some(metrics.clone()),
        ),
    })
}
