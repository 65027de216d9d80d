//! The model: any OpenAI-compatible chat-completions endpoint (OpenAI, Gemini's
//! OpenAI-compatible endpoint, Ollama, vLLM, OpenRouter, a LiteLLM proxy).
//!
//! Parsing is lenient where providers differ: tool-call ids of any shape (or
//! none), arguments as a JSON string or an object, content as a string or a
//! list of parts, unknown `finish_reason`s, missing `usage`. Fields a provider
//! adds to a tool call (Gemini's `extra_content` thought signatures) are kept
//! and sent back unchanged with the history, as those providers require.
//!
//! Transient failures (connection errors, 408, 429, 5xx) are retried with
//! exponential backoff and full jitter, honouring `Retry-After`, bounded in
//! attempts and in total waiting time. A timeout is not retried: the turn
//! would otherwise take minutes.

mod stream;

use std::time::Duration;

use rand::Rng as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use todo_shared::Secret;

use crate::metrics::GatewayMetrics;

/// Where the model is and how patient to be with it.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Base URL of the API, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:11434/v1` (Ollama); requests go to
    /// `{base_url}/chat/completions`.
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub model: String,
    /// Timeout of one attempt, body included.
    pub timeout: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First backoff; doubled on each retry, with full jitter.
    pub initial_backoff: Duration,
    /// Longest single wait, `Retry-After` included.
    pub max_backoff: Duration,
    /// Most time spent waiting between attempts over one call.
    pub max_total_backoff: Duration,
}

impl LlmConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            timeout: Duration::from_secs(60),
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_total_backoff: Duration::from_secs(20),
        }
    }
}

/// Why the model gave no answer. The gateway maps these to 502 (the model is
/// down or broken) and 504 (it is too slow).
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model cannot be reached: {0}")]
    Unreachable(String),
    #[error("the model answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the model did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the model's answer cannot be read: {0}")]
    InvalidResponse(String),
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
    /// A role this client does not know (read as the assistant's).
    #[serde(other)]
    Other,
}

/// One message of the conversation, in the wire format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    /// Text, or `null` for an assistant message that only calls tools.
    #[serde(default, deserialize_with = "lenient_content")]
    pub content: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub tool_calls: Vec<ToolCall>,
    /// For role `tool`: the call this is the result of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    pub fn system(text: impl Into<String>) -> Self {
        Self::text(Role::System, text)
    }

    pub fn user(text: impl Into<String>) -> Self {
        Self::text(Role::User, text)
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        Self::text(Role::Assistant, text)
    }

    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: Role::Tool,
            content: Some(content.into()),
            tool_calls: Vec::new(),
            tool_call_id: Some(call_id.into()),
        }
    }

    fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: Some(text.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// A call of a tool, as the model asked for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Whatever the provider uses (string or number; generated when absent).
    #[serde(default, deserialize_with = "lenient_id")]
    pub id: String,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
    /// Provider-specific fields (Gemini's `extra_content`), sent back as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    /// The arguments as a JSON text (some providers send an object: it is
    /// turned into its text).
    #[serde(default = "empty_object_text", deserialize_with = "lenient_arguments")]
    pub arguments: String,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolDefinition {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionDefinition,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionDefinition {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments.
    pub parameters: Value,
}

impl ToolDefinition {
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Self {
            kind: "function",
            function: FunctionDefinition {
                name: name.into(),
                description: description.into(),
                parameters,
            },
        }
    }
}

/// Tokens used by one call, when the provider says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
}

/// The model's answer to one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The assistant message: text, tool calls, or both.
    pub message: ChatMessage,
    /// As the provider said it (`stop`, `tool_calls`, `length`, or anything else).
    pub finish_reason: Option<String>,
    pub usage: Usage,
    /// How many HTTP attempts it took.
    pub attempts: u32,
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    #[serde(skip_serializing_if = "<[ToolDefinition]>::is_empty")]
    tools: &'a [ToolDefinition],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    /// Streams carry `usage` only when asked (OpenAI's rule; others ignore it).
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// Where streamed text goes as it arrives.
pub type TextSink<'a> = &'a mut (dyn FnMut(&str) + Send);

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default, deserialize_with = "null_as_default")]
    usage: Usage,
}

#[derive(Deserialize)]
struct Choice {
    message: ChatMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

/// The client. Cheap to clone; connections are pooled and reused.
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    url: String,
    config: std::sync::Arc<LlmConfig>,
    metrics: Option<GatewayMetrics>,
}

/// One failed attempt: whether to try again, and after how long at least.
struct Failure {
    error: LlmError,
    retry: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    /// A failure that trying again would not mend.
    fn fatal(error: LlmError) -> Self {
        Self {
            error,
            retry: false,
            retry_after: None,
        }
    }
}

impl LlmClient {
    pub fn new(config: LlmConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("todo-gateway/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Ok(Self {
            http,
            url,
            config: std::sync::Arc::new(config),
            metrics: None,
        })
    }

    /// Count calls, latency and tokens in `metrics`.
    pub fn with_metrics(mut self, metrics: GatewayMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// One chat completion, retried on transient failures.
    pub async fn complete(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolDefinition],
    ) -> Result<Completion, LlmError> {
        self.call(messages, tools, None).await
    }

    /// [`LlmClient::complete`] in the model's streaming mode: `on_text` gets
    /// the answer's text as it arrives. Failures before the answer starts
    /// are retried as usual; once it streams, a failure ends the call (the
    /// text already handed on cannot be taken back). A server that ignores
    /// `stream` and answers in one piece is read as such.
    pub async fn complete_streaming(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolDefinition],
        on_text: TextSink<'_>,
    ) -> Result<Completion, LlmError> {
        self.call(messages, tools, Some(on_text)).await
    }

    async fn call(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolDefinition],
        on_text: Option<&mut (dyn FnMut(&str) + Send + '_)>,
    ) -> Result<Completion, LlmError> {
        let started = std::time::Instant::now();
        let result = self.call_with_retries(messages, tools, on_text).await;
        if let Some(metrics) = &self.metrics {
            let (outcome, usage) = match &result {
                Ok(completion) => ("ok", Some(completion.usage)),
                Err(LlmError::Timeout(_)) => ("timeout", None),
                Err(_) => ("error", None),
            };
            metrics.llm_call(outcome, started.elapsed(), usage);
        }
        result
    }

    async fn call_with_retries(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolDefinition],
        mut on_text: Option<&mut (dyn FnMut(&str) + Send + '_)>,
    ) -> Result<Completion, LlmError> {
        let request = ChatRequest {
            model: &self.config.model,
            messages,
            tools,
            stream: on_text.is_some(),
            stream_options: on_text.is_some().then_some(StreamOptions {
                include_usage: true,
            }),
        };
        let body =
            serde_json::to_vec(&request).map_err(|e| LlmError::InvalidResponse(e.to_string()))?;
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.attempt(&body, on_text.as_deref_mut()).await {
                Ok(mut completion) => {
                    completion.attempts = attempt;
                    return Ok(completion);
                }
                Err(failure) => failure,
            };
            if !failure.retry || attempt >= self.config.max_attempts {
                return Err(failure.error);
            }
            let wait = failure
                .retry_after
                .unwrap_or_else(|| self.backoff(attempt))
                .min(self.config.max_backoff);
            if waited + wait > self.config.max_total_backoff {
                return Err(failure.error);
            }
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %failure.error, "model call failed; retrying");
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    /// Exponential backoff with full jitter: uniform in [0, initial × 2^(n-1)].
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .config
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.config.max_backoff);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }

    async fn attempt(
        &self,
        body: &[u8],
        on_text: Option<&mut (dyn FnMut(&str) + Send + '_)>,
    ) -> Result<Completion, Failure> {
        let mut request = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose());
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_failure(e))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = response.text().await.unwrap_or_default();
            let retry =
                status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error();
            return Err(Failure {
                error: LlmError::Status {
                    status: status.as_u16(),
                    message: error_message(&text),
                },
                retry,
                retry_after,
            });
        }
        let streamed = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        match on_text {
            Some(on_text) if streamed => self.read_stream(response, on_text).await,
            on_text => {
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| self.transport_failure(e))?;
                let completion = parse_completion(&bytes).map_err(Failure::fatal)?;
                if let (Some(on_text), Some(text)) = (on_text, &completion.message.content)
                    && !text.is_empty()
                {
                    on_text(text);
                }
                Ok(completion)
            }
        }
    }

    async fn read_stream(
        &self,
        mut response: reqwest::Response,
        on_text: &mut (dyn FnMut(&str) + Send + '_),
    ) -> Result<Completion, Failure> {
        let mut reader = stream::EventReader::default();
        let mut assembler = stream::Assembler::default();
        while !assembler.done {
            let chunk = response.chunk().await.map_err(|e| Failure {
                retry: false,
                ..self.transport_failure(e)
            })?;
            let events = match chunk {
                Some(bytes) => reader.feed(&bytes),
                None => {
                    // The stream ended (with or without [DONE]).
                    let last = reader.finish();
                    assembler.done = true;
                    last.into_iter().collect()
                }
            };
            for data in events {
                if let Some(text) = assembler.event(&data).map_err(Failure::fatal)? {
                    on_text(&text);
                }
            }
        }
        Ok(assembler.finish())
    }

    fn transport_failure(&self, error: reqwest::Error) -> Failure {
        if error.is_timeout() {
            Failure {
                error: LlmError::Timeout(self.config.timeout),
                retry: false,
                retry_after: None,
            }
        } else {
            Failure {
                error: LlmError::Unreachable(error_chain(&error)),
                retry: true,
                retry_after: None,
            }
        }
    }
}

/// Read a chat-completions response body.
pub fn parse_completion(bytes: &[u8]) -> Result<Completion, LlmError> {
    let response: ChatResponse =
        serde_json::from_slice(bytes).map_err(|e| LlmError::InvalidResponse(e.to_string()))?;
    let choice = response
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::InvalidResponse("no choices in the answer".into()))?;
    let mut message = choice.message;
    message.role = Role::Assistant;
    for (n, call) in message.tool_calls.iter_mut().enumerate() {
        if call.id.is_empty() {
            call.id = format!("call_{n}");
        }
    }
    Ok(Completion {
        message,
        finish_reason: choice.finish_reason,
        usage: response.usage,
        attempts: 1,
    })
}

/// The readable part of a provider's error body (`{"error": {"message": …}}`
/// in the OpenAI shape), cut short.
fn error_message(body: &str) -> String {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| match &v["error"] {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        })
        .unwrap_or_else(|| body.to_owned());
    message.chars().take(300).collect()
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn function_type() -> String {
    "function".into()
}

fn empty_object_text() -> String {
    "{}".into()
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Content as a string, `null`, or a list of parts (`[{"type":"text","text":…}]`).
fn lenient_content<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Array(parts) => {
            let text: String = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str).or(p.as_str()))
                .collect();
            Some(text)
        }
        other => Some(other.to_string()),
    })
}

fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

fn lenient_arguments<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if s.trim().is_empty() => empty_object_text(),
        Value::String(s) => s,
        Value::Null => empty_object_text(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gemini_tool_calls_keep_their_extra_content_both_ways() {
        let body = json!({
            "choices": [{
                "message": {
                    "role": "assistant",
                    "tool_calls": [{
                        "id": "function-call-123",
                        "type": "function",
                        "function": {"name": "add_task", "arguments": "{\"title\":\"milk\"}"},
                        "extra_content": {"google": {"thought_signature": "c2lnbmF0dXJl"}}
                    }]
                },
                "finish_reason": "tool_calls"
            }]
        });
        let completion = parse_completion(body.to_string().as_bytes()).expect("parse");
        let call = &completion.message.tool_calls[0];
        assert_eq!(call.function.name, "add_task");
        let sent_back = serde_json::to_value(&completion.message).expect("serialize");
        assert_eq!(
            sent_back["tool_calls"][0]["extra_content"],
            json!({"google": {"thought_signature": "c2lnbmF0dXJl"}})
        );
        assert_eq!(sent_back["content"], Value::Null);
    }

    #[test]
    fn odd_but_common_shapes_are_accepted() {
        let body = json!({
            "choices": [{
                "message": {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "Done"}, {"type": "text", "text": "!"}],
                    "tool_calls": [
                        {"id": 7, "function": {"name": "list_tasks", "arguments": {"status": "pending"}}},
                        {"function": {"name": "list_tasks"}}
                    ]
                },
                "finish_reason": "eos_token"
            }],
            "usage": null
        });
        let completion = parse_completion(body.to_string().as_bytes()).expect("parse");
        let calls = &completion.message.tool_calls;
        assert_eq!(completion.message.content.as_deref(), Some("Done!"));
        assert_eq!(
            (calls[0].id.as_str(), calls[0].kind.as_str()),
            ("7", "function")
        );
        assert_eq!(calls[0].function.arguments, r#"{"status":"pending"}"#);
        assert_eq!(
            (calls[1].id.as_str(), calls[1].function.arguments.as_str()),
            ("call_1", "{}")
        );
        assert_eq!(completion.finish_reason.as_deref(), Some("eos_token"));
        assert_eq!(completion.usage, Usage::default());
    }

    #[test]
    fn an_answer_without_choices_is_an_invalid_response() {
        assert!(matches!(
            parse_completion(b"{}"),
            Err(LlmError::InvalidResponse(_))
        ));
        assert!(matches!(
            parse_completion(b"<html>"),
            Err(LlmError::InvalidResponse(_))
        ));
    }

    #[test]
    fn provider_error_bodies_are_shortened_to_their_message() {
        assert_eq!(
            error_message(r#"{"error":{"message":"quota exceeded","code":429}}"#),
            "quota exceeded"
        );
        assert_eq!(
            error_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message(&"x".repeat(1000)).len(), 300);
    }

    #[test]
    fn requests_carry_the_model_the_messages_and_the_tools() {
        let messages = [ChatMessage::system("be nice"), ChatMessage::user("hi")];
        let tools = [ToolDefinition::function(
            "list_tasks",
            "List tasks",
            json!({"type": "object"}),
        )];
        let request = ChatRequest {
            model: "m",
            messages: &messages,
            tools: &tools,
            stream: false,
            stream_options: None,
        };
        assert_eq!(
            serde_json::to_value(&request).expect("json"),
            json!({
                "model": "m",
                "messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"}],
                "tools": [{"type": "function", "function": {"name": "list_tasks", "description": "List tasks", "parameters": {"type": "object"}}}]
            })
        );
    }
}
