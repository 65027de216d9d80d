//! `todo-gateway`: the authenticated chat gateway of todo-mcp. It runs the
//! agent loop: a model behind any OpenAI-compatible chat-completions
//! endpoint, calling the task tools of `todo-mcp` over MCP on the signed-in
//! user's behalf.
//!
//! Layout:
//! - [`app`]: the composition root (`App::build`, `App::run`).
//! - [`http`]: the API's router, one file per resource, the web chat and
//!   the OpenAPI document (per-user rate limits are `todo_server::limit`).
//! - [`agent`]: one turn, plain or streamed; [`history`]: stored messages
//!   to the model's history window.
//! - [`llm`]: the OpenAI-compatible model client: its wire format (lenient),
//!   calls with timeouts and retries, streaming.
//! - [`mcp`]: the task server as an MCP client, with a short-lived token
//!   minted per user.
//! - [`metrics`]: the gateway's own metric families; [`config`]: flags and
//!   environment variables.

pub mod agent;
pub mod app;
pub mod config;
pub mod history;
pub mod http;
pub mod llm;
pub mod mcp;
pub mod metrics;
