use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use todo_domain::store::Quotas;
use todo_domain::{UserId, Zone};
use todo_mcp::app::HttpApp;
use todo_mcp::config::{Cli, Command, CommonArgs, MintArgs};
use todo_server::Caller;
use todo_server::auth::mint_hs256;
use todo_server::process;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

// glibc malloc spends a fifth of the CPU under load (arena locks, consolidation);
// mimalloc is faster with many small short-lived allocations across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A .env file in the working directory is optional (never one in a
    // directory above: that could be anybody's); a broken one is worth a
    // word.
    if let Err(error) = dotenvy::from_path(".env")
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
            tracing::error!("{}", todo_server::process::error_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let user = UserId::parse(&cli.common.user).context("invalid --user / TODO_USER_ID")?;
    let zone = match &cli.common.timezone {
        Some(name) => Zone::parse(name).context("invalid --timezone / TODO_TIMEZONE")?,
        None => Zone::local(),
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let process = &cli.common.process;
    match cli.command {
        None | Some(Command::Stdio) => {
            let store = process.open_store().await?.with_quotas(Quotas::new(
                cli.common.max_tasks_per_user,
                0,
                0,
            ));
            tracing::info!(user = %user, timezone = zone.name(), database = store.backend(), "serving MCP over stdio");
            let caller = Caller::new(user).in_zone(zone);
            todo_mcp::stdio::run(store.clone(), caller, shutdown).await?;
            store.close().await;
        }
        Some(Command::Token(args)) => print_token(&args, &user)?,
        Some(Command::Migrate) => {
            let store = process.open_store().await?;
            tracing::info!(database = store.backend(), "migrations are applied");
            store.close().await;
        }
        Some(Command::Http(args)) => {
            let app = HttpApp::build(&args, &user, process, cli.common.max_tasks_per_user).await?;
            let listener = TcpListener::bind(args.bind)
                .await
                .with_context(|| format!("cannot listen on {}", args.bind))?;
            app.run(listener, async move { shutdown.cancelled().await })
                .await?;
        }
    }
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
        args.tokens.minted_issuer(),
        args.ttl,
    )?;
    println!("{token}");
    Ok(())
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
