//! Why the model gave no answer.

use std::time::Duration;

/// Why the model gave no answer. The gateway maps these to 502 (the model is
/// down or broken) and 504 (it is too slow).
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model cannot be reached: {0}")]
    Unreachable(String),
    #[error("the model answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the model did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the model's answer cannot be read: {0}")]
    InvalidResponse(String),
}
