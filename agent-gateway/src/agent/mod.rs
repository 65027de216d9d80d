//! The agent: one chat turn ([`turn`]), its loop of model and tool calls
//! ([`step`]), and what it reports ([`report`]).

pub mod bounds;
pub mod budget;
pub mod report;
pub mod step;
pub mod turn;

pub use bounds::Bounds;
pub use report::{Timings, ToolCallReport, TurnError, TurnEvent, TurnReport};
pub use step::{STEP_LIMIT_MESSAGE, SYSTEM_PROMPT};
pub use turn::{Agent, AgentConfig, Capacity};
