//! The streamable-HTTP front door: `/mcp` behind DNS-rebinding protection
//! ([`host_guard`]) and the shared authentication layer, RFC 9728
//! protected-resource metadata ([`metadata`], behind the same protection)
//! and health probes ([`probes`]), set up from [`options`].
//!
//! The MCP transport runs stateless (no `Mcp-Session-Id`, nothing kept
//! between requests), so any instance behind a load balancer can answer any
//! request. Clients of the 2026-07-28 revision use it natively; clients of
//! the 2025-11-25 era still `initialize` first, which is answered without
//! creating a session.

pub mod host_guard;
pub mod metadata;
pub mod options;
pub mod probes;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use todo_domain::Store;
use todo_server::Metrics;
use todo_server::http::{Authentication, RequestLimits, admit, authenticate, nosniff, observe};
use todo_server::limit::{Limit, enforce};
use tokio_util::sync::CancellationToken;

use crate::http::options::HttpOptions;
use crate::server::TaskServer;

/// Largest JSON-RPC body accepted on /mcp; tool arguments are a few KiB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The whole HTTP application. `cancel` ends the MCP transport's work when
/// the server shuts down.
pub fn router(
    store: Store,
    options: HttpOptions,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
    admission: Arc<RequestLimits>,
    limit: Option<Limit>,
) -> Router {
    let mut mcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_cancellation_token(cancel);
    mcp_config = if options.allowed_hosts.is_empty() {
        mcp_config.disable_allowed_hosts()
    } else {
        mcp_config.with_allowed_hosts(options.allowed_hosts.clone())
    };
    mcp_config = if options.allowed_origins.is_empty() {
        mcp_config.disable_allowed_origins()
    } else {
        mcp_config
            .with_allowed_origins(options.allowed_origins.clone())
            .enforce_origin_validation()
    };

    let server = TaskServer::new(store.clone()).with_metrics(metrics.clone());
    let mcp = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        mcp_config,
    );

    let options = Arc::new(options);
    let refusal_options = options.clone();
    let authentication = Arc::new(Authentication {
        authenticator: options.authenticator.clone(),
        metrics: metrics.clone(),
        refuse: Arc::new(move |headers, error| {
            metadata::unauthorized(&refusal_options, headers, error)
        }),
    });
    let guard = Arc::new(host_guard::HostGuard::new(&options));
    let mut mcp_routes = Router::new().nest_service("/mcp", mcp);
    // Counted per authenticated user: inside authentication.
    if let Some(limit) = limit {
        mcp_routes = mcp_routes.route_layer(middleware::from_fn_with_state(limit, enforce));
    }
    let mcp_routes = mcp_routes
        .route_layer(middleware::from_fn_with_state(authentication, authenticate))
        .route_layer(middleware::from_fn_with_state(
            guard.clone(),
            host_guard::check_host_and_origin,
        ));
    let probes = Router::new()
        .route("/health", get(probes::health))
        .route("/ready", get(probes::ready))
        .with_state(store);
    let resource_metadata = Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(metadata::resource_metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(metadata::resource_metadata),
        )
        .route_layer(middleware::from_fn_with_state(
            guard,
            host_guard::check_host_and_origin,
        ))
        .with_state(options);

    probes
        .merge(resource_metadata)
        .merge(mcp_routes)
        .layer(middleware::from_fn_with_state(admission, admit))
        .layer(middleware::map_response(nosniff))
        .layer(middleware::from_fn_with_state(metrics, observe))
}
