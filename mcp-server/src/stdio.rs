//! The stdio front door: one MCP session over stdin/stdout for one user.

use rmcp::ServiceExt as _;
use rmcp::transport::io::stdio_pipes;
use tokio_util::sync::CancellationToken;

use crate::tools::{Identity, TaskServer};
use todo_shared::{Store, UserId};

/// Serve until stdin closes or `shutdown` is cancelled.
pub async fn run(store: Store, user: UserId, shutdown: CancellationToken) -> anyhow::Result<()> {
    let server = TaskServer::new(store, Identity::Fixed(user));
    let running = server.serve(stdio_pipes()).await?;
    let cancel = running.cancellation_token();
    let waiting = running.waiting();
    tokio::pin!(waiting);
    tokio::select! {
        reason = &mut waiting => {
            tracing::info!(?reason, "stdio session ended");
        }
        () = shutdown.cancelled() => {
            tracing::info!("shutting down the stdio session");
            cancel.cancel();
            let _ = waiting.await;
        }
    }
    Ok(())
}
