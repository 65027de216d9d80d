//! The model's client: one chat completion over HTTP, plain or streamed,
//! with timeouts and retries.
//!
//! Transient failures (connection errors, 408, 429, 5xx) are retried with
//! exponential backoff and full jitter, honouring `Retry-After`, bounded in
//! attempts and in total waiting time. A timeout is not retried: the turn
//! would otherwise take minutes.

use std::time::Duration;

use rand::Rng as _;
use serde_json::Value;
use todo_server::Secret;

use crate::llm::error::LlmError;
use crate::llm::stream;
use crate::llm::wire::{
    ChatMessage, ChatRequest, Completion, StreamOptions, ToolDefinition, parse_completion,
};
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

/// Where streamed text goes as it arrives.
pub type TextSink<'a> = &'a mut (dyn FnMut(&str) + Send);

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
            let outcome = match &result {
                Ok(_) => "ok",
                Err(LlmError::Timeout(_)) => "timeout",
                Err(_) => "error",
            };
            metrics.llm_call(outcome, started.elapsed());
            if let Ok(completion) = &result {
                let usage = completion.usage;
                metrics.llm_tokens(usage.prompt_tokens, usage.completion_tokens);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
