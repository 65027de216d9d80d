//! The stdio front door: one MCP session over stdin/stdout for one user.
//! The session's caller is put on every request it reads, as the HTTP
//! authentication layer puts the token's on each request it lets through:
//! the tools read it the same way either way.

use std::time::Duration;

use rmcp::model::{GetExtensions as _, JsonRpcMessage};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::io::stdio_pipes;
use rmcp::{RoleServer, ServiceExt as _};
use todo_domain::Store;
use todo_server::Caller;
use tokio_util::sync::CancellationToken;

use crate::server::TaskServer;

/// How long a shutdown waits for tool calls in progress.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Serve until stdin closes or `shutdown` is cancelled.
pub async fn run(store: Store, caller: Caller, shutdown: CancellationToken) -> anyhow::Result<()> {
    let server = TaskServer::new(store);
    let (stdin, stdout) = stdio_pipes();
    let transport = WithCaller {
        inner: AsyncRwTransport::new_server(stdin, stdout),
        caller,
    };
    let running = server.clone().serve(transport).await?;
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

/// A transport that puts `caller` on every request it receives.
struct WithCaller<T> {
    inner: T,
    caller: Caller,
}

impl<T: Transport<RoleServer>> Transport<RoleServer> for WithCaller<T> {
    type Error = T::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        let mut message = self.inner.receive().await?;
        if let JsonRpcMessage::Request(request) = &mut message {
            request.request.extensions_mut().insert(self.caller.clone());
        }
        Some(message)
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}
