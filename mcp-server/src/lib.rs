//! `todo-mcp`: the task MCP server.
//!
//! Layout:
//! - [`tools`]: the MCP tools as an rmcp `ServerHandler`, transport-agnostic;
//!   the one place where domain errors become MCP results.
//! - [`http`]: streamable HTTP at `/mcp` with bearer auth, metadata, probes.
//! - [`stdio`]: one session over stdin/stdout.
//! - [`config`]: flags and environment variables.
//!
//! `main.rs` parses the configuration, sets up logging, opens the store,
//! binds the socket and passes a shutdown signal; tests call the same pieces.

pub mod config;
pub mod http;
pub mod stdio;
pub mod tools;
