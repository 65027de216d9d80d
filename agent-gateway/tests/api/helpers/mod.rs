//! What the areas share: the scripted fake model ([`model`]), the whole
//! system started for a test ([`stack`]), and messages read back typed
//! ([`Shown`]), from the API or from what the model was sent.

pub mod model;
pub mod stack;

pub use model::{FakeModel, Reply, ok, status, streamed, text, tool_calls};
pub use stack::{Stack, token};

use serde_json::Value;

/// A message as `GET /api/{user}/conversations/{id}` shows it, or as the
/// model received it: its role and text, and the whole message for the
/// rest (tool calls, ids).
#[derive(Clone, Debug)]
pub struct Shown {
    pub role: String,
    /// None for an assistant step that only calls tools.
    pub content: Option<String>,
    pub raw: Value,
}

/// The `messages` of a response body or of a request to the model.
pub fn shown(body: &Value) -> Vec<Shown> {
    body["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no messages in {body}"))
        .iter()
        .map(|message| Shown {
            role: message["role"]
                .as_str()
                .unwrap_or_else(|| panic!("no role in {message}"))
                .to_owned(),
            content: message["content"].as_str().map(str::to_owned),
            raw: message.clone(),
        })
        .collect()
}

/// An answer's `Retry-After`, in seconds (panics without one).
pub fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After")
}

/// Each message's role.
pub fn roles(messages: &[Shown]) -> Vec<&str> {
    messages.iter().map(|m| m.role.as_str()).collect()
}

/// The texts, in order, of the messages that have one.
pub fn contents(messages: &[Shown]) -> Vec<&str> {
    messages
        .iter()
        .filter_map(|m| m.content.as_deref())
        .collect()
}

/// Tests that load the whole machine (a browser, schemathesis's generated
/// requests) and tests whose figures need it quiet (Redis's shared counts: a
/// check slower than the limiter's 250 ms falls back to counting locally)
/// take turns. In separate test binaries they never overlapped; in one they
/// would run side by side.
pub async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}
