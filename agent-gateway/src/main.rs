use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Parser as _;
use todo_gateway::agent::{Agent, AgentConfig};
use todo_gateway::config::{Cli, Command, ServeArgs, TokenArgs};
use todo_gateway::http::{self, AppState, RateLimits};
use todo_gateway::limit::{Backend, Limit, RedisCounter};
use todo_gateway::llm::{LlmClient, LlmConfig};
use todo_gateway::mcp::{McpConfig, TaskServer};
use todo_gateway::metrics::GatewayMetrics;
use todo_gateway::web::DevTokens;
use todo_shared::UserId;
use todo_shared::auth::{TokenVerifier, VerifierConfig, mint_hs256};
use todo_shared::http::Metrics;
use todo_shared::process;
use todo_shared::process::ProcessArgs;
use tokio::net::TcpListener;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("todo-gateway: ignoring .env: {error}");
    }
    let cli = Cli::parse();
    cli.common
        .init_tracing(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("todo-gateway: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Token(args) => print_token(&args),
        Command::Migrate => {
            let store = cli.common.open_store().await?;
            tracing::info!(database = store.backend(), "migrations are applied");
            store.close().await;
            Ok(())
        }
        Command::Serve(args) => serve(&cli.common, &args).await,
    }
}

async fn serve(common: &ProcessArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let verifier = TokenVerifier::new(VerifierConfig {
        hs256_secret: args.auth.better_auth_secret.clone(),
        jwks_url: args.auth.jwks_url(),
        audience: args.auth.audience(),
        issuer: args.auth.issuer(),
        ..VerifierConfig::default()
    })
    .context(
        "cannot verify user tokens (set BETTER_AUTH_URL, AUTH_JWKS_URL and/or BETTER_AUTH_SECRET)",
    )?;
    let mut llm = LlmConfig::new(args.llm_base_url.clone(), args.llm_model.clone());
    llm.api_key = args.llm_api_key.clone();
    llm.timeout = args.llm_timeout();
    let mut mcp = McpConfig::new(args.mcp_url.clone(), args.mcp_jwt_secret.clone());
    mcp.audience = args.mcp_audience.clone();
    mcp.tool_timeout = args.tool_timeout();

    let dev_tokens = if args.dev {
        if !args.bind.ip().is_loopback() {
            bail!(
                "--dev lets anyone sign in as any user: it is refused on {}, use a loopback address",
                args.bind
            );
        }
        let Some(secret) = args.auth.better_auth_secret.clone() else {
            bail!("--dev signs its tokens with BETTER_AUTH_SECRET: set it");
        };
        tracing::warn!("development mode: the web chat lets anyone sign in as any user");
        Some(DevTokens {
            secret,
            audience: args.auth.audience(),
            issuer: args.auth.issuer(),
            ttl: std::time::Duration::from_secs(12 * 3600),
        })
    } else {
        None
    };
    // A turn holds its conversation's lease for one step at a time (it is
    // renewed after each): the longest a step can take, with room to spare.
    let step = llm.timeout * llm.max_attempts + llm.max_total_backoff + mcp.tool_timeout;
    let lease = step + std::time::Duration::from_secs(30);

    let store = common.open_store().await?;
    let mut metrics = Metrics::new(Some(store.clone()));
    let gateway_metrics = GatewayMetrics::register(&mut metrics);
    let metrics = Arc::new(metrics);
    let redis = match args.rate_limit_backend {
        Backend::Memory => None,
        Backend::Redis => Some(Arc::new(
            RedisCounter::new(&args.redis_url, Some(gateway_metrics.clone()))
                .context("invalid REDIS_URL")?,
        )),
    };
    let limits = RateLimits {
        chat: Limit::new(
            "chat",
            args.rate_limit_per_minute,
            redis.clone(),
            Some(gateway_metrics.clone()),
        ),
        read: Limit::new(
            "read",
            args.read_rate_limit_per_minute,
            redis,
            Some(gateway_metrics.clone()),
        ),
    };
    let agent = Agent {
        store: store.clone(),
        llm: LlmClient::new(llm)?.with_metrics(gateway_metrics),
        tasks: TaskServer::with_metrics(mcp, Some(metrics.clone()))?,
        config: AgentConfig {
            max_steps: args.max_agent_steps.max(1),
            history_messages: args.history_messages.max(1),
            lease,
            lease_wait: lease,
        },
    };
    let router = http::router(
        AppState {
            agent,
            verifier,
            store: store.clone(),
            keep_alive: args.sse_keepalive(),
            dev_tokens,
            metrics: metrics.clone(),
        },
        limits,
    );
    todo_shared::http::spawn_metrics(args.metrics_bind, &metrics)
        .await
        .with_context(|| format!("cannot listen on --metrics-bind {:?}", args.metrics_bind))?;
    let listener = TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(addr = %addr, database = store.backend(), model = %args.llm_model, "listening on http://{addr}/ (web chat at /, API under /api)");
    todo_shared::http::run(listener, router, process::shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

fn print_token(args: &TokenArgs) -> anyhow::Result<()> {
    let Some(secret) = &args.auth.better_auth_secret else {
        bail!(
            "set BETTER_AUTH_SECRET (or --better-auth-secret): development tokens are signed with it"
        );
    };
    let user = UserId::parse(&args.user).context("invalid --user")?;
    let token = mint_hs256(
        secret,
        &user,
        args.auth.audience().as_deref(),
        args.auth.issuer().as_deref(),
        args.ttl,
    )?;
    println!("{token}");
    Ok(())
}
