//! The agent loop of one turn, once the user's message is stored and the
//! lease held: model → tool calls (those of one step run concurrently) →
//! results → model … until a final answer or the step limit. An assistant
//! message that calls tools is stored in one transaction with all its
//! results, so a failure half-way leaves no orphaned tool call.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde_json::Value;
use todo_domain::Zone;
use todo_domain::conversation::{self, ConversationId, Hold, Message, MessageBody, MessageText};

use crate::agent::report::{
    Timings, ToolCallReport, TurnError, TurnEvent, TurnReport, TurnScope, emit,
};
use crate::agent::turn::Agent;
use crate::history;
use crate::llm::ChatMessage;

pub const SYSTEM_PROMPT: &str = "You are a helpful assistant that manages the user's task list with \
the tools you are given. Confirm every action you take in one friendly sentence that names the task. \
When a request is ambiguous (several tasks could match, or it is unclear what to do), ask the user \
instead of guessing. To act on a task the user names by its title, call list_tasks first to find its \
id; never invent or guess an id. When a tool reports an error, tell the user plainly what went wrong \
(for example \"I couldn't find task 42\").";

/// The system prompt of a turn: [`SYSTEM_PROMPT`], then the current date,
/// weekday and time in the user's zone, so that the model turns "tomorrow"
/// and "next Friday" into the right dates.
pub fn system_prompt(zone: Zone, now: DateTime<Utc>) -> String {
    let local = now.with_timezone(&zone.tz());
    format!(
        "{SYSTEM_PROMPT}\n\nIt is now {} (time zone {}, UTC{}). Read dates the user gives in this \
         zone. Tools take dates only as ISO 8601: a whole day as 2026-12-24, a time with its offset \
         as 2026-12-24T09:00:00{}; repeating tasks take an RFC 5545 RRULE such as \
         FREQ=MONTHLY;BYMONTHDAY=1. Convert what the user says into these forms yourself.",
        local.format("%A %-d %B %Y, %H:%M"),
        zone.name(),
        local.format("%:z"),
        local.format("%:z"),
    )
}

/// The message that ends a turn at the step limit.
pub const STEP_LIMIT_MESSAGE: &str = "I had to stop before finishing: this request needed more steps than \
I may take in one go. Please check your tasks and tell me what is still to be done.";

impl Agent {
    /// The agent loop, once the user's message is stored and the lease held.
    pub(crate) async fn run(
        &self,
        scope: TurnScope<'_>,
        id: ConversationId,
        owner: &str,
        history: Vec<Message>,
        text: MessageText,
    ) -> Result<TurnReport, TurnError> {
        let TurnScope {
            caller,
            trace,
            events,
        } = scope;
        let user = caller.user();
        let listed = std::time::Instant::now();
        let tools = self.tasks.functions(caller).await?;
        let tools_time = listed.elapsed();

        let mut messages = vec![ChatMessage::system(system_prompt(
            caller.zone(),
            chrono::Utc::now(),
        ))];
        messages.extend(history::to_wire(&history::window(history)));
        messages.push(ChatMessage::user(text.as_str()));
        let mut reports = Vec::new();
        let mut timings = Timings {
            llm: Duration::ZERO,
            mcp: tools_time,
        };

        for _ in 0..self.config.max_steps {
            let asked = std::time::Instant::now();
            let completion = match events {
                Some(events) => {
                    let mut on_text = |text: &str| {
                        let _ = events.send(TurnEvent::TextDelta(text.to_owned()));
                    };
                    self.llm
                        .complete_streaming(&messages, &tools, &mut on_text)
                        .await?
                }
                None => self.llm.complete(&messages, &tools).await?,
            };
            timings.llm += asked.elapsed();
            let assistant = completion.message;
            if assistant.tool_calls.is_empty() {
                let response = assistant.content.clone().unwrap_or_default();
                let stored = conversation::append(
                    &self.store,
                    user,
                    id,
                    &[MessageBody::assistant(Some(response.clone()), None)],
                    Hold::Release(owner),
                )
                .await?;
                return Ok(TurnReport {
                    conversation_id: id.get(),
                    message_id: stored.last().map_or(0, |m| m.id),
                    response,
                    tool_calls: reports,
                    timings,
                });
            }
            for call in &assistant.tool_calls {
                emit(
                    events,
                    TurnEvent::ToolCall {
                        id: call.id.clone(),
                        name: call.function.name.clone(),
                        arguments: arguments_value(&call.function.arguments),
                    },
                );
            }
            let called = std::time::Instant::now();
            let outcomes = join_all(assistant.tool_calls.iter().map(|call| {
                self.tasks
                    .call(caller, &call.function.name, &call.function.arguments, trace)
            }))
            .await;
            timings.mcp += called.elapsed();
            let mut stored = vec![MessageBody::assistant(
                assistant.content.clone(),
                Some(serde_json::to_string(&assistant.tool_calls).unwrap_or_default()),
            )];
            let mut results = Vec::new();
            for (call, outcome) in assistant.tool_calls.iter().zip(outcomes) {
                // One failed call fails the step: nothing of it is stored.
                let outcome = outcome?;
                stored.push(MessageBody::tool(
                    call.id.clone(),
                    call.function.name.clone(),
                    outcome.text.clone(),
                    outcome.is_error,
                ));
                results.push(ChatMessage::tool_result(
                    call.id.clone(),
                    outcome.text.clone(),
                ));
                let result = outcome.structured.unwrap_or(Value::String(outcome.text));
                emit(
                    events,
                    TurnEvent::ToolResult {
                        id: call.id.clone(),
                        result: result.clone(),
                        is_error: outcome.is_error,
                    },
                );
                reports.push(ToolCallReport {
                    id: call.id.clone(),
                    name: call.function.name.clone(),
                    arguments: arguments_value(&call.function.arguments),
                    result,
                    is_error: outcome.is_error,
                });
            }
            // The step is stored whole, and the lease extended for the next.
            conversation::append(
                &self.store,
                user,
                id,
                &stored,
                Hold::Renew(owner, self.config.lease),
            )
            .await?;
            messages.push(assistant);
            messages.extend(results);
        }
        let stored = conversation::append(
            &self.store,
            user,
            id,
            &[MessageBody::assistant(
                Some(STEP_LIMIT_MESSAGE.to_owned()),
                None,
            )],
            Hold::Release(owner),
        )
        .await?;
        emit(events, TurnEvent::TextDelta(STEP_LIMIT_MESSAGE.to_owned()));
        Ok(TurnReport {
            conversation_id: id.get(),
            message_id: stored.last().map_or(0, |m| m.id),
            response: STEP_LIMIT_MESSAGE.to_owned(),
            tool_calls: reports,
            timings,
        })
    }
}

/// The model's arguments as JSON (null when they are not JSON).
fn arguments_value(arguments: &str) -> Value {
    serde_json::from_str(arguments).unwrap_or(Value::Null)
}
