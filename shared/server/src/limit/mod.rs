//! Per-user rate limits: N requests a minute, in a burst of as many (GCRA),
//! for both services (the gateway's chat and read limits, todo-mcp's calls).
//!
//! The in-memory limiter counts per instance. With Redis, every
//! instance checks one shared counter per user and limit, so the limit holds
//! however a load balancer spreads the requests. The check is one Lua script
//! (the same GCRA, on Redis's clock, so instances' clocks need not agree).
//! When Redis does not answer within a moment, the instance decides with its
//! in-memory limiter, logs that once, and tries Redis again a little later:
//! the gateway keeps serving, with per-instance limits meanwhile.
//!
//! Layout: [`per_user`] (a [`Limit`], checked in memory or in Redis),
//! [`redis_counter`] (the shared counter and its fallback), [`enforce`] (the
//! middleware that answers 429), [`decision`] (what a check decides, and
//! where limits are counted).

pub mod decision;
pub mod enforce;
pub mod per_user;
pub mod redis_counter;

pub use decision::{Backend, Decision, LimitBackendArgs};
pub use enforce::enforce;
pub use per_user::Limit;
pub use redis_counter::RedisCounter;
