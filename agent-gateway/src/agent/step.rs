//! The agent loop of one turn, once the user's message is stored and the
//! lease held: model → tool calls (those of one step run concurrently) →
//! results → model … until a final answer or the step limit. An assistant
//! message that calls tools is stored in one transaction with all its
//! results, so a failure half-way leaves no orphaned tool call.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde_json::Value;
use todo_domain::conversation::{self, ConversationId, Hold, Message, MessageBody, MessageText};
use todo_domain::{UserId, Zone};

use crate::agent::bounds::{self, PROMPT_LIMIT_MESSAGE};
use crate::agent::budget::BUDGET_MESSAGE;
use crate::agent::report::{
    Events, Timings, ToolCallReport, TurnError, TurnEvent, TurnLimits, TurnReport, TurnScope, emit,
};
use crate::agent::turn::Agent;
use crate::history;
use crate::llm::{ChatMessage, Completion, LlmError, ToolDefinition};
use crate::mcp::ToolOutcome;

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
        limits: TurnLimits<'_>,
    ) -> Result<TurnReport, TurnError> {
        let TurnScope { caller, events, .. } = scope;
        let TurnLimits { budget_left, spent } = limits;
        let user = caller.user();
        let bounds = self.config.bounds;
        let deadline = tokio::time::Instant::now() + bounds.turn_timeout;
        let listed = std::time::Instant::now();
        let tools = self.tasks.functions(caller).await?;
        let tools_time = listed.elapsed();

        let system = ChatMessage::system(system_prompt(caller.zone(), chrono::Utc::now()));
        let asked = ChatMessage::user(text.as_str());
        // The history gets what the prompt has room for besides the
        // system prompt and the user's message.
        let room = bounds
            .prompt_bytes
            .saturating_sub(bounds::message_bytes(&system) + bounds::message_bytes(&asked));
        let mut messages = vec![system];
        messages.extend(history::to_wire(&bounds::history_within(history, room)));
        messages.push(asked);
        let mut ended = Ended {
            id,
            owner,
            events,
            reports: Vec::new(),
            timings: Timings {
                llm: Duration::ZERO,
                mcp: tools_time,
            },
        };

        for _ in 0..self.config.max_steps {
            if bounds::prompt_bytes(&messages) > bounds.prompt_bytes {
                return self
                    .stop(user, ended, PROMPT_LIMIT_MESSAGE.to_owned())
                    .await;
            }
            if budget_left.is_some_and(|left| *spent >= left) {
                return self.stop(user, ended, BUDGET_MESSAGE.to_owned()).await;
            }
            let asked = std::time::Instant::now();
            let completion = tokio::time::timeout_at(deadline, self.ask(&messages, &tools, events));
            let completion = match completion.await {
                Ok(completion) => completion?,
                Err(_) => {
                    let message = bounds::deadline_message(bounds.turn_timeout);
                    return self.stop(user, ended, message).await;
                }
            };
            ended.timings.llm += asked.elapsed();
            *spent += completion.usage.prompt_tokens + completion.usage.completion_tokens;
            let assistant = completion.message;
            if assistant.tool_calls.is_empty() {
                let response = assistant.content.clone().unwrap_or_default();
                return self.finish(user, ended, response).await;
            }
            let results = self.call_tools(scope, &assistant, &mut ended).await?;
            // The step is stored whole, and the lease extended for the next.
            let mut stored = vec![MessageBody::assistant(
                assistant.content.clone(),
                Some(serde_json::to_string(&assistant.tool_calls).unwrap_or_default()),
            )];
            stored.extend(results.iter().map(|(body, _)| body.clone()));
            conversation::append(
                &self.store,
                user,
                id,
                &stored,
                Hold::Renew(owner, self.config.lease),
            )
            .await?;
            messages.push(assistant);
            messages.extend(results.into_iter().map(|(_, wire)| wire));
            if tokio::time::Instant::now() >= deadline {
                let message = bounds::deadline_message(bounds.turn_timeout);
                return self.stop(user, ended, message).await;
            }
        }
        self.stop(user, ended, STEP_LIMIT_MESSAGE.to_owned()).await
    }

    /// One model call, streamed when someone listens.
    async fn ask(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolDefinition],
        events: Option<&Events>,
    ) -> Result<Completion, LlmError> {
        let _place = self.capacity.model_call().await;
        match events {
            Some(events) => {
                let mut on_text = |text: &str| {
                    let _ = events.send(TurnEvent::TextDelta(text.to_owned()));
                };
                self.llm
                    .complete_streaming(messages, tools, &mut on_text)
                    .await
            }
            None => self.llm.complete(messages, tools).await,
        }
    }

    /// Run the tool calls of one step (at most the bound, at once) and
    /// report them; each result as stored and as the model reads it. One
    /// call that fails (the task server unreachable) fails the step.
    async fn call_tools(
        &self,
        scope: TurnScope<'_>,
        assistant: &ChatMessage,
        ended: &mut Ended<'_>,
    ) -> Result<Vec<(MessageBody, ChatMessage)>, TurnError> {
        let bounds = self.config.bounds;
        let calls = &assistant.tool_calls;
        for call in calls {
            emit(
                scope.events,
                TurnEvent::ToolCall {
                    id: call.id.clone(),
                    name: call.function.name.clone(),
                    arguments: arguments_value(&call.function.arguments),
                },
            );
        }
        let called = std::time::Instant::now();
        let running = calls.len().min(bounds.tool_calls_per_step);
        let mut outcomes = join_all(calls[..running].iter().map(|call| {
            self.tasks.call(
                scope.caller,
                &call.function.name,
                &call.function.arguments,
                scope.trace,
            )
        }))
        .await;
        ended.timings.mcp += called.elapsed();
        outcomes.extend(calls[running..].iter().map(|_| {
            Ok(ToolOutcome {
                text: bounds::not_run(bounds.tool_calls_per_step),
                structured: None,
                is_error: true,
            })
        }));
        let mut results = Vec::with_capacity(calls.len());
        for (call, outcome) in calls.iter().zip(outcomes) {
            let outcome = outcome?;
            let (text, was_cut) = bounds::cut(outcome.text, bounds.tool_result_bytes);
            let result = match outcome.structured {
                Some(structured) if !was_cut => structured,
                _ => Value::String(text.clone()),
            };
            emit(
                scope.events,
                TurnEvent::ToolResult {
                    id: call.id.clone(),
                    result: result.clone(),
                    is_error: outcome.is_error,
                },
            );
            ended.reports.push(ToolCallReport {
                id: call.id.clone(),
                name: call.function.name.clone(),
                arguments: arguments_value(&call.function.arguments),
                result,
                is_error: outcome.is_error,
            });
            results.push((
                MessageBody::tool(
                    call.id.clone(),
                    call.function.name.clone(),
                    text.clone(),
                    outcome.is_error,
                ),
                ChatMessage::tool_result(call.id.clone(), text),
            ));
        }
        Ok(results)
    }

    /// End the turn with a message of the gateway's own (a bound was
    /// reached), streamed as if the model had said it.
    async fn stop(
        &self,
        user: &UserId,
        ended: Ended<'_>,
        message: String,
    ) -> Result<TurnReport, TurnError> {
        emit(ended.events, TurnEvent::TextDelta(message.clone()));
        self.finish(user, ended, message).await
    }

    /// Store the turn's answer, giving the lease back with it.
    async fn finish(
        &self,
        user: &UserId,
        ended: Ended<'_>,
        response: String,
    ) -> Result<TurnReport, TurnError> {
        let stored = conversation::append(
            &self.store,
            user,
            ended.id,
            &[MessageBody::assistant(Some(response.clone()), None)],
            Hold::Release(ended.owner),
        )
        .await?;
        Ok(TurnReport {
            conversation_id: ended.id.get(),
            message_id: stored.last().map_or(0, |m| m.id),
            response,
            tool_calls: ended.reports,
            timings: ended.timings,
        })
    }
}

/// What a turn has done so far, for its end.
struct Ended<'a> {
    id: ConversationId,
    owner: &'a str,
    events: Option<&'a Events>,
    reports: Vec<ToolCallReport>,
    timings: Timings,
}

/// The model's arguments as JSON (null when they are not JSON).
fn arguments_value(arguments: &str) -> Value {
    serde_json::from_str(arguments).unwrap_or(Value::Null)
}
