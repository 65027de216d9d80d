//! The stdio front door: one MCP session over stdin/stdout for one user.

use std::time::Duration;

use rmcp::ServiceExt as _;
use rmcp::transport::io::stdio_pipes;
use tokio_util::sync::CancellationToken;

use crate::tools::{Identity, TaskServer};
use todo_shared::{Store, UserId};

/// How long a shutdown waits for tool calls in progress.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Serve until stdin closes or `shutdown` is cancelled.
pub async fn run(store: Store, user: UserId, shutdown: CancellationToken) -> anyhow::Result<()> {
    let server = TaskServer::new(store, Identity::Fixed(user));
    let running = server.clone().serve(stdio_pipes()).await?;
    let cancel = running.cancellation_token();
    let waiting = running.waiting();
    tokio::pin!(waiting);
    tokio::select! {
        reason = &mut waiting => {
            tracing::info!(?reason, "stdio session ended");
        }
        () = shutdown.cancelled() => {
            tracing::info!("shutting down the stdio session");
            // Let calls in progress finish and answer before closing.
            if !server.drain(DRAIN_LIMIT).await {
                tracing::warn!("tool calls still running at shutdown; closing anyway");
            }
            cancel.cancel();
            let _ = waiting.await;
        }
    }
    Ok(())
}
