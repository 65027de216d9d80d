use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser as _;
use todo_gateway::agent::{Agent, AgentConfig};
use todo_gateway::config::{Cli, Command, CommonArgs, LogFormat, ServeArgs, TokenArgs};
use todo_gateway::http::{self, AppState, RateLimits};
use todo_gateway::llm::{LlmClient, LlmConfig};
use todo_gateway::mcp::{McpConfig, TaskServer};
use todo_shared::auth::{TokenVerifier, VerifierConfig, mint_hs256};
use todo_shared::store::{default_sqlite_url, redact_url};
use todo_shared::{Store, StoreOptions, UserId};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("todo-gateway: ignoring .env: {error}");
    }
    let cli = Cli::parse();
    init_tracing(&cli.common);
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
            let store = open_store(&cli.common).await?;
            tracing::info!(database = store.backend(), "migrations are applied");
            store.close().await;
            Ok(())
        }
        Command::Serve(args) => serve(&cli.common, &args).await,
    }
}

async fn serve(common: &CommonArgs, args: &ServeArgs) -> anyhow::Result<()> {
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

    let store = open_store(common).await?;
    let agent = Agent {
        store: store.clone(),
        llm: LlmClient::new(llm)?,
        tasks: TaskServer::new(mcp)?,
        config: AgentConfig {
            max_steps: args.max_agent_steps.max(1),
            history_messages: args.history_messages.max(1),
            ..AgentConfig::default()
        },
    };
    let router = http::router(
        AppState {
            agent,
            verifier,
            store: store.clone(),
        },
        RateLimits {
            chat_per_minute: args.rate_limit_per_minute,
            reads_per_minute: args.read_rate_limit_per_minute,
        },
    );
    let listener = TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(addr = %addr, database = store.backend(), model = %args.llm_model, "listening on http://{addr}/api");
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    http::run(listener, router, async move { shutdown.cancelled().await }).await?;
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
    let ttl = parse_ttl(&args.ttl).map_err(anyhow::Error::msg)?;
    let token = mint_hs256(
        secret,
        &user,
        args.auth.audience().as_deref(),
        args.auth.issuer().as_deref(),
        ttl,
    )?;
    println!("{token}");
    Ok(())
}

/// `90s`, `15m`, `1h`, `7d` (at most 30 days).
fn parse_ttl(raw: &str) -> Result<Duration, String> {
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration like 15m or 1h"))?;
    let seconds = match unit {
        "s" | "" => number,
        "m" => number.saturating_mul(60),
        "h" => number.saturating_mul(3600),
        "d" => number.saturating_mul(86_400),
        _ => return Err(format!("{raw:?}: the unit must be s, m, h or d")),
    };
    if seconds == 0 || seconds > 30 * 86_400 {
        return Err(format!(
            "{raw:?}: a token must live between 1 second and 30 days"
        ));
    }
    Ok(Duration::from_secs(seconds))
}

async fn open_store(common: &CommonArgs) -> anyhow::Result<Store> {
    let url = common
        .database_url
        .clone()
        .unwrap_or_else(default_sqlite_url);
    let mut options = StoreOptions::new(url);
    options.max_connections = common.database_max_connections;
    let store = Store::open(&options)
        .await
        .with_context(|| format!("cannot open {}", redact_url(&options.url)))?;
    store.migrate().await?;
    Ok(store)
}

fn init_tracing(common: &CommonArgs) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&common.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match common.log_format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn cancel_on_signal(token: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        } else {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown signal received");
    token.cancel();
}
