//! Plumbing both binaries share: the database and logging options, logging,
//! the shutdown signal, opening the store, and durations on the command line.

use std::time::Duration;

use clap::{Args, ValueEnum};

use todo_domain::store::{OpenError, Store, StoreOptions, default_sqlite_url, redact_url};

/// The options every binary has: where the database is and how to log.
#[derive(Debug, Args)]
pub struct ProcessArgs {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB. Default: a SQLite file
    /// todo-mcp/todo.db in your data directory, created on first run (one database can
    /// serve todo-mcp and todo-gateway).
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub database_url: Option<String>,

    /// Most database connections to keep open.
    #[arg(
        long,
        env = "DATABASE_MAX_CONNECTIONS",
        global = true,
        default_value_t = 16
    )]
    pub database_max_connections: u32,

    /// Log filter, in tracing's EnvFilter syntax (e.g. info, todo_mcp=debug).
    #[arg(
        long,
        env = "RUST_LOG",
        global = true,
        default_value = "info,rmcp=warn"
    )]
    pub log: String,

    /// Log format on stderr.
    #[arg(long, env = "LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The store could not be opened; says which (without its password).
#[derive(Debug, thiserror::Error)]
#[error("cannot open {shown}")]
pub struct OpenStoreError {
    shown: String,
    #[source]
    source: OpenError,
}

impl ProcessArgs {
    /// Logging as configured; `ansi` for colours.
    pub fn init_tracing(&self, ansi: bool) {
        init_tracing(&self.log, self.log_format == LogFormat::Json, ansi);
    }

    /// The configured store, migrated.
    pub async fn open_store(&self) -> Result<Store, OpenStoreError> {
        open_store(self.database_url.clone(), self.database_max_connections)
            .await
            .map_err(|source| OpenStoreError {
                shown: redact_url(
                    self.database_url
                        .as_deref()
                        .unwrap_or("the default SQLite file"),
                ),
                source,
            })
    }
}

/// Logs on stderr (stdout may belong to a protocol): text or one JSON object
/// per line, filtered by `filter` (tracing's EnvFilter syntax).
fn init_tracing(filter: &str, json: bool, ansi: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown signal received");
}

/// Open the store at `url` (default: the SQLite file in the data directory)
/// and apply the migrations.
async fn open_store(url: Option<String>, max_connections: u32) -> Result<Store, OpenError> {
    let mut options = StoreOptions::new(url.unwrap_or_else(default_sqlite_url));
    options.max_connections = max_connections;
    let store = Store::open(&options).await?;
    store.migrate().await?;
    Ok(store)
}

/// `90s`, `15m`, `1h`, `7d` (at most 30 days).
pub fn parse_ttl(raw: &str) -> Result<Duration, String> {
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

/// `error` and its causes, each once, joined with `: ` (as `{:#}` does,
/// without repeating a cause whose text its parent already quoted).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut shown = error.to_string();
    let mut previous = shown.clone();
    let mut cause = error.source();
    while let Some(next) = cause {
        let text = next.to_string();
        if !text.is_empty() && !previous.contains(&text) {
            shown.push_str(": ");
            shown.push_str(&text);
        }
        previous = text;
        cause = next.source();
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_accepts_the_usual_units() {
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
    }

    #[test]
    fn ttl_rejects_zero_huge_and_garbage() {
        for raw in ["0s", "31d", "h", "1y", "-1h", "", "1.5h"] {
            assert!(parse_ttl(raw).is_err(), "{raw:?} was accepted");
        }
    }
}
