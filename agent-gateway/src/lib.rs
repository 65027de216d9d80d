//! `todo-gateway`: the authenticated chat gateway of todo-mcp (issue 3, in
//! progress). It will run the agent loop: a model behind any OpenAI-compatible
//! chat-completions endpoint, calling the task tools of `todo-mcp` over MCP on
//! the signed-in user's behalf.
//!
//! Layout (so far):
//! - [`llm`]: the OpenAI-compatible model client: lenient parsing, provider
//!   fields kept, timeouts, retries with backoff.
//! - [`mcp`]: the task server as an MCP client, with a short-lived token
//!   minted per user.
//! - [`history`]: stored messages to the model's history window.

pub mod agent;
pub mod config;
pub mod history;
pub mod http;
pub mod llm;
pub mod mcp;
