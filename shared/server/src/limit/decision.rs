//! What a rate-limit check decides, and where limits are counted.

use std::time::Duration;

/// What a check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow { remaining: u32 },
    Deny { retry_after: Duration },
}

/// Where limits are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// In this process (one instance).
    Memory,
    /// In Redis, shared by every instance.
    Redis,
}
