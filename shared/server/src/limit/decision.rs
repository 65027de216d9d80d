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

/// Where rate limits are counted, as flags and variables (the same in both
/// services).
#[derive(Debug, Clone, clap::Args)]
pub struct LimitBackendArgs {
    /// Where rate limits are counted: memory (per instance) or redis (shared by all
    /// instances; if Redis stops answering, each instance counts in memory meanwhile).
    #[arg(long, env = "RATE_LIMIT_BACKEND", value_enum, default_value_t = Backend::Memory)]
    pub rate_limit_backend: Backend,

    /// Redis for RATE_LIMIT_BACKEND=redis: redis://[:PASSWORD@]HOST[:PORT][/DB].
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    pub redis_url: String,
}
