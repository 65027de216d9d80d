//! The metrics listener: `GET /metrics` on an address of its own, so that
//! metrics are public only if that address is.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use crate::http::metrics::Metrics;

/// Serve `GET /metrics` from `metrics` on `listener` (a listener of its own,
/// so that metrics are public only if its address is). Runs until the
/// process ends.
pub async fn serve_metrics(listener: TcpListener, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let router = Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics);
    axum::serve(listener, router).await
}

async fn scrape(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot encode the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Bind the metrics listener when an address is configured and serve it in
/// the background; logs where.
pub async fn spawn_metrics(
    bind: Option<SocketAddr>,
    metrics: &Arc<Metrics>,
) -> std::io::Result<()> {
    let Some(bind) = bind else {
        return Ok(());
    };
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let metrics = metrics.clone();
    tokio::spawn(async move {
        if let Err(error) = serve_metrics(listener, metrics).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    tracing::info!(addr = %addr, "metrics at http://{addr}/metrics");
    Ok(())
}
