//! The model's streaming mode (`stream: true`): server-sent events whose
//! `data:` are chat-completion chunks, ended by `data: [DONE]`.
//!
//! Providers differ, so assembly is lenient: tool-call fragments are joined
//! by `index`, or, when a provider omits it, by `id` (a new id starts a new
//! call, no id continues the last one); arguments may come in pieces or
//! whole (as text or as an object); a tool-call turn may end with
//! `finish_reason: "stop"`; fields a provider adds to a tool call (Gemini's
//! `extra_content`) are kept.

use serde_json::{Map, Value};

use crate::llm::error::LlmError;
use crate::llm::wire::{ChatMessage, Completion, FunctionCall, Role, ToolCall, Usage};

/// Splits a byte stream into server-sent events and hands back the data of
/// each (several `data:` lines of one event joined by newlines).
#[derive(Default)]
pub(crate) struct EventReader {
    buffer: Vec<u8>,
    data: Option<String>,
}

impl EventReader {
    /// Feed bytes; returns the data of every event they complete.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                events.extend(self.data.take());
            } else if let Some(data) = line.strip_prefix("data:") {
                let data = data.strip_prefix(' ').unwrap_or(data);
                match &mut self.data {
                    Some(pending) => {
                        pending.push('\n');
                        pending.push_str(data);
                    }
                    None => self.data = Some(data.to_owned()),
                }
            }
            // `event:`, `id:`, `retry:` and comments carry nothing here.
        }
        events
    }

    /// The last event, if the stream ended without a blank line.
    pub(crate) fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buffer);
        let mut events = self.feed(&rest);
        events.extend(self.feed(b"\n\n"));
        events.pop()
    }
}

#[derive(Default)]
struct PartialCall {
    index: Option<u64>,
    id: String,
    kind: Option<String>,
    name: String,
    arguments: String,
    extra: Map<String, Value>,
}

/// Builds one completion from its chunks.
#[derive(Default)]
pub(crate) struct Assembler {
    content: Option<String>,
    calls: Vec<PartialCall>,
    finish_reason: Option<String>,
    usage: Usage,
    pub(crate) done: bool,
}

impl Assembler {
    /// Take one event's data; returns the text it adds, if any.
    pub(crate) fn event(&mut self, data: &str) -> Result<Option<String>, LlmError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        if data.is_empty() {
            return Ok(None);
        }
        let chunk: Value = serde_json::from_str(data)
            .map_err(|e| LlmError::InvalidResponse(format!("a streamed chunk: {e}")))?;
        if let Some(error) = chunk.get("error").filter(|e| !e.is_null()) {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_owned);
            return Err(LlmError::InvalidResponse(format!(
                "the model reported an error mid-stream: {}",
                message.chars().take(300).collect::<String>()
            )));
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object())
            && let Ok(usage) = serde_json::from_value::<Usage>(usage.clone())
        {
            self.usage = usage;
        }
        let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) else {
            return Ok(None);
        };
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_owned());
        }
        // Some servers send whole messages in their chunks.
        let Some(delta) = choice.get("delta").or_else(|| choice.get("message")) else {
            return Ok(None);
        };
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for fragment in calls {
                self.tool_call(fragment);
            }
        }
        let text = match delta.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
            _ => String::new(),
        };
        if text.is_empty() {
            return Ok(None);
        }
        self.content.get_or_insert_with(String::new).push_str(&text);
        Ok(Some(text))
    }

    fn tool_call(&mut self, fragment: &Value) {
        let index = fragment.get("index").and_then(Value::as_u64);
        let id = match fragment.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let position = match index {
            Some(index) => self.calls.iter().position(|c| c.index == Some(index)),
            // No index: a new id starts a call, no id continues the last one.
            None => match self.calls.last() {
                Some(last) if id.is_empty() || last.id == id => Some(self.calls.len() - 1),
                _ => None,
            },
        };
        let position = position.unwrap_or_else(|| {
            self.calls.push(PartialCall {
                index,
                ..PartialCall::default()
            });
            self.calls.len() - 1
        });
        let call = &mut self.calls[position];
        if call.id.is_empty() {
            call.id = id;
        }
        if let Some(kind) = fragment.get("type").and_then(Value::as_str) {
            call.kind = Some(kind.to_owned());
        }
        if let Some(function) = fragment.get("function") {
            if let Some(name) = function.get("name").and_then(Value::as_str)
                && call.name.is_empty()
            {
                call.name = name.to_owned();
            }
            match function.get("arguments") {
                Some(Value::String(piece)) => call.arguments.push_str(piece),
                Some(Value::Null) | None => {}
                Some(whole) => call.arguments = whole.to_string(),
            }
        }
        if let Some(fields) = fragment.as_object() {
            for (key, value) in fields {
                if !matches!(key.as_str(), "index" | "id" | "type" | "function") {
                    call.extra.insert(key.clone(), value.clone());
                }
            }
        }
    }

    pub(crate) fn finish(self) -> Completion {
        let tool_calls = self
            .calls
            .into_iter()
            .enumerate()
            .map(|(n, call)| ToolCall {
                id: if call.id.is_empty() {
                    format!("call_{n}")
                } else {
                    call.id
                },
                kind: call.kind.unwrap_or_else(|| "function".into()),
                function: FunctionCall {
                    name: call.name,
                    arguments: if call.arguments.trim().is_empty() {
                        "{}".into()
                    } else {
                        call.arguments
                    },
                },
                extra: call.extra,
            })
            .collect();
        Completion {
            message: ChatMessage {
                role: Role::Assistant,
                content: self.content,
                tool_calls,
                tool_call_id: None,
            },
            finish_reason: self.finish_reason,
            usage: self.usage,
            attempts: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn assemble(events: &[Value]) -> Completion {
        let mut assembler = Assembler::default();
        for event in events {
            assembler.event(&event.to_string()).expect("chunk");
        }
        assembler.finish()
    }

    #[test]
    fn events_are_split_across_reads_and_lines() {
        let mut reader = EventReader::default();
        assert!(reader.feed(b"data: {\"a\"").is_empty());
        assert_eq!(
            reader.feed(b":1}\r\n\r\n: comment\n\ndata: x\n"),
            ["{\"a\":1}"]
        );
        assert_eq!(reader.feed(b"data: y\n\ndata: [DONE]"), ["x\ny"]);
        assert_eq!(reader.finish().as_deref(), Some("[DONE]"));
    }

    #[test]
    fn tool_call_fragments_join_by_index() {
        let completion = assemble(&[
            json!({"choices": [{"delta": {"role": "assistant", "content": "Let me "}}]}),
            json!({"choices": [{"delta": {"content": "add them."}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "add_task", "arguments": ""}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 1, "id": "b", "function": {"name": "add_task", "arguments": "{\"title\":"}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"title\":\"milk\"}"}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 1, "function": {"arguments": "\"eggs\"}"}}]}}]}),
            json!({"choices": [{"delta": {}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 9, "completion_tokens": 4}}),
        ]);
        assert_eq!(
            completion.message.content.as_deref(),
            Some("Let me add them.")
        );
        let calls: Vec<(&str, &str)> = completion
            .message
            .tool_calls
            .iter()
            .map(|c| (c.id.as_str(), c.function.arguments.as_str()))
            .collect();
        assert_eq!(
            calls,
            [("a", r#"{"title":"milk"}"#), ("b", r#"{"title":"eggs"}"#)]
        );
        assert_eq!(completion.usage.completion_tokens, 4);
    }

    #[test]
    fn whole_calls_without_index_and_a_stop_are_tool_calls() {
        // Gemini's style: each call whole, no index, a signature beside it.
        let completion = assemble(&[
            json!({"choices": [{"delta": {"role": "assistant", "tool_calls": [
                {"id": "function-call-1", "type": "function", "function": {"name": "list_tasks", "arguments": "{}"},
                 "extra_content": {"google": {"thought_signature": "sig=="}}},
                {"id": "function-call-2", "type": "function", "function": {"name": "add_task", "arguments": {"title": "x"}}}
            ]}, "finish_reason": "stop"}]}),
        ]);
        let calls = &completion.message.tool_calls;
        assert_eq!(calls.len(), 2);
        assert_eq!(
            calls[0].extra["extra_content"],
            json!({"google": {"thought_signature": "sig=="}})
        );
        assert_eq!(calls[1].function.arguments, r#"{"title":"x"}"#);
        assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
        assert_eq!(completion.message.content, None);
    }

    #[test]
    fn fragments_without_index_or_id_continue_the_last_call() {
        let completion = assemble(&[
            json!({"choices": [{"delta": {"tool_calls": [{"function": {"name": "add_task", "arguments": "{\"ti"}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"function": {"arguments": "tle\":\"x\"}"}}]}}]}),
        ]);
        let calls = &completion.message.tool_calls;
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, "call_0", "an id is made up when none came");
        assert_eq!(calls[0].function.arguments, r#"{"title":"x"}"#);
    }

    #[test]
    fn an_error_chunk_is_an_error() {
        let mut assembler = Assembler::default();
        let error = assembler
            .event(r#"{"error": {"message": "overloaded"}}"#)
            .expect_err("error");
        assert!(error.to_string().contains("overloaded"));
        assert!(assembler.event("not json").is_err());
    }
}
