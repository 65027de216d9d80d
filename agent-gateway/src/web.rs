//! The web chat at `/`: three files embedded in the binary (no build step,
//! no third-party code, nothing fetched from elsewhere), served with a strict
//! Content-Security-Policy. In development mode the page offers a sign-in as
//! any user name through `POST /dev/token`, a route that exists only then.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use todo_shared::auth::mint_hs256;
use todo_shared::{Secret, UserId};

use crate::http::{ApiError, ApiJson, AppState};

const INDEX: &str = include_str!("../web/index.html");
const SCRIPT: &str = include_str!("../web/app.js");
const STYLE: &str = include_str!("../web/app.css");

/// Scripts, styles and connections from this origin only; no inline code,
/// no frames, no plugins.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How `POST /dev/token` signs (development mode only).
#[derive(Debug, Clone)]
pub struct DevTokens {
    pub secret: Secret,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    pub ttl: Duration,
}

pub fn routes(dev: bool) -> Router<Arc<AppState>> {
    let routes = Router::new()
        .route("/", get(index))
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        );
    if dev {
        routes.route("/dev/token", post(dev_token))
    } else {
        routes
    }
}

async fn index(State(state): State<Arc<AppState>>) -> Response {
    let dev = if state.dev_tokens.is_some() {
        "true"
    } else {
        "false"
    };
    asset("text/html; charset=utf-8", INDEX.replace("__DEV__", dev))
}

fn asset(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[derive(Deserialize)]
struct DevTokenRequest {
    user: String,
}

async fn dev_token(
    State(state): State<Arc<AppState>>,
    ApiJson(request): ApiJson<DevTokenRequest>,
) -> Result<Response, ApiError> {
    let Some(dev) = &state.dev_tokens else {
        return Err(todo_shared::Error::internal("development sign-in without a secret").into());
    };
    let user = UserId::parse(request.user.trim())?;
    let token = mint_hs256(
        &dev.secret,
        &user,
        dev.audience.as_deref(),
        dev.issuer.as_deref(),
        dev.ttl,
    )
    .map_err(|e| ApiError::Domain(todo_shared::Error::internal(e.to_string())))?;
    tracing::info!(user = %user, "development sign-in");
    Ok(Json(json!({"user": user.as_str(), "token": token})).into_response())
}
