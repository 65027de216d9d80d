//! The task server, reached over MCP: the per-user clients and their tool
//! calls ([`client`]) and why they fail ([`error`]), the HTTP client that adds trace headers
//! ([`traced`]), and the tools as the model's functions ([`functions`]).

pub mod client;
pub mod error;
pub mod functions;
mod traced;

pub use client::{McpConfig, TaskServer, ToolOutcome};
pub use error::McpError;
pub use functions::function_definitions;
