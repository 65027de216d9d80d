//! Liveness and readiness.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::http::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "probes",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// `ok` or `unavailable`.
    pub database: &'static str,
    /// The task server: `ok` or `unavailable`.
    pub tasks: &'static str,
}

/// Readiness: the database and the task server both answer.
#[utoipa::path(get, path = "/ready", tag = "probes",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database or the task server is unreachable", body = Readiness),
    ))]
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let (database, tasks) = tokio::join!(state.store.ping(), state.agent.tasks.ping());
    if let Err(error) = &database {
        tracing::warn!(%error, "readiness: database unreachable");
    }
    if let Err(error) = &tasks {
        tracing::warn!(%error, "readiness: task server unreachable");
    }
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = Readiness {
        status: if database.is_ok() && tasks.is_ok() {
            "ready"
        } else {
            "unavailable"
        },
        database: word(database.is_ok()),
        tasks: word(tasks.is_ok()),
    };
    let status = if database.is_ok() && tasks.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
