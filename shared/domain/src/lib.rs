//! The domain of todo-mcp, shared by the task server and the gateway: what a
//! task and a conversation are, the rules their inputs obey, who the caller
//! is, and where it is all stored. Nothing here knows of HTTP or MCP.
//!
//! Layout:
//! - [`task`]: validated inputs (`Title`, `TaskId`, …), the `Task` value, the
//!   service functions (`add`, `list`, `complete`, `delete`, `update`) and the
//!   task's wire shape (`TaskItem`, `TaskList`) that every front door shows.
//! - [`conversation`]: the chat gateway's conversations and messages, and the
//!   lease that runs one turn at a time per conversation.
//! - [`page`]: page sizes, shared by every listing.
//! - [`store`]: the database (SQLite or PostgreSQL) and every SQL statement.
//! - [`user`]: the caller's identity, [`UserId`].
//! - [`error`]: the one error enum that each binary maps to its protocol.
//! - [`time`]: the clock at the databases' precision, and timestamps as text.
//! - [`usage`]: model tokens per user and UTC day (the gateway's budget).
//! - [`zone`]: the caller's time zone, where "today" and "overdue" are read.

pub mod conversation;
pub mod error;
pub mod page;
pub mod store;
pub mod task;
pub mod time;
pub mod usage;
pub mod user;
pub mod zone;

pub use error::{Error, Result};
pub use store::{Store, StoreOptions};
pub use user::UserId;
pub use zone::Zone;
