//! The composition root of `todo-mcp http`: the whole HTTP application
//! built from its configuration ([`HttpApp::build`]) and served on a
//! listener the caller bound ([`HttpApp::run`]). `main` and the tests
//! reach the same application through it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use todo_domain::store::Quotas;
use todo_domain::{Store, UserId};
use todo_server::Metrics;
use todo_server::http::ConnectionLimits;
use todo_server::limit::Limit;
use todo_server::process::ProcessArgs;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::HttpArgs;
use crate::http::options::HttpOptions;

/// `todo-mcp http`, ready to serve.
pub struct HttpApp {
    store: Store,
    router: Router,
    metrics: Arc<Metrics>,
    metrics_bind: Option<SocketAddr>,
    /// Stops the MCP transport's work, once the server has let the
    /// requests in flight finish.
    mcp_cancel: CancellationToken,
    connection_limits: ConnectionLimits,
}

impl HttpApp {
    /// Check the options (before touching the database), open and migrate
    /// the store, and build the router. `user` is whom `--no-auth` acts as;
    /// `task_quota` the most tasks one user may keep (0: no limit).
    pub async fn build(
        args: &HttpArgs,
        user: &UserId,
        process: &ProcessArgs,
        task_quota: u32,
    ) -> anyhow::Result<Self> {
        let options = HttpOptions::from_args(args, user)?;
        let store = process
            .open_store()
            .await?
            .with_quotas(Quotas::new(task_quota, 0, 0));
        let metrics = Arc::new(Metrics::new(Some(store.clone())));
        let mcp_cancel = CancellationToken::new();
        let admission = Arc::new(
            args.http_limits
                .requests(crate::http::MAX_BODY_BYTES, Some(metrics.clone())),
        );
        let limit = rate_limit(args, &metrics)?;
        let router = crate::http::router(
            store.clone(),
            options,
            metrics.clone(),
            mcp_cancel.clone(),
            admission,
            limit,
        );
        Ok(Self {
            store,
            router,
            metrics,
            metrics_bind: args.metrics_bind,
            mcp_cancel,
            connection_limits: args.http_limits.connections(),
        })
    }

    /// Serve on `listener` (and metrics on their own, when configured) until
    /// `shutdown` resolves; then let requests in flight finish, stop the MCP
    /// transport and close the store.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        todo_server::http::spawn_metrics(self.metrics_bind, &self.metrics)
            .await
            .with_context(|| format!("cannot listen on --metrics-bind {:?}", self.metrics_bind))?;
        tracing::info!(addr = %addr, database = self.store.backend(), "listening on http://{addr}/mcp");
        let metrics = Some(self.metrics.clone());
        todo_server::http::run(
            listener,
            self.router,
            shutdown,
            self.connection_limits,
            metrics,
        )
        .await?;
        // Stopping the transport with the signal would drop tool calls half-way.
        self.mcp_cancel.cancel();
        tracing::info!("HTTP server stopped; requests in flight have finished");
        self.store.close().await;
        Ok(())
    }
}

/// The per-user limit on /mcp (None when turned off with 0), counted in
/// Redis when so configured.
fn rate_limit(args: &HttpArgs, metrics: &Arc<Metrics>) -> anyhow::Result<Option<Limit>> {
    if args.rate_limit_per_minute == 0 {
        return Ok(None);
    }
    let redis = args
        .limit_backend
        .counter(Some(metrics.clone()))
        .context("invalid REDIS_URL")?;
    Ok(Some(Limit::new(
        "todo-mcp",
        "mcp",
        args.rate_limit_per_minute,
        redis,
        Some(metrics.clone()),
    )))
}
