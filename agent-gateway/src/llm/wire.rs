//! The OpenAI chat-completions wire format, read leniently where providers
//! differ: tool-call ids of any shape (or none), arguments as a JSON string
//! or an object, content as a string or a list of parts, unknown
//! `finish_reason`s, missing `usage`. Fields a provider adds to a tool call
//! (Gemini's `extra_content` thought signatures) are kept and sent back
//! unchanged with the history, as those providers require.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::llm::error::LlmError;

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
pub(crate) struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: &'a [ChatMessage],
    #[serde(skip_serializing_if = "<[ToolDefinition]>::is_empty")]
    pub(crate) tools: &'a [ToolDefinition],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) stream: bool,
    /// Streams carry `usage` only when asked (OpenAI's rule; others ignore it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
pub(crate) struct StreamOptions {
    pub(crate) include_usage: bool,
}

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
