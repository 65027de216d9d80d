//! The API's own description: OpenAPI 3.1 at `/openapi.json`, made from the
//! handlers' `#[utoipa::path]` attributes and the request and response types
//! as the router is built (so it lists exactly the routes served), and a
//! reference page at `/docs`. The page is a small renderer of our own,
//! embedded like the web chat: nothing is downloaded at build time or
//! fetched from elsewhere by the browser, and the strict CSP holds.

use std::sync::Arc;

use axum::Extension;
use axum::response::Response;
use utoipa::OpenApi as _;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, ObjectBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Type,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::assets::{asset, embedded_file};
use crate::http::state::AppState;

const DOCS_PAGE: &str = include_str!("../../web/docs.html");
const DOCS_SCRIPT: &str = include_str!("../../web/docs.js");
const DOCS_STYLE: &str = include_str!("../../web/docs.css");

/// The document as served (JSON), handed to the handler as an extension.
#[derive(Clone)]
pub struct Spec(pub Arc<str>);

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "todo-gateway",
        description = "The chat API of todo-mcp: a signed-in user talks to an assistant that \
manages their tasks through the todo-mcp server.\n\n\
**Authentication.** Every `/api/{user_id}/…` route needs `Authorization: Bearer <token>`: a \
Better Auth JWT (HS256 with the shared secret, or EdDSA/ES256/RS256 from the JWKS) whose `sub` is \
`{user_id}`. Another user's id is refused with 403; another user's conversation answers 404, like \
a missing one.\n\n\
**Rate limits.** Per user and minute: `POST …/chat` and the other `/api` routes have separate \
budgets. Answers carry `x-ratelimit-limit` and `x-ratelimit-remaining`; a refusal is 429 with \
`retry-after` (seconds). Each user also has a daily budget of model tokens: once spent, \
`POST …/chat` answers 429 `budget_exhausted` with `retry-after` until midnight UTC. A gateway \
at capacity answers 503 `overloaded` with `retry-after`.\n\n\
**Request ids.** Every answer carries `x-request-id`: the request's own when it sent a sane one \
(1 to 128 of `A-Z a-z 0-9 - _ . :`), else a new one. It is logged by the gateway and by the task \
server for the tool calls of that request; a W3C `traceparent` is passed on as well.\n\n\
**Errors** are `{\"error\": code, \"message\": text}` (schema `ErrorBody`).",
        license(name = "MIT OR Apache-2.0")
    ),
    // Schemas that only query parameters name: utoipa collects those of
    // bodies and responses by itself, not these.
    components(schemas(todo_domain::task::StatusFilter)),
    tags(
        (name = "chat", description = "Talk to the assistant"),
        (name = "conversations", description = "Stored conversations"),
        (name = "tasks", description = "The user's tasks (read-only here; the assistant changes them)"),
        (name = "probes", description = "Liveness and readiness"),
        (name = "web", description = "The web chat"),
        (name = "docs", description = "This description"),
    )
)]
struct ApiDoc;

/// The document before the routes are added.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

/// Completes the document made from the routes: the security scheme, and
/// what every operation shares (its `x-request-id` header; on `/api`
/// routes, the bearer requirement, the rate-limit headers and the errors of
/// authentication, limits and the server), said once in `components` and
/// referenced.
pub fn finish(mut spec: OpenApi) -> OpenApi {
    let components = spec.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("A Better Auth token whose `sub` is the path's user"))
                .build(),
        ),
    );
    let integer = || {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .build()
                .into(),
        )
    };
    let string = || {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .build()
                .into(),
        )
    };
    let headers = [
        (
            "X-Request-Id",
            string(),
            "The request's id: the client's `x-request-id` when sane, else a new one",
        ),
        (
            "X-RateLimit-Limit",
            integer(),
            "Requests allowed per minute on this route for this user",
        ),
        (
            "X-RateLimit-Remaining",
            integer(),
            "Requests left in the current window",
        ),
        (
            "Retry-After",
            integer(),
            "Seconds to wait before trying again",
        ),
        (
            "X-RateLimit-After",
            integer(),
            "Seconds to wait before trying again (as Retry-After)",
        ),
        (
            "WWW-Authenticate",
            string(),
            "`Bearer`: the token scheme this API expects",
        ),
    ];
    for (name, schema, description) in headers {
        components.headers.insert(
            name.to_owned(),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(schema))
                    .description(Some(description))
                    .build(),
            ),
        );
    }
    let header = |name: &str| RefOr::Ref(Ref::new(format!("#/components/headers/{name}")));
    let error_body = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build()
    };
    let shared_errors = [
        (
            "BadRequest",
            "Malformed request: path, query or JSON",
            vec![],
        ),
        (
            "Unauthorized",
            "No token, or a token that is not valid (signature, expiry, audience, issuer)",
            vec!["WWW-Authenticate"],
        ),
        (
            "Forbidden",
            "The token's user is not the path's user",
            vec![],
        ),
        (
            "RateLimited",
            "Too many requests from this user on this route",
            vec![
                "Retry-After",
                "X-RateLimit-After",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
            ],
        ),
        (
            "Internal",
            "An internal error (details are only logged)",
            vec![],
        ),
    ];
    for (name, description, response_headers) in &shared_errors {
        let mut response = ResponseBuilder::new()
            .description(*description)
            .content("application/json", error_body())
            .build();
        for h in response_headers {
            response.headers.insert(h.to_lowercase(), header(h));
        }
        components
            .responses
            .insert((*name).to_owned(), RefOr::T(response));
    }

    for (path, item) in &mut spec.paths.paths {
        let api = path.starts_with("/api/");
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            if api {
                operation.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
            let responses = &mut operation.responses.responses;
            if api {
                for (status, name) in [
                    ("400", "BadRequest"),
                    ("401", "Unauthorized"),
                    ("403", "Forbidden"),
                    ("429", "RateLimited"),
                    ("500", "Internal"),
                ] {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                }
            }
            for (status, response) in responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                response
                    .headers
                    .insert("x-request-id".to_owned(), header("X-Request-Id"));
                if api && status.starts_with('2') {
                    response
                        .headers
                        .insert("x-ratelimit-limit".to_owned(), header("X-RateLimit-Limit"));
                    response.headers.insert(
                        "x-ratelimit-remaining".to_owned(),
                        header("X-RateLimit-Remaining"),
                    );
                }
            }
        }
    }
    spec
}

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .routes(routes!(docs_page))
        .routes(routes!(docs_script))
        .routes(routes!(docs_style))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "docs",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
async fn openapi_json(Extension(spec): Extension<Spec>) -> Response {
    let mut response = asset("application/json", spec.0.to_string());
    // Tools on other origins (generators, viewers) may read it.
    response.headers_mut().insert(
        axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        axum::http::HeaderValue::from_static("*"),
    );
    response
}

embedded_file! {
    /// The API reference, rendered from `/openapi.json`.
    docs_page: "/docs", "docs", "The API reference", "text/html" => DOCS_PAGE
}

embedded_file! {
    /// The reference page's script.
    docs_script: "/docs.js", "docs", "JavaScript", "text/javascript" => DOCS_SCRIPT
}

embedded_file! {
    /// The reference page's style sheet.
    docs_style: "/docs.css", "docs", "CSS", "text/css" => DOCS_STYLE
}
