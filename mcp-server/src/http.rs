//! The streamable-HTTP front door: `/mcp` behind bearer-token auth, RFC 9728
//! protected-resource metadata, and health probes.
//!
//! The MCP transport runs stateless (no `Mcp-Session-Id`, nothing kept
//! between requests), so any instance behind a load balancer can answer any
//! request. Clients of the 2026-07-28 revision use it natively; clients of
//! the 2025-11-25 era still `initialize` first, which is answered without
//! creating a session.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use todo_shared::auth::{AuthError, TokenVerifier, bearer_token};
use todo_shared::http::{Metrics, observe};
use todo_shared::{Store, UserId};
use tokio_util::sync::CancellationToken;

use crate::tools::{Caller, Identity, TaskServer};

/// Largest JSON-RPC body accepted on /mcp; tool arguments are a few KiB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How requests to /mcp are authenticated.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Bearer JWT, verified; the user is its `sub`.
    Verify(TokenVerifier),
    /// Local development: no token, every request is this user.
    NoAuth(UserId),
}

/// What the HTTP front door needs to know besides the store.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub auth: AuthMode,
    /// Public base URL (no trailing slash), if known.
    pub public_url: Option<String>,
    pub authorization_servers: Vec<String>,
    /// Accepted Host values; empty accepts any.
    pub allowed_hosts: Vec<String>,
    /// Accepted Origin values; empty accepts any.
    pub allowed_origins: Vec<String>,
}

#[derive(Clone)]
struct AppState {
    store: Store,
    options: Arc<HttpOptions>,
    metrics: Arc<Metrics>,
}

/// The whole HTTP application. `cancel` ends the MCP transport's work when
/// the server shuts down.
pub fn router(
    store: Store,
    options: HttpOptions,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
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

    let identity = match &options.auth {
        AuthMode::Verify(_) => Identity::PerRequest,
        AuthMode::NoAuth(user) => Identity::Fixed(user.clone()),
    };
    let server = TaskServer::new(store.clone(), identity).with_metrics(metrics.clone());
    let mcp = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        mcp_config,
    );

    let state = AppState {
        store,
        options: Arc::new(options),
        metrics: metrics.clone(),
    };
    let mcp_routes = Router::new()
        .nest_service("/mcp", mcp)
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));

    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route(
            "/.well-known/oauth-protected-resource",
            get(resource_metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(resource_metadata),
        )
        .merge(mcp_routes)
        .with_state(state)
        .layer(middleware::from_fn_with_state(metrics, observe))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => {
            Json(json!({"status": "ready", "database": state.store.backend()})).into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": state.store.backend()})),
            )
                .into_response()
        }
    }
}

/// RFC 9728 protected-resource metadata.
async fn resource_metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&state.options, &headers);
    let mut body = json!({
        "resource": format!("{base}/mcp"),
        "bearer_methods_supported": ["header"],
        "resource_name": "todo-mcp",
    });
    if !state.options.authorization_servers.is_empty() {
        body["authorization_servers"] = json!(state.options.authorization_servers);
    }
    Json(body).into_response()
}

/// Verify the bearer token and hand the caller to the MCP handler through
/// the request's extensions.
async fn authenticate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match &state.options.auth {
        AuthMode::NoAuth(user) => user.clone(),
        AuthMode::Verify(verifier) => {
            let header = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            let verified = match bearer_token(header) {
                Ok(token) => verifier.verify(token).await,
                Err(error) => Err(error),
            };
            match verified {
                Ok(token) => token.user,
                Err(error) => {
                    state.metrics.auth_failure(error.reason());
                    tracing::warn!(
                        reason = error.reason(),
                        detail = %error,
                        path = %request.uri().path(),
                        client = %peer,
                        "authentication failed"
                    );
                    return unauthorized(&state.options, request.headers(), &error);
                }
            }
        }
    };
    request.extensions_mut().insert(Caller(user));
    next.run(request).await
}

fn unauthorized(options: &HttpOptions, headers: &HeaderMap, error: &AuthError) -> Response {
    let metadata = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        base_url(options, headers)
    );
    // RFC 6750: no error code when the request had no credentials at all.
    let challenge = match error {
        AuthError::Missing => format!("Bearer resource_metadata=\"{metadata}\""),
        other => format!(
            "Bearer resource_metadata=\"{metadata}\", error=\"invalid_token\", error_description=\"{other}\""
        ),
    };
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "unauthorized", "message": error.to_string()})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The base URL clients reach us at: the configured public URL, else the
/// request's Host (only when it is a plain authority, so nothing odd is
/// echoed into headers).
fn base_url(options: &HttpOptions, headers: &HeaderMap) -> String {
    if let Some(url) = &options.public_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}
