//! How much work one turn may do: tool calls per model step, bytes of a tool
//! result, bytes of a prompt, and the turn's wall-clock deadline. Whatever
//! passes a bound is cut and said so, to the model and in the stored
//! conversation, never dropped silently.

use std::time::Duration;

use todo_domain::conversation::Message;

use crate::history;
use crate::llm::ChatMessage;

/// The bounds of one turn.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Tool calls of one model step that run; the rest are answered with an
    /// error telling the model to batch.
    pub tool_calls_per_step: usize,
    /// Bytes of one tool result stored and sent to the model.
    pub tool_result_bytes: usize,
    /// Bytes of the messages sent in one model call.
    pub prompt_bytes: usize,
    /// Wall-clock time of a whole turn.
    pub turn_timeout: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            tool_calls_per_step: 16,
            tool_result_bytes: 16 * 1024,
            prompt_bytes: 512 * 1024,
            turn_timeout: Duration::from_secs(120),
        }
    }
}

/// The answer to a tool call past [`Bounds::tool_calls_per_step`].
pub fn not_run(limit: usize) -> String {
    format!(
        "Not run: at most {limit} tool calls run in one step. Call again for the rest, or batch \
         them (add_tasks adds many tasks in one call; list_tasks filters and pages)."
    )
}

/// The message that ends a turn past its deadline.
pub fn deadline_message(timeout: Duration) -> String {
    format!(
        "I had to stop before finishing: this request took longer than the {} s I may spend on \
         one message. Please check your tasks and tell me what is still to be done.",
        timeout.as_secs()
    )
}

/// The message that ends a turn whose tool results outgrew the prompt.
pub const PROMPT_LIMIT_MESSAGE: &str = "I had to stop before finishing: the results of this \
request grew larger than I can read in one go. Please ask for fewer tasks at a time (a filter or \
a smaller limit).";

/// `text` cut to at most `max` bytes (at a character boundary), followed
/// by a note saying so; unchanged when it fits. True when it was cut.
pub fn cut(text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let note = format!(
        "\n[cut: this result was {} bytes; only the first {end} are shown. Ask for fewer tasks \
         (filters, a smaller limit) to see the rest.]",
        text.len()
    );
    (format!("{}{note}", &text[..end]), true)
}

/// Bytes a message adds to a prompt: its text, and its tool calls' names
/// and arguments.
pub fn message_bytes(message: &ChatMessage) -> usize {
    message.content.as_deref().map_or(0, str::len)
        + message
            .tool_calls
            .iter()
            .map(|call| call.function.name.len() + call.function.arguments.len())
            .sum::<usize>()
}

/// Bytes of a whole prompt.
pub fn prompt_bytes(messages: &[ChatMessage]) -> usize {
    messages.iter().map(message_bytes).sum()
}

/// The newest stored messages whose text fits in `budget` bytes, then cut by
/// [`history::window`] so that they start at a user message.
pub fn history_within(history: Vec<Message>, budget: usize) -> Vec<Message> {
    let mut used = 0usize;
    let mut start = history.len();
    for (index, message) in history.iter().enumerate().rev() {
        used += stored_bytes(message);
        if used > budget {
            break;
        }
        start = index;
    }
    history::window(history.into_iter().skip(start).collect())
}

fn stored_bytes(message: &Message) -> usize {
    message.body.content.as_deref().map_or(0, str::len)
        + message.body.tool_calls.as_deref().map_or(0, str::len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_domain::conversation::{MessageBody, Role};

    #[test]
    fn a_result_is_cut_at_a_character_boundary_with_a_note() {
        let (same, was_cut) = cut("short".to_owned(), 16);
        assert_eq!((same.as_str(), was_cut), ("short", false));
        let (cut_text, was_cut) = cut("ééééé".to_owned(), 5);
        assert!(was_cut);
        assert!(cut_text.starts_with("éé\n[cut: this result was 10 bytes; only the first 4"));
    }

    #[test]
    fn the_history_keeps_the_newest_messages_that_fit_from_a_user_message() {
        let message = |id: i64, role: Role, len: usize| Message {
            id,
            body: MessageBody {
                role,
                content: Some("x".repeat(len)),
                tool_calls: None,
                tool_call_id: None,
                tool_name: None,
                is_error: None,
            },
            created_at: chrono::Utc::now(),
        };
        let history = vec![
            message(1, Role::User, 10),
            message(2, Role::Assistant, 10),
            message(3, Role::User, 10),
            message(4, Role::Assistant, 10),
        ];
        let ids = |kept: Vec<Message>| kept.iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(history_within(history.clone(), 40)), [1, 2, 3, 4]);
        assert_eq!(ids(history_within(history.clone(), 35)), [3, 4]);
        assert_eq!(ids(history_within(history.clone(), 15)), Vec::<i64>::new());
    }
}
