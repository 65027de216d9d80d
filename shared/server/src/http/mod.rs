//! HTTP plumbing both services share: serving a router ([`run`]), the
//! middleware that gives every request its id, its log span and its
//! metrics ([`observe`]), the headers every answer carries ([`headers`]),
//! authentication ([`authenticate`]), the metric families ([`metrics`]) and
//! their separate listener ([`scrape`]).

pub mod authenticate;
pub mod headers;
pub mod metrics;
pub mod observe;
pub mod scrape;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

pub use authenticate::{Authentication, authenticate};
pub use headers::nosniff;
pub use metrics::Metrics;
pub use observe::observe;
pub use scrape::{serve_metrics, spawn_metrics};

/// Serve `router` on `listener` until `shutdown` resolves, then let the
/// requests in flight finish.
pub async fn run(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
