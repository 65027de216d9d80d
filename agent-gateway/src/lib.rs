//! `todo-gateway`: the authenticated chat gateway of todo-mcp. It runs the
//! agent loop: a model behind any OpenAI-compatible chat-completions
//! endpoint, calling the task tools of `todo-mcp` over MCP on the signed-in
//! user's behalf.
//!
//! Layout:
//! - [`llm`]: the OpenAI-compatible model client: lenient parsing, provider
//!   fields kept, streaming, timeouts, retries with backoff.
//! - [`mcp`]: the task server as an MCP client, with a short-lived token
//!   minted per user.
//! - [`history`]: stored messages to the model's history window.
//! - [`agent`]: one turn, plain or streamed.
//! - [`http`]: the API; [`web`]: the web chat embedded in the binary;
//!   [`limit`]: per-user rate limits, in memory or in Redis;
//!   [`metrics`]: the gateway's own metric families; [`openapi`]: the API's
//!   OpenAPI document and reference page.

pub mod agent;
pub mod config;
pub mod history;
pub mod http;
pub mod limit;
pub mod llm;
pub mod mcp;
pub mod metrics;
pub mod openapi;
pub mod web;
