//! The domain's store against real SQLite and PostgreSQL: one test binary,
//! a module per area.

mod conversations;
mod helpers;
mod tasks;
