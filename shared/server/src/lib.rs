//! What both todo-mcp services serve with: who calls ([`identity`], made
//! from bearer tokens by [`auth`]), HTTP serving with request ids, metrics
//! and authentication ([`http`]), the process's options, logs and signals
//! ([`process`]), request ids and trace context ([`trace`]) and secrets that
//! never reach a log ([`secret`]).
//!
//! Layout:
//! - [`auth`]: bearer-token verification (HS256 secret and/or JWKS), minting.
//! - [`identity`]: [`Caller`], and the [`Authenticator`] that makes it.
//! - [`http`]: `run`, the `observe` and `authenticate` layers, [`Metrics`]
//!   and the metrics listener.
//! - [`limit`]: per-user rate limits, in memory or shared through Redis.
//! - [`process`]: the options every binary has, logging, the shutdown signal.
//! - [`trace`]: request ids and W3C trace context, checked.
//! - [`secret`]: a string whose `Debug` and `Display` hide it.
//! - [`client_text`]: text a client chose, shortened and escaped for logs.

pub mod auth;
pub mod client_text;
pub mod http;
pub mod identity;
pub mod limit;
pub mod process;
pub mod secret;
pub mod trace;

pub use client_text::client_text;
pub use http::Metrics;
pub use identity::{Authenticator, Caller};
pub use secret::Secret;
