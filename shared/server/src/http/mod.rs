//! HTTP plumbing both services share: serving a router with connection
//! limits ([`serve`]), admitting requests or shedding them ([`admit`]), the
//! middleware that gives every request its id, its log span and its
//! metrics ([`observe`]), the headers every answer carries ([`headers`]),
//! authentication ([`authenticate`]), the metric families ([`metrics`]) and
//! their separate listener ([`scrape`]).

pub mod admit;
pub mod authenticate;
pub mod headers;
pub mod metrics;
pub mod observe;
pub mod scrape;
pub mod serve;

pub use admit::{RequestLimits, admit, overloaded};
pub use authenticate::{Authentication, authenticate};
pub use headers::nosniff;
pub use metrics::Metrics;
pub use observe::observe;
pub use scrape::{serve_metrics, spawn_metrics};
pub use serve::{ConnectionLimits, HttpLimitArgs, run};
