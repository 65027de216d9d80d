//! The domain's store against real SQLite and PostgreSQL: one test binary,
//! a module per area.

mod conversations;
mod helpers;
mod search_index;
mod task_changes;
mod task_listing;
mod task_upgrade;
mod tasks;
