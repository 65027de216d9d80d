use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Parser as _;
use todo_domain::UserId;
use todo_gateway::app::App;
use todo_gateway::config::{Cli, Command, TokenArgs};
use todo_server::auth::mint_hs256;
use todo_server::process;
use tokio::net::TcpListener;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Only the working directory's .env, never one in a directory above.
    if let Err(error) = dotenvy::from_path(".env")
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
            tracing::error!("{}", todo_server::process::error_chain(error.as_ref()));
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
        Command::Serve(args) => {
            let app = App::build(&args, &cli.common).await?;
            let listener = TcpListener::bind(args.bind)
                .await
                .with_context(|| format!("cannot listen on {}", args.bind))?;
            app.run(listener, process::shutdown_signal()).await
        }
    }
}

fn print_token(args: &TokenArgs) -> anyhow::Result<()> {
    args.auth.warn_about_names();
    let Some(secret) = args.auth.hs256_secret() else {
        bail!("set AUTH_JWT_SECRET (or --auth-jwt-secret): development tokens are signed with it");
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
