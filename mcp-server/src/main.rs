use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Parser as _;
use todo_mcp::config::{Cli, Command, CommonArgs, HttpArgs, MintArgs};
use todo_mcp::http::{self, AuthMode, HttpOptions};
use todo_shared::UserId;
use todo_shared::auth::{TokenVerifier, VerifierConfig, mint_hs256};
use todo_shared::http::Metrics;
use todo_shared::process;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

// glibc malloc spends a fifth of the CPU under load (arena locks, consolidation);
// mimalloc is faster with many small short-lived allocations across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A .env file is optional; a broken one is worth a word.
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("todo-mcp: ignoring .env: {error}");
    }
    let cli = Cli::parse();
    let stdio = matches!(cli.command, None | Some(Command::Stdio));
    init_tracing(&cli.common, stdio);

    // One MCP session over a pipe gains nothing from a second worker thread,
    // and saves a cross-thread wake-up per message without it.
    let mut builder = if stdio {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("todo-mcp: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // stdin may still be in a blocking read that nothing can cancel: do not
    // wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Once, through the logger, so JSON logs stay JSON.
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let user = UserId::parse(&cli.common.user).context("invalid --user / TODO_USER_ID")?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));

    if let Some(Command::Token(args)) = &cli.command {
        return print_token(args, &user);
    }
    // Check the HTTP configuration before touching the database.
    let http_setup = match &cli.command {
        Some(Command::Http(args)) => Some(http_options(args, &user)?),
        _ => None,
    };

    let store = cli.common.process.open_store().await?;
    match cli.command {
        None | Some(Command::Stdio) => {
            tracing::info!(user = %user, database = store.backend(), "serving MCP over stdio");
            todo_mcp::stdio::run(store.clone(), user, shutdown).await?;
        }
        // Answered above, before the database is opened.
        Some(Command::Token(_)) => {}
        Some(Command::Migrate) => {
            tracing::info!(database = store.backend(), "migrations are applied");
        }
        Some(Command::Http(args)) => {
            let options = http_setup.context("http options")?;
            let listener = TcpListener::bind(args.bind)
                .await
                .with_context(|| format!("cannot listen on {}", args.bind))?;
            let addr = listener.local_addr()?;
            // The MCP transport is stopped only after the HTTP server has let
            // requests in flight finish; stopping it with the signal would
            // drop tool calls half-way.
            let mcp_cancel = CancellationToken::new();
            let metrics = Arc::new(Metrics::new(Some(store.clone())));
            todo_shared::http::spawn_metrics(args.metrics_bind, &metrics)
                .await
                .with_context(|| {
                    format!("cannot listen on --metrics-bind {:?}", args.metrics_bind)
                })?;
            let router = http::router(store.clone(), options, metrics, mcp_cancel.clone());
            tracing::info!(addr = %addr, database = store.backend(), "listening on http://{addr}/mcp");
            let stop = shutdown.clone();
            todo_shared::http::run(listener, router, async move { stop.cancelled().await }).await?;
            mcp_cancel.cancel();
            tracing::info!("HTTP server stopped; requests in flight have finished");
        }
    }
    store.close().await;
    Ok(())
}

/// `todo-mcp token`: mint a development token. Needs the HS256 secret.
fn print_token(args: &MintArgs, user: &UserId) -> anyhow::Result<()> {
    let secret = args
        .tokens
        .jwt_secret
        .as_ref()
        .context("set MCP_JWT_SECRET (or --jwt-secret): the token is signed with it")?;
    let token = mint_hs256(
        secret,
        user,
        Some(&args.tokens.audience),
        args.tokens.issuer.as_deref(),
        args.ttl,
    )?;
    println!("{token}");
    Ok(())
}

fn http_options(args: &HttpArgs, user: &UserId) -> anyhow::Result<HttpOptions> {
    let auth = if args.no_auth {
        if !args.bind.ip().is_loopback() {
            bail!(
                "--no-auth is for local development and only allowed on a loopback --bind (got {})",
                args.bind
            );
        }
        tracing::warn!(user = %user, "authentication is OFF (--no-auth): every request acts as this user");
        AuthMode::NoAuth(user.clone())
    } else {
        let verifier = TokenVerifier::new(VerifierConfig {
            hs256_secret: args.tokens.jwt_secret.clone(),
            jwks_url: args.jwks_url.clone(),
            audience: Some(args.tokens.audience.clone()),
            issuer: args.tokens.issuer.clone(),
            jwks_refetch_cooldown: std::time::Duration::from_secs(args.jwks_refetch_cooldown),
            ..VerifierConfig::default()
        })
        .context("cannot verify tokens (set MCP_JWT_SECRET and/or MCP_JWKS_URL, or use --no-auth locally)")?;
        AuthMode::Verify(verifier)
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
    Ok(HttpOptions {
        auth,
        public_url: public_url.clone(),
        authorization_servers,
        allowed_hosts: allowed_hosts(args, public_url.as_deref()),
        allowed_origins: allowed_origins(args),
    })
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

fn init_tracing(common: &CommonArgs, stdio: bool) {
    // stdout belongs to the MCP protocol in stdio mode: logs go to stderr,
    // always, and without colours when it is not a terminal.
    let ansi = !stdio && std::io::IsTerminal::is_terminal(&std::io::stderr());
    common.process.init_tracing(ansi);
}

async fn cancel_on_signal(token: CancellationToken) {
    process::shutdown_signal().await;
    token.cancel();
}
