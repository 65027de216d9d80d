//! Stored messages to the model's history: the window the model sees, and
//! the wire format.
//!
//! The window is the last `HISTORY_MESSAGES` messages, cut so that it starts
//! at a user message: a tool result never appears without the assistant
//! message that called it (providers reject such a history), and an
//! assistant's tool calls are only replayed with all their results.

use std::collections::HashSet;

use todo_domain::conversation::{Message, Role};

use crate::llm::{ChatMessage, ToolCall};

/// Drop messages from the front until the first is the user's.
pub fn window(mut recent: Vec<Message>) -> Vec<Message> {
    let start = recent
        .iter()
        .position(|m| m.role == Role::User)
        .unwrap_or(recent.len());
    recent.drain(..start);
    recent
}

/// Stored messages as the model's history. Assistant tool calls without all
/// their results (which the gateway never stores, but a history must never
/// carry) are dropped with their partial results.
pub fn to_wire(messages: &[Message]) -> Vec<ChatMessage> {
    let answered: HashSet<&str> = messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .filter_map(|m| m.tool_call_id.as_deref())
        .collect();
    let mut wire = Vec::with_capacity(messages.len());
    let mut kept_calls: HashSet<String> = HashSet::new();
    for message in messages {
        match message.role {
            Role::User => wire.push(ChatMessage::user(
                message.content.clone().unwrap_or_default(),
            )),
            Role::Assistant => {
                let calls: Vec<ToolCall> = message
                    .tool_calls
                    .as_deref()
                    .and_then(|json| serde_json::from_str(json).ok())
                    .unwrap_or_default();
                if calls.iter().any(|c| !answered.contains(c.id.as_str())) {
                    continue;
                }
                kept_calls.extend(calls.iter().map(|c| c.id.clone()));
                let mut assistant = ChatMessage::assistant(String::new());
                assistant.content = message.content.clone();
                assistant.tool_calls = calls;
                wire.push(assistant);
            }
            Role::Tool => {
                let Some(call_id) = message.tool_call_id.as_deref() else {
                    continue;
                };
                if kept_calls.contains(call_id) {
                    wire.push(ChatMessage::tool_result(
                        call_id,
                        message.content.clone().unwrap_or_default(),
                    ));
                }
            }
        }
    }
    wire
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Role as WireRole;

    fn message(id: i64, role: Role) -> Message {
        Message {
            id,
            role,
            content: Some(format!("m{id}")),
            tool_calls: None,
            tool_call_id: None,
            tool_name: None,
            is_error: None,
            created_at: chrono::Utc::now(),
        }
    }

    fn calls(id: i64, call_ids: &[&str]) -> Message {
        let json: Vec<serde_json::Value> = call_ids
            .iter()
            .map(|c| serde_json::json!({"id": c, "type": "function", "function": {"name": "list_tasks", "arguments": "{}"}, "extra_content": {"k": 1}}))
            .collect();
        Message {
            content: None,
            tool_calls: Some(serde_json::Value::Array(json).to_string()),
            ..message(id, Role::Assistant)
        }
    }

    fn result(id: i64, call_id: &str) -> Message {
        Message {
            tool_call_id: Some(call_id.into()),
            tool_name: Some("list_tasks".into()),
            ..message(id, Role::Tool)
        }
    }

    #[test]
    fn the_window_starts_at_a_user_message() {
        let recent = vec![
            result(3, "a"),
            calls(4, &["b"]),
            result(5, "b"),
            message(6, Role::Assistant),
            message(7, Role::User),
        ];
        let ids: Vec<i64> = window(recent).iter().map(|m| m.id).collect();
        assert_eq!(ids, [7]);
        assert!(window(vec![result(1, "x")]).is_empty());
    }

    #[test]
    fn tool_calls_replay_with_their_results_and_provider_fields() {
        let history = vec![
            message(1, Role::User),
            calls(2, &["a", "b"]),
            result(3, "a"),
            result(4, "b"),
            message(5, Role::Assistant),
        ];
        let wire = to_wire(&history);
        let roles: Vec<WireRole> = wire.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                WireRole::User,
                WireRole::Assistant,
                WireRole::Tool,
                WireRole::Tool,
                WireRole::Assistant
            ]
        );
        assert_eq!(
            wire[1].tool_calls[1].extra.get("extra_content"),
            Some(&serde_json::json!({"k": 1}))
        );
        assert_eq!(wire[3].tool_call_id.as_deref(), Some("b"));
    }

    #[test]
    fn calls_without_all_their_results_are_left_out() {
        let history = vec![
            message(1, Role::User),
            calls(2, &["a", "b"]),
            result(3, "a"),
            message(4, Role::User),
        ];
        let wire = to_wire(&history);
        let roles: Vec<WireRole> = wire.iter().map(|m| m.role).collect();
        assert_eq!(roles, [WireRole::User, WireRole::User]);
    }
}
