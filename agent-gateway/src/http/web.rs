//! The web chat at `/`: its files embedded in the binary (no build step,
//! nothing fetched from elsewhere; the one third-party file, the Markdown
//! parser, is vendored with its licence in `web/vendor`), served with a
//! strict Content-Security-Policy ([`crate::http::assets`]). In development mode the page offers a sign-in as
//! any user name through `POST /dev/token`, a route that exists only then.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use todo_domain::UserId;
use todo_server::auth::mint_hs256;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::assets::{asset_connecting_to, embedded_file};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::state::AppState;

const INDEX: &str = include_str!("../../web/index.html");
const SCRIPT: &str = include_str!("../../web/app.js");
const STYLE: &str = include_str!("../../web/app.css");
const TASKS: &str = include_str!("../../web/tasks.js");
const MARKDOWN: &str = include_str!("../../web/markdown.js");
const STREAM: &str = include_str!("../../web/stream.js");
const AUTH: &str = include_str!("../../web/auth.js");
const ERRORS: &str = include_str!("../../web/errors.js");
const MARKDOWN_IT: &str = include_str!("../../web/vendor/markdown-it.min.js");

pub fn routes(dev: bool) -> OpenApiRouter<Arc<AppState>> {
    let routes = OpenApiRouter::new()
        .routes(routes!(index))
        .routes(routes!(script))
        .routes(routes!(tasks_script))
        .routes(routes!(markdown_script))
        .routes(routes!(stream_script))
        .routes(routes!(auth_script))
        .routes(routes!(errors_script))
        .routes(routes!(markdown_parser))
        .routes(routes!(style));
    if dev {
        routes.routes(routes!(dev_token))
    } else {
        routes
    }
}

/// The web chat's page.
#[utoipa::path(get, path = "/", tag = "web",
    responses((status = 200, description = "The web chat", content_type = "text/html")))]
async fn index(State(state): State<Arc<AppState>>) -> Response {
    let dev = if state.dev_tokens.is_some() {
        "true"
    } else {
        "false"
    };
    let better_auth = state.better_auth.as_deref();
    // The operator's URL, but written into an attribute: escaped all the same.
    let auth_url = better_auth.map(html_attribute).unwrap_or_default();
    let page = INDEX
        .replace("__DEV__", dev)
        .replace("__AUTH_URL__", &auth_url);
    asset_connecting_to(
        "text/html; charset=utf-8",
        page,
        better_auth.and_then(origin_of).as_deref(),
    )
}

/// `text` safe inside a double-quoted HTML attribute.
fn html_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `scheme://host[:port]` of an http(s) URL, for a CSP source.
fn origin_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .map(|u| u.origin().ascii_serialization())
}

embedded_file! {
    /// The web chat's script.
    script: "/app.js", "web", "JavaScript", "text/javascript" => SCRIPT
}

embedded_file! {
    /// The web chat's task panel.
    tasks_script: "/tasks.js", "web", "JavaScript", "text/javascript" => TASKS
}

embedded_file! {
    /// The web chat's Markdown rendering (DOM nodes from the parser's tokens).
    markdown_script: "/markdown.js", "web", "JavaScript", "text/javascript" => MARKDOWN
}

embedded_file! {
    /// The web chat's sign-in through Better Auth (when BETTER_AUTH_URL is set).
    auth_script: "/auth.js", "web", "JavaScript", "text/javascript" => AUTH
}

embedded_file! {
    /// The web chat's error line.
    errors_script: "/errors.js", "web", "JavaScript", "text/javascript" => ERRORS
}

embedded_file! {
    /// The web chat's reader of server-sent events.
    stream_script: "/stream.js", "web", "JavaScript", "text/javascript" => STREAM
}

embedded_file! {
    /// markdown-it 14 (MIT), vendored: the Markdown parser.
    markdown_parser: "/vendor/markdown-it.min.js", "web", "JavaScript", "text/javascript" => MARKDOWN_IT
}

embedded_file! {
    /// The web chat's style sheet.
    style: "/app.css", "web", "CSS", "text/css" => STYLE
}

/// Was the page reached by a loopback name? The gateway listens on loopback
/// in development mode, but a site that points its own name at 127.0.0.1
/// (DNS rebinding) reaches it too, with its own name as the Host: the
/// sign-in as anyone must not be open to it.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why a request is not one made straight from this machine, if it is not:
/// its Host must be a loopback name, its peer a loopback address, and it
/// must carry no proxy's headers (a reverse proxy on this machine connects
/// from loopback too, on behalf of anyone).
fn not_direct_and_local(peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<&'static str> {
    const PROXY_HEADERS: [&str; 5] = [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
    ];
    if !loopback_host(headers) {
        Some("Host is not a loopback name")
    } else if !peer.is_some_and(|p| p.ip().is_loopback()) {
        Some("the peer is not a loopback address")
    } else if PROXY_HEADERS.iter().any(|h| headers.contains_key(*h)) {
        Some("the request came through a proxy (Forwarded or X-Forwarded-* headers)")
    } else {
        None
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DevTokenRequest {
    /// Any user name: 1 to 255 characters, no control characters, not
    /// starting or ending with white space.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?$",
        example = "alice"
    )]
    user: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DevTokenResponse {
    user: String,
    /// A bearer token for the API, valid 12 hours.
    token: String,
}

/// Development mode only (`--dev`, loopback): a token for any user name.
/// This route does not exist otherwise.
#[utoipa::path(post, path = "/dev/token", tag = "web",
    request_body = DevTokenRequest,
    responses(
        (status = 200, description = "Signed in", body = DevTokenResponse),
        (status = 403, description = "Not a request straight from this machine: the Host is not a loopback name (localhost, 127.0.0.1, [::1]), the peer is not a loopback address, or a proxy's Forwarded / X-Forwarded-* headers are present", body = ErrorBody),
        (status = 422, description = "Invalid user name", body = ErrorBody),
    ))]
async fn dev_token(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<DevTokenRequest>,
) -> Result<Json<DevTokenResponse>, ApiError> {
    if let Some(why) = not_direct_and_local(peer.map(|Extension(ConnectInfo(p))| p), &headers) {
        tracing::warn!(
            reason = "dev_sign_in_off_loopback",
            "development sign-in refused: {why}"
        );
        return Err(todo_domain::Error::Forbidden.into());
    }
    let Some(dev) = &state.dev_tokens else {
        return Err(todo_domain::Error::internal("development sign-in without a secret").into());
    };
    let user = UserId::parse(&request.user)?;
    let token = mint_hs256(
        &dev.secret,
        &user,
        dev.audience.as_deref(),
        dev.issuer.as_deref(),
        dev.ttl,
    )
    .map_err(|e| ApiError::Domain(todo_domain::Error::internal(e.to_string())))?;
    tracing::info!(user = %user, "development sign-in");
    Ok(Json(DevTokenResponse {
        user: user.as_str().to_owned(),
        token,
    }))
}
