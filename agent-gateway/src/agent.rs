//! One chat turn: the agent loop.
//!
//! Per turn: take the conversation's lease (turns of one conversation run one
//! after the other, across gateway instances), load the recent history, store
//! the user's message first, then model → tool calls (those of one step run
//! concurrently) → results → model … until a final answer or the step limit.
//! An assistant message that calls tools is stored in one transaction with
//! all its results, so a failure half-way leaves no orphaned tool call, and
//! the same message can simply be sent again.

use std::time::Duration;

use futures::future::join_all;
use serde::Serialize;
use serde_json::Value;
use todo_shared::conversation::{self, ConversationId, Hold, Message, MessageText, NewMessage};
use todo_shared::trace::TraceContext;
use todo_shared::{Store, UserId};
use tracing::Instrument as _;

use crate::history;
use crate::llm::{ChatMessage, LlmClient, LlmError};
use crate::mcp::{McpError, TaskServer, function_definitions};

pub const SYSTEM_PROMPT: &str = "You are a helpful assistant that manages the user's task list with \
the tools you are given. Confirm every action you take in one friendly sentence that names the task. \
When a request is ambiguous (several tasks could match, or it is unclear what to do), ask the user \
instead of guessing. To act on a task the user names by its title, call list_tasks first to find its \
id; never invent or guess an id. When a tool reports an error, tell the user plainly what went wrong \
(for example \"I couldn't find task 42\").";

/// The message that ends a turn at the step limit.
pub const STEP_LIMIT_MESSAGE: &str = "I had to stop before finishing: this request needed more steps than \
I may take in one go. Please check your tasks and tell me what is still to be done.";

/// How turns run.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub max_steps: u32,
    pub history_messages: u32,
    /// How long a turn waits for another turn on the same conversation.
    pub lease_wait: Duration,
    /// How long a turn may hold its conversation (renewed each step).
    pub lease: Duration,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            max_steps: 8,
            history_messages: 20,
            lease_wait: Duration::from_secs(120),
            lease: Duration::from_secs(180),
        }
    }
}

/// Why a turn failed.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error(transparent)]
    Domain(#[from] todo_shared::Error),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Mcp(#[from] McpError),
    #[error("another request on this conversation is still running")]
    Busy,
}

/// One tool call of a turn, as the API reports it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ToolCallReport {
    /// The model's id for the call (as in the `tool_call` stream event).
    pub id: String,
    /// The task tool (add_task, list_tasks, complete_task, update_task, delete_task).
    pub name: String,
    /// The arguments the model gave (null when they were not JSON).
    #[schema(value_type = Object)]
    pub arguments: Value,
    /// The tool's structured result, or its text when it gave none.
    pub result: Value,
    /// True when the tool refused (the model reads why and may correct itself).
    pub is_error: bool,
}

/// What a turn produced.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TurnReport {
    pub conversation_id: i64,
    /// The stored answer's message id.
    pub message_id: i64,
    /// The model's final answer.
    pub response: String,
    /// The tool calls of this turn, in order.
    pub tool_calls: Vec<ToolCallReport>,
    /// Where the turn's time went (sent as a `Server-Timing` header).
    #[serde(skip)]
    pub timings: Timings,
}

/// Time spent waiting for the model and for the task server in one turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    pub llm: Duration,
    pub mcp: Duration,
}

/// What a streamed turn reports as it goes, in this order: `Conversation`
/// once the user's message is stored, then text and tool calls as they come,
/// and `Finished` last.
#[derive(Debug)]
pub enum TurnEvent {
    Conversation {
        conversation_id: i64,
    },
    /// Text of the model's answer (of any step) as it streams.
    TextDelta(String),
    ToolCall {
        id: String,
        name: String,
        arguments: Value,
    },
    ToolResult {
        id: String,
        result: Value,
        is_error: bool,
    },
    Finished(Result<TurnReport, TurnError>),
}

type Events = tokio::sync::mpsc::UnboundedSender<TurnEvent>;

/// Hand an event on; a listener that went away changes nothing.
fn emit(events: Option<&Events>, event: TurnEvent) {
    if let Some(events) = events {
        let _ = events.send(event);
    }
}

/// Who a turn is for, on behalf of which request, and who listens.
#[derive(Clone, Copy)]
struct TurnScope<'a> {
    user: &'a UserId,
    trace: &'a TraceContext,
    events: Option<&'a Events>,
}

/// Everything a turn needs. Cheap to clone.
#[derive(Clone)]
pub struct Agent {
    pub store: Store,
    pub llm: LlmClient,
    pub tasks: TaskServer,
    pub config: AgentConfig,
}

impl Agent {
    /// Run one turn for `user`; `conversation` None starts a new one.
    pub async fn turn(
        &self,
        user: &UserId,
        conversation: Option<ConversationId>,
        text: MessageText,
        trace: TraceContext,
    ) -> Result<TurnReport, TurnError> {
        // In a task of its own: a client that hangs up must not cut the turn
        // short half-way (its lease would stay taken until it expires). Its
        // log lines stay in the request's span.
        let (agent, user) = (self.clone(), user.clone());
        tokio::spawn(
            async move {
                agent
                    .turn_with_events(&user, conversation, text, &trace, None)
                    .await
            }
            .in_current_span(),
        )
        .await
        .unwrap_or_else(|error| Err(todo_shared::Error::internal(error.to_string()).into()))
    }

    /// Run one turn in a task of its own, using the model's streaming mode,
    /// and report it as it goes. The turn runs to its end and is stored
    /// whether or not anyone still listens: a client that goes away
    /// mid-turn finds the whole turn in the conversation when it comes back.
    pub fn stream_turn(
        &self,
        user: UserId,
        conversation: Option<ConversationId>,
        text: MessageText,
        trace: TraceContext,
    ) -> tokio::sync::mpsc::UnboundedReceiver<TurnEvent> {
        let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
        let agent = self.clone();
        tokio::spawn(
            async move {
                let result = agent
                    .turn_with_events(&user, conversation, text, &trace, Some(&events))
                    .await;
                emit(Some(&events), TurnEvent::Finished(result));
            }
            .in_current_span(),
        );
        receiver
    }

    async fn turn_with_events(
        &self,
        user: &UserId,
        conversation: Option<ConversationId>,
        text: MessageText,
        trace: &TraceContext,
        events: Option<&Events>,
    ) -> Result<TurnReport, TurnError> {
        let started = std::time::Instant::now();
        let owner = lease_owner();
        let lease = self.config.lease;
        // The user's message is stored first, with the lease taken in the
        // same transaction; a new conversation has no history to load.
        let (id, history) = match conversation {
            Some(id) => {
                let stored = self.take_turn(user, id, &owner, &text).await?;
                let history = conversation::recent(
                    &self.store,
                    user,
                    id,
                    Some(stored.id),
                    self.config.history_messages,
                )
                .await;
                (id, history)
            }
            None => {
                let (started, _) =
                    conversation::start(&self.store, user, &text, Some((&owner, lease))).await?;
                (ConversationId::parse(started.id)?, Ok(Vec::new()))
            }
        };
        emit(
            events,
            TurnEvent::Conversation {
                conversation_id: id.get(),
            },
        );
        let result = match history {
            Ok(history) => {
                self.run(
                    TurnScope {
                        user,
                        trace,
                        events,
                    },
                    id,
                    &owner,
                    history,
                    text,
                )
                .await
            }
            Err(error) => Err(error.into()),
        };
        match &result {
            Ok(report) => tracing::info!(
                user = %user,
                conversation = id.get(),
                tool_calls = report.tool_calls.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "turn finished"
            ),
            Err(error) => {
                tracing::info!(user = %user, conversation = id.get(), %error, "turn failed")
            }
        }
        // A finished turn gave the lease back with its answer.
        if result.is_err()
            && let Err(error) = conversation::release_lease(&self.store, id, &owner).await
        {
            tracing::warn!(%error, conversation = id.get(), "cannot release a conversation lease; it will expire");
        }
        result
    }

    /// Store the user's message once this turn holds the conversation's
    /// lease, waiting for a turn in progress to finish.
    async fn take_turn(
        &self,
        user: &UserId,
        id: ConversationId,
        owner: &str,
        text: &MessageText,
    ) -> Result<Message, TurnError> {
        let deadline = tokio::time::Instant::now() + self.config.lease_wait;
        let mut pause = Duration::from_millis(20);
        let message = [NewMessage::user(text)];
        loop {
            match conversation::append(
                &self.store,
                user,
                id,
                &message,
                Hold::Take(owner, self.config.lease),
            )
            .await
            {
                Ok(mut stored) => {
                    return stored.pop().ok_or_else(|| {
                        todo_shared::Error::internal("the user's message was not stored").into()
                    });
                }
                Err(todo_shared::Error::Conflict(_))
                    if tokio::time::Instant::now() + pause <= deadline =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                Err(todo_shared::Error::Conflict(_)) => return Err(TurnError::Busy),
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// The agent loop, once the user's message is stored and the lease held.
    async fn run(
        &self,
        scope: TurnScope<'_>,
        id: ConversationId,
        owner: &str,
        history: Vec<Message>,
        text: MessageText,
    ) -> Result<TurnReport, TurnError> {
        let TurnScope {
            user,
            trace,
            events,
        } = scope;
        let listed = std::time::Instant::now();
        let tools = function_definitions(&self.tasks.tools(user).await?);
        let tools_time = listed.elapsed();

        let mut messages = vec![ChatMessage::system(SYSTEM_PROMPT)];
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
                    &[NewMessage::assistant(Some(response.clone()), None)],
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
                    .call(user, &call.function.name, &call.function.arguments, trace)
            }))
            .await;
            timings.mcp += called.elapsed();
            let mut stored = vec![NewMessage::assistant(
                assistant.content.clone(),
                Some(serde_json::to_string(&assistant.tool_calls).unwrap_or_default()),
            )];
            let mut results = Vec::new();
            for (call, outcome) in assistant.tool_calls.iter().zip(outcomes) {
                // One failed call fails the step: nothing of it is stored.
                let outcome = outcome?;
                stored.push(NewMessage::tool(
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
            &[NewMessage::assistant(
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

/// A token naming this turn as the holder of a lease.
fn lease_owner() -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    format!(
        "turn-{:016x}{:016x}",
        rng.random::<u64>(),
        rng.random::<u64>()
    )
}
