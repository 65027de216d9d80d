//! One chat turn: who it is for, its conversation's lease, the user's
//! message stored first, then the agent loop ([`crate::agent::step`]).
//!
//! Turns of one conversation run one after the other, across gateway
//! instances: each holds the conversation's lease while it runs. The user's
//! message is stored with the lease taken, so the same message can simply be
//! sent again after a failure.

use std::sync::Arc;
use std::time::Duration;

use todo_domain::Store;
use todo_domain::UserId;
use todo_domain::conversation::{self, ConversationId, Hold, Message, MessageBody, MessageText};
use todo_server::trace::TraceContext;
use todo_server::{Caller, Metrics};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};
use tracing::Instrument as _;

use crate::agent::bounds::Bounds;
use crate::agent::report::{Events, TurnError, TurnEvent, TurnLimits, TurnReport, TurnScope, emit};
use crate::llm::LlmClient;
use crate::mcp::TaskServer;

/// How turns run.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub max_steps: u32,
    pub history_messages: u32,
    /// How long a turn waits for another turn on the same conversation.
    pub lease_wait: Duration,
    /// How long a turn may hold its conversation (renewed each step).
    pub lease: Duration,
    /// How much work a turn may do.
    pub bounds: Bounds,
    /// Model tokens a user may use per UTC day (None: no budget).
    pub daily_tokens: Option<u64>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            max_steps: 8,
            history_messages: 20,
            lease_wait: Duration::from_secs(120),
            lease: Duration::from_secs(180),
            bounds: Bounds::default(),
            daily_tokens: None,
        }
    }
}

/// How many turns and model calls run at once, across all users: a turn
/// past the first is refused (503, shed), a model call past the second waits
/// its turn (within its turn's deadline).
#[derive(Clone)]
pub struct Capacity {
    turns: Arc<Semaphore>,
    model_calls: Arc<Semaphore>,
    metrics: Option<Arc<Metrics>>,
}

impl Capacity {
    pub fn new(turns: usize, model_calls: usize, metrics: Option<Arc<Metrics>>) -> Self {
        Self {
            turns: Arc::new(Semaphore::new(turns.max(1))),
            model_calls: Arc::new(Semaphore::new(model_calls.max(1))),
            metrics,
        }
    }

    /// A place for one more turn, or [`TurnError::Overloaded`].
    fn turn(&self) -> Result<OwnedSemaphorePermit, TurnError> {
        self.turns.clone().try_acquire_owned().map_err(|_| {
            if let Some(metrics) = &self.metrics {
                metrics.shed("turns");
            }
            TurnError::Overloaded
        })
    }

    pub(crate) fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.metrics.as_ref()
    }

    /// A place for one more model call, once one is free.
    pub(crate) async fn model_call(&self) -> Option<SemaphorePermit<'_>> {
        self.model_calls.acquire().await.ok()
    }
}

impl Default for Capacity {
    fn default() -> Self {
        Self::new(64, 32, None)
    }
}

/// Everything a turn needs. Cheap to clone.
#[derive(Clone)]
pub struct Agent {
    pub store: Store,
    pub llm: LlmClient,
    pub tasks: TaskServer,
    pub config: AgentConfig,
    pub capacity: Capacity,
}

impl Agent {
    /// Run one turn for `caller` (in their time zone); `conversation` None
    /// starts a new one.
    pub async fn turn(
        &self,
        caller: &Caller,
        conversation: Option<ConversationId>,
        text: MessageText,
        trace: TraceContext,
    ) -> Result<TurnReport, TurnError> {
        // In a task of its own: a client that hangs up must not cut the turn
        // short half-way (its lease would stay taken until it expires). Its
        // log lines stay in the request's span.
        let place = self.capacity.turn()?;
        let (agent, caller) = (self.clone(), caller.clone());
        tokio::spawn(
            async move {
                let result = agent
                    .turn_with_events(&caller, conversation, text, &trace, None)
                    .await;
                drop(place);
                result
            }
            .in_current_span(),
        )
        .await
        .unwrap_or_else(|error| Err(todo_domain::Error::internal(error.to_string()).into()))
    }

    /// Run one turn in a task of its own, using the model's streaming mode,
    /// and report it as it goes. The turn runs to its end and is stored
    /// whether or not anyone still listens: a client that goes away
    /// mid-turn finds the whole turn in the conversation when it comes back.
    pub fn stream_turn(
        &self,
        caller: Caller,
        conversation: Option<ConversationId>,
        text: MessageText,
        trace: TraceContext,
    ) -> tokio::sync::mpsc::UnboundedReceiver<TurnEvent> {
        let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
        let place = match self.capacity.turn() {
            Ok(place) => place,
            Err(error) => {
                emit(Some(&events), TurnEvent::Finished(Err(error)));
                return receiver;
            }
        };
        let agent = self.clone();
        tokio::spawn(
            async move {
                let result = agent
                    .turn_with_events(&caller, conversation, text, &trace, Some(&events))
                    .await;
                drop(place);
                emit(Some(&events), TurnEvent::Finished(result));
            }
            .in_current_span(),
        );
        receiver
    }

    async fn turn_with_events(
        &self,
        caller: &Caller,
        conversation: Option<ConversationId>,
        text: MessageText,
        trace: &TraceContext,
        events: Option<&Events>,
    ) -> Result<TurnReport, TurnError> {
        let user = caller.user();
        let started = std::time::Instant::now();
        // A spent budget refuses the turn before anything is stored.
        let budget_left = self.budget_left(user).await?;
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
        let mut spent = 0;
        let result = match history {
            Ok(history) => {
                let scope = TurnScope {
                    caller,
                    trace,
                    events,
                };
                let limits = TurnLimits {
                    budget_left,
                    spent: &mut spent,
                };
                self.run(scope, id, &owner, history, text, limits).await
            }
            Err(error) => Err(error.into()),
        };
        self.record_tokens(user, spent).await;
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
        let message = [MessageBody::user(text)];
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
                        todo_domain::Error::internal("the user's message was not stored").into()
                    });
                }
                Err(todo_domain::Error::Conflict(_))
                    if tokio::time::Instant::now() + pause <= deadline =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                Err(todo_domain::Error::Conflict(_)) => return Err(TurnError::Busy),
                Err(error) => return Err(error.into()),
            }
        }
    }
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
