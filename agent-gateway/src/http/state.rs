//! What the handlers share: the agent, the store, the metrics, and the
//! settings that shape answers; and the per-user limits of the API.

use std::sync::Arc;
use std::time::Duration;

use todo_domain::Store;
use todo_server::{Metrics, Secret};

use crate::agent::Agent;
use todo_server::limit::Limit;

#[derive(Clone)]
pub struct AppState {
    pub agent: Agent,
    pub store: Store,
    /// How often a streamed turn sends a keep-alive comment while quiet.
    pub keep_alive: Duration,
    /// Development mode's sign-in as any user (None: no such route).
    pub dev_tokens: Option<DevTokens>,
    pub metrics: Arc<Metrics>,
    /// The last readiness check, reused for a moment.
    pub readiness: Arc<ReadinessCache>,
    /// Better Auth's base URL (BETTER_AUTH_URL): the web chat then signs in
    /// through it.
    pub better_auth: Option<String>,
}

/// The last readiness check of `/ready`: when, and whether the database and
/// the task server answered.
#[derive(Debug, Default)]
pub struct ReadinessCache(pub tokio::sync::Mutex<Option<(std::time::Instant, bool, bool)>>);

/// How `POST /dev/token` signs (development mode only).
#[derive(Debug, Clone)]
pub struct DevTokens {
    pub secret: Secret,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    pub ttl: Duration,
}

/// The per-user limits of the API.
#[derive(Clone)]
pub struct RateLimits {
    /// `POST …/chat` (each runs the model).
    pub chat: Limit,
    /// Every other `/api` request.
    pub read: Limit,
}
