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
        .position(|m| m.body.role == Role::User)
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
        .filter(|m| m.body.role == Role::Tool)
        .filter_map(|m| m.body.tool_call_id.as_deref())
        .collect();
    let mut wire = Vec::with_capacity(messages.len());
    let mut kept_calls: HashSet<String> = HashSet::new();
    for Message { body: message, .. } in messages {
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
    use todo_domain::conversation::MessageBody;

    fn stored(id: i64, body: MessageBody) -> Message {
        Message {
            id,
            body,
            created_at: chrono::Utc::now(),
        }
    }

    fn message(id: i64, role: Role) -> Message {
        stored(
            id,
            MessageBody {
                role,
                content: Some(format!("m{id}")),
                tool_calls: None,
                tool_call_id: None,
                tool_name: None,
                is_error: None,
            },
        )
    }

    fn calls(id: i64, call_ids: &[&str]) -> Message {
        let json: Vec<serde_json::Value> = call_ids
            .iter()
            .map(|c| serde_json::json!({"id": c, "type": "function", "function": {"name": "list_tasks", "arguments": "{}"}, "extra_content": {"k": 1}}))
            .collect();
        let calls = serde_json::Value::Array(json).to_string();
        stored(id, MessageBody::assistant(None, Some(calls)))
    }

    fn result(id: i64, call_id: &str) -> Message {
        let body = MessageBody::tool(call_id.into(), "list_tasks".into(), format!("m{id}"), false);
        stored(id, body)
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
