//! The one authentication layer of both services: it asks the service's
//! [`Authenticator`] who the request is for, puts the [`Caller`] in the
//! request's extensions for the handlers (and, through rmcp, the tools),
//! and refuses the request otherwise: counted, logged (reason, path, client;
//! never the token) and answered the way the service answers a 401.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::AuthError;
use crate::http::metrics::Metrics;
use crate::identity::{Authenticator, Caller};

/// How a service says 401: its body and its `WWW-Authenticate` challenge,
/// made from the request's headers and why it was refused.
pub type Refusal = Arc<dyn Fn(&HeaderMap, &AuthError) -> Response + Send + Sync>;

/// What the [`authenticate`] layer needs.
#[derive(Clone)]
pub struct Authentication {
    pub authenticator: Authenticator,
    pub metrics: Arc<Metrics>,
    pub refuse: Refusal,
}

/// Middleware (`route_layer`, with an [`Authentication`] as its state).
pub async fn authenticate(
    State(auth): State<Arc<Authentication>>,
    mut request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match auth.authenticator.authenticate(header).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => {
            auth.metrics.auth_failure(error.reason());
            let client = client_addr(&request);
            tracing::warn!(
                reason = error.reason(),
                detail = %error,
                path = %request.uri().path(),
                %client,
                "authentication failed"
            );
            (auth.refuse)(request.headers(), &error)
        }
    }
}

/// The address a request came from, for logs ("" when the server was not
/// run with connection info, as [`crate::http::run`] does).
pub fn client_addr(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_default()
}

/// The caller, for handlers behind [`authenticate`].
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            // Unreachable behind the layer; if a route ever lacks it, fail
            // closed.
            tracing::error!("a handler asked for the caller of an unauthenticated request");
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        })
    }
}
