//! Why the task server gave no answer, and telling its rate limit from
//! other failures.

use std::time::Duration;

/// Why the task server gave no answer (the gateway answers 503).
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("the task server cannot be reached: {0}")]
    Unavailable(String),
    #[error("the task server did not answer {tool} within {timeout:?}")]
    Timeout { tool: String, timeout: Duration },
    #[error("cannot sign a token for the task server: {0}")]
    Token(String),
    /// The task server's per-user rate limit: the user's, passed on.
    #[error("too many requests to the task server for this user")]
    RateLimited { retry_after: Option<u64> },
}

/// Was `error` the task server's 429? Then its `Retry-After` (seconds).
pub(crate) fn rate_limited(error: &rmcp::ServiceError) -> Option<McpError> {
    use rmcp::transport::streamable_http_client::{HttpStatusError, StreamableHttpError};
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        let status = match current.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            Some(StreamableHttpError::HttpStatus(status)) => Some(status),
            _ => current.downcast_ref::<HttpStatusError>(),
        };
        if let Some(status) = status.filter(|s| s.status == 429) {
            let retry_after = status
                .retry_after
                .as_deref()
                .and_then(|v| v.trim().parse().ok());
            return Some(McpError::RateLimited { retry_after });
        }
        source = current.source();
    }
    None
}
