//! The domain's store against real SQLite and PostgreSQL: one test binary,
//! a module per area.

// The helpers first, so that the modules after them see their macro.
#[macro_use]
mod helpers;
mod conversations;
mod pg_connections;
mod ranked_search;
mod search_index;
mod task_changes;
mod task_listing;
mod task_upgrade;
mod tasks;
mod usage;
