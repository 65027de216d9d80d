//! The model: any OpenAI-compatible chat-completions endpoint (OpenAI, Gemini's
//! OpenAI-compatible endpoint, Ollama, vLLM, OpenRouter, a LiteLLM proxy).
//!
//! Layout: [`wire`] (the format, read leniently), [`client`] (calls,
//! timeouts, retries), [`stream`] (the streaming mode's events assembled
//! into one completion), [`error`] (why there is no answer).

pub mod client;
pub mod error;
pub mod stream;
pub mod wire;

pub use client::{LlmClient, LlmConfig, TextSink};
pub use error::LlmError;
pub use wire::{
    ChatMessage, Completion, FunctionCall, FunctionDefinition, Role, ToolCall, ToolDefinition,
    Usage, parse_completion,
};
