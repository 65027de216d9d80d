//! The domain of todo-mcp, shared by the task server and the gateway: what a
//! task is, the rules its inputs obey, where tasks are stored, and who the
//! caller is.
//!
//! Layout:
//! - [`task`]: validated inputs (`Title`, `TaskId`, …), the `Task` value and
//!   the service functions (`add`, `list`, `complete`, `delete`, `update`).
//! - [`conversation`]: the chat gateway's conversations and messages.
//! - [`store`]: the database (SQLite or PostgreSQL) and every SQL statement.
//! - [`auth`]: bearer-token verification (HS256 secret and/or JWKS).
//! - [`user`]: the caller's identity.
//! - [`error`]: the one error enum that each binary maps to its protocol.
//! - [`secret`]: a string that never reaches a log.
//! - [`process`]: logging, shutdown signal, store opening shared by the binaries.
//! - [`trace`]: request ids and W3C trace context, checked.
//! - [`http`] (feature `http`): serving, request-id/metrics middleware, the
//!   metrics listener.
//! - [`testing`] (feature `testing`): throw-away databases for tests.

pub mod auth;
pub mod conversation;
pub mod error;
pub mod process;
pub mod secret;
pub mod store;
pub mod task;
pub mod trace;
pub mod user;

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, Result};
pub use secret::Secret;
pub use store::{Store, StoreOptions};
pub use user::UserId;
