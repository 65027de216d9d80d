//! Extractors whose rejections are [`ApiError`]s, and the request's trace
//! context. (The caller is [`todo_server::Caller`], put in the request by
//! the authentication layer.)

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use todo_server::trace::TraceContext;

use crate::http::error::ApiError;

/// Largest request body accepted (a 10,000-character message fits easily).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body whose rejections are [`ApiError`]s.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::Unsupported(
                "send the body as JSON (Content-Type: application/json)".into(),
            )),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                ApiError::TooLarge(format!("the body must be at most {MAX_BODY_BYTES} bytes")),
            ),
            // Valid JSON of the wrong shape (a string for a number, a missing field).
            Err(rejection) if rejection.status() == StatusCode::UNPROCESSABLE_ENTITY => {
                Err(ApiError::Unprocessable(rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// A query string whose rejections are [`ApiError`]s (400).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// The request's id and trace context (from the observing middleware; a
/// fresh id if it is somehow absent).
pub struct Trace(pub TraceContext);

impl<S: Send + Sync> FromRequestParts<S> for Trace {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<TraceContext>()
                .cloned()
                .unwrap_or_else(TraceContext::generate),
        ))
    }
}
