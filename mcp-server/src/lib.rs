//! `todo-mcp`: the task MCP server.
//!
//! Layout:
//! - [`tools`]: one file per tool (its arguments, definition and `run`),
//!   registered once in `tools/mod.rs`; [`tools::registry`] finds and runs
//!   them.
//! - [`server`]: the rmcp `ServerHandler`, transport-agnostic: reads the
//!   caller ([`context`]), runs the tool, and is the one place where domain
//!   errors become MCP results; [`in_flight`] counts calls for shutdown.
//! - [`http`]: streamable HTTP at `/mcp` behind the shared authentication
//!   layer, metadata, probes; [`app`]: its composition root.
//! - [`stdio`]: one session over stdin/stdout for one user.
//! - [`config`]: flags and environment variables.
//!
//! `main.rs` parses the configuration, sets up logging, binds the socket
//! and passes a shutdown signal; tests reach the same [`app::HttpApp`].

pub mod app;
pub mod config;
pub mod context;
pub mod http;
pub mod in_flight;
pub mod server;
pub mod stdio;
pub mod tools;
