//! Serving a router on a listener, with the limits axum's own `serve` does
//! not set: a connection must send its request's headers in time (which also
//! closes keep-alive connections left idle), and past a number of open
//! connections new ones are answered 503 at once and closed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::http::admit::RequestLimits;
use crate::http::metrics::Metrics;

/// What one listener accepts.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time a connection has to send a request's headers, counted from when
    /// it opened or its previous answer was sent.
    pub header_timeout: Duration,
    /// Connections open at once; more are answered 503 and closed.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(20),
            max_connections: 4096,
        }
    }
}

/// The limits of a listener and of its requests, as flags and variables
/// (the same in both services).
#[derive(Debug, Clone, clap::Args)]
pub struct HttpLimitArgs {
    /// Seconds a connection has to send a request's headers, counted from when it opened
    /// or its previous answer was sent: it also closes keep-alive connections left idle.
    #[arg(long, env = "HTTP_HEADER_TIMEOUT_SECS", default_value_t = 20)]
    pub http_header_timeout_secs: u64,

    /// Seconds a request's body has to arrive whole (408 after).
    #[arg(long, env = "HTTP_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub http_body_timeout_secs: u64,

    /// Connections open at once; more are answered 503 and closed.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Requests handled at once; more are answered 503 with Retry-After at once (load
    /// shedding). Liveness probes are always answered.
    #[arg(long, env = "MAX_CONCURRENT_REQUESTS", default_value_t = 512)]
    pub max_concurrent_requests: usize,
}

impl HttpLimitArgs {
    pub fn connections(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(self.http_header_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
        }
    }

    /// The requests' limits; bodies are read up to one byte past
    /// `max_body_bytes` (the routes refuse longer ones in their own words).
    pub fn requests(&self, max_body_bytes: usize, metrics: Option<Arc<Metrics>>) -> RequestLimits {
        RequestLimits::new(
            self.max_concurrent_requests,
            Duration::from_secs(self.http_body_timeout_secs.max(1)),
            max_body_bytes,
            metrics,
        )
    }
}

/// The answer to a connection past [`ConnectionLimits::max_connections`].
const FULL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 74\r\n\r\n{\"error\":\"overloaded\",\"message\":\"too many connections: try again shortly\"}";

/// Serve `router` on `listener` until `shutdown` resolves, then let the
/// requests in flight finish. Handlers can read the peer's address as
/// [`ConnectInfo<SocketAddr>`].
pub async fn run(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ConnectionLimits,
    metrics: Option<Arc<Metrics>>,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.header_timeout))
        .keep_alive_timeout(limits.header_timeout)
        .max_concurrent_streams(64);
    let builder = Arc::new(builder);
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: wait a little rather than spin.
                    tracing::debug!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            if let Some(metrics) = &metrics {
                metrics.shed("connections");
            }
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.map(axum::body::Body::new)
            });
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            if !protocol_in_time(&stream, limits.header_timeout).await {
                return;
            }
            let io = TokioIo::new(stream);
            let connection = builder
                .serve_connection_with_upgrades(io, TowerToHyperService::new(service))
                .into_owned();
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Wait until the connection's first bytes tell HTTP/1 from HTTP/2's
/// preface, for at most `within`. (hyper-util reads them before hyper's
/// header timer starts; a peer that sends nothing would be held for ever.)
async fn protocol_in_time(stream: &TcpStream, within: Duration) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = [0u8; PREFACE.len()];
    loop {
        let peeked = tokio::time::timeout_at(deadline, stream.peek(&mut seen)).await;
        let Ok(Ok(read)) = peeked else { return false };
        if read == 0 {
            return false;
        }
        if seen[..read] != PREFACE[..read] || read == PREFACE.len() {
            return true;
        }
        // Part of the preface so far: look again shortly.
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Answer a connection past the limit with a 503, without reading it.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(FULL).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_is_a_well_formed_answer() {
        let text = std::str::from_utf8(super::FULL).expect("ascii");
        let (_, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
        assert!(serde_json::from_str::<serde_json::Value>(body).is_ok());
    }
}
