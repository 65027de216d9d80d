//! The HTTP API (axum): the router, and nothing else. Every `/api/{user_id}`
//! route needs a bearer token whose `sub` is `{user_id}`.
//!
//! Layout: one file per resource ([`chat`], [`conversations`] with
//! [`conversation_views`], [`tasks`], [`probes`]), the web chat ([`web`]) and
//! the API's own description ([`openapi`]); beside them the leaf modules they
//! share: [`state`], [`error`] (the one mapping of errors to answers),
//! [`extract`], [`params`], [`auth`] (the 401 and the own-path rule) and
//! [`assets`] (embedded files under the strict CSP).
//! None of them imports this file.

pub mod assets;
pub mod auth;
pub mod chat;
pub mod conversation_views;
pub mod conversations;
pub mod cors;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod params;
pub mod probes;
pub mod state;
pub mod tasks;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use todo_server::http::{Authentication, RequestLimits, admit, authenticate, nosniff, observe};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::extract::MAX_BODY_BYTES;
use crate::http::state::{AppState, RateLimits};

/// The whole HTTP application: the API, the web chat, the probes and the
/// API's own description. Every route is registered through an
/// [`OpenApiRouter`] with the handler's `#[utoipa::path]`, so the OpenAPI
/// document served at `/openapi.json` lists exactly the routes served.
pub fn router(
    state: AppState,
    limits: RateLimits,
    authentication: Authentication,
    admission: Arc<RequestLimits>,
    cors: Option<tower_http::cors::CorsLayer>,
) -> Router {
    let (mut router, spec) = routes(state, limits, authentication, admission);
    // Preflights are answered here, before authentication and the limits.
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    let json = spec.to_json().unwrap_or_else(|error| {
        tracing::error!(%error, "cannot encode the OpenAPI document");
        "{}".to_owned()
    });
    router.layer(axum::Extension(openapi::Spec(Arc::from(json))))
}

/// The router and the OpenAPI document that describes it.
fn routes(
    state: AppState,
    limits: RateLimits,
    authentication: Authentication,
    admission: Arc<RequestLimits>,
) -> (Router, utoipa::openapi::OpenApi) {
    let state = Arc::new(state);
    let metrics = state.metrics.clone();
    let chat_routes = OpenApiRouter::new()
        .routes(routes!(chat::chat))
        .route_layer(from_fn_with_state(limits.chat, todo_server::limit::enforce));
    let read_routes = OpenApiRouter::new()
        .routes(routes!(conversations::list_conversations))
        .routes(routes!(
            conversations::get_conversation,
            conversations::delete_conversation
        ))
        .routes(routes!(tasks::list::list_tasks, tasks::add::add_task))
        .routes(routes!(
            tasks::change::update_task,
            tasks::delete::delete_task
        ))
        .route_layer(from_fn_with_state(limits.read, todo_server::limit::enforce));
    // Authentication wraps the own-path rule, which wraps the limiters:
    // they count per authenticated user.
    let api = chat_routes
        .merge(read_routes)
        .route_layer(from_fn_with_state(state.clone(), auth::own_path))
        .route_layer(from_fn_with_state(Arc::new(authentication), authenticate));
    let (router, spec) = OpenApiRouter::with_openapi(openapi::base())
        .merge(api)
        .merge(web::routes(state.dev_tokens.is_some()))
        .merge(openapi::routes())
        .routes(routes!(probes::health))
        .routes(routes!(probes::ready))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .split_for_parts();
    let router = router
        .layer(from_fn_with_state(admission, admit))
        .layer(axum::middleware::map_response(nosniff))
        .layer(from_fn_with_state(metrics, observe));
    (router, openapi::finish(spec))
}
