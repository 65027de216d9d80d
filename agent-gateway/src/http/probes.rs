//! Liveness and readiness.

use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// How long a readiness answer is reused. `/ready` needs no token, so each
/// request must not cost a database round trip and an MCP `tools/list`:
/// one check runs at a time, and its answer serves every probe for this
/// long.
const READINESS_FOR: Duration = Duration::from_secs(2);

/// Readiness: the database and the task server both answer.
#[utoipa::path(get, path = "/ready", tag = "probes",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database or the task server is unreachable", body = Readiness),
    ))]
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let (database, tasks) = {
        let mut last = state.readiness.0.lock().await;
        match *last {
            Some((at, database, tasks)) if at.elapsed() < READINESS_FOR => (database, tasks),
            _ => {
                let checked = check(&state).await;
                *last = Some((Instant::now(), checked.0, checked.1));
                checked
            }
        }
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ready = database && tasks;
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        database: word(database),
        tasks: word(tasks),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Whether the database and the task server answer now.
async fn check(state: &AppState) -> (bool, bool) {
    let (database, tasks) = tokio::join!(state.store.ping(), state.agent.tasks.ping());
    if let Err(error) = &database {
        tracing::warn!(%error, "readiness: database unreachable");
    }
    if let Err(error) = &tasks {
        tracing::warn!(%error, "readiness: task server unreachable");
    }
    (database.is_ok(), tasks.is_ok())
}
