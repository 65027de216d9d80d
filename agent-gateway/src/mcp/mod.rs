//! The task server, reached over MCP: the per-user clients and their tool
//! calls ([`client`]), the HTTP client that adds trace headers
//! ([`traced`]), and the tools as the model's functions ([`functions`]).

pub mod client;
pub mod functions;
mod traced;

pub use client::{McpConfig, McpError, TaskServer, ToolOutcome};
pub use functions::function_definitions;
