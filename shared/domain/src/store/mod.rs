//! Data access: the only place with SQL.
//!
//! [`Store`] is an enum over the two backends rather than `sqlx::Any`: each
//! arm is a real, typed pool (timestamps stay `timestamptz` on PostgreSQL),
//! and since every query is written with `$N` placeholders, which sqlx's
//! SQLite driver maps by number too, one SQL text serves both. Every query
//! on `tasks` filters on `user_id`; every query on `conversations` and
//! `messages` on the conversation's `user_id`.
//!
//! Layout: [`pool`] (the pools and the `on_pool!`/`on_writer!` macros that
//! run a statement on either), `writer` (SQLite's one writing connection,
//! and how a write transaction begins), `pg_connections` (PostgreSQL
//! connections kept between statements), [`open`] (URLs, settings,
//! migrations), then one file per table or concern: `task_row` (a task's
//! columns), `tasks` (its writes), `task_list` (the listing query, with `list_filters` and
//! `ranked_search`),
//! `search_backfill`, `search_index` and `indexer` (SQLite's full-text
//! index, updated in batches), `conversations`, `messages` and `lease`
//! (what storing messages does to a conversation's lease).

// The macros first, so that the files after them see them.
#[macro_use]
pub(crate) mod pool;
#[macro_use]
pub(crate) mod lease;
#[macro_use]
pub(crate) mod messages;
#[macro_use]
pub(crate) mod task_row;
mod conversations;
mod indexer;
mod list_filters;
pub mod open;
mod pg_connections;
mod quotas;
mod ranked_search;
mod search_backfill;
mod search_index;
mod task_list;
mod tasks;
mod token_usage;
mod writer;

pub use open::{OpenError, StoreOptions, default_sqlite_url, redact_url};
pub use pool::{PoolStats, Quotas, Store};
