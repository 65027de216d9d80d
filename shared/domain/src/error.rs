//! The one error type of the domain. Each binary maps it to its protocol in
//! exactly one place (HTTP status, MCP tool error, JSON-RPC error).

/// Everything a service function can fail with, by what the caller can do
/// about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule; `message` is written for the person (or model)
    /// who sent it, e.g. "title must be 1 to 200 characters".
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The thing does not exist *for this caller*. Another user's task ends
    /// here too, through the same query, so the two cannot be told apart.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: i64 },
    #[error("{0}")]
    Conflict(String),
    /// The user keeps as many of something (tasks, conversations, messages
    /// of a conversation) as one user may; the message says what to do.
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("forbidden")]
    Forbidden,
    /// A fault of ours or of our infrastructure. Its text is logged, never
    /// shown to a client.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(Box::new(error))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
