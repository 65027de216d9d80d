//! The public keys of a JWKS URL, kept fresh by a task of their own.
//!
//! - A token whose key is known is verified at once: requests never wait for
//!   a fetch, even when the keys are due for a refresh (the refresher
//!   fetches them in the background every `max_age`).
//! - A token with an unknown `kid` asks the refresher for a fetch, at most
//!   once per cool-down (so junk tokens cannot make us hammer the key
//!   server), and waits for it a short while.
//! - A key server that cannot be reached leaves the keys we had in service,
//!   but only for `max_stale` after the last good fetch: then they are no
//!   longer trusted (`keys_unavailable`).
//! - Fetches: see [`crate::auth::jwks_fetch`].

use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::Duration;

use jsonwebtoken::Algorithm;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::auth::error::AuthError;
use crate::auth::jwks_fetch::{JwksKey, KeySet, fetch_keys};

/// The longest a request with an unknown `kid` waits for a fetch.
const WAIT_FOR_FETCH: Duration = Duration::from_secs(2);

/// How long keys are used and trusted.
#[derive(Debug, Clone, Copy)]
pub(super) struct Freshness {
    /// Least time between two fetches asked for by unknown `kid`s.
    pub(super) refetch_cooldown: Duration,
    /// How often the keys are fetched again in the background.
    pub(super) max_age: Duration,
    /// How long after the last good fetch the keys are still trusted.
    pub(super) max_stale: Duration,
}

#[derive(Default)]
struct Cache {
    keys: KeySet,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

struct Shared {
    url: String,
    http: reqwest::Client,
    freshness: Freshness,
    cache: RwLock<Cache>,
    /// Asks the refresher for a fetch now.
    wake: Arc<Notify>,
    /// Counts the refresher's fetches (good or not), for waiters.
    attempts: watch::Sender<u64>,
}

/// One JWKS URL's keys.
pub(super) struct Jwks {
    shared: Arc<Shared>,
    refresher: OnceLock<()>,
}

impl Jwks {
    pub(super) fn new(
        url: String,
        timeout: Duration,
        freshness: Freshness,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("todo-mcp/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            shared: Arc::new(Shared {
                url,
                http,
                freshness,
                cache: RwLock::new(Cache::default()),
                wake: Arc::new(Notify::new()),
                attempts: watch::Sender::new(0),
            }),
            refresher: OnceLock::new(),
        })
    }

    /// The key for `kid` (or the only key for `alg` when the token has no
    /// `kid`).
    pub(super) async fn key(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<JwksKey>, AuthError> {
        // Started on first use, inside the runtime; it ends with `self`.
        self.refresher
            .get_or_init(|| spawn_refresher(Arc::downgrade(&self.shared)));
        let mut attempts = self.shared.attempts.subscribe();
        match self.shared.lookup(kid, alg) {
            Lookup::Found(key) => return Ok(key),
            Lookup::Stale => return Err(AuthError::KeysUnavailable),
            Lookup::Unknown { may_fetch: false } => return Err(AuthError::UnknownKey),
            Lookup::Unknown { may_fetch: true } | Lookup::NeverFetched => {}
        }
        self.shared.wake.notify_one();
        let _ = tokio::time::timeout(WAIT_FOR_FETCH, attempts.changed()).await;
        match self.shared.lookup(kid, alg) {
            Lookup::Found(key) => Ok(key),
            Lookup::Unknown { .. } => Err(AuthError::UnknownKey),
            Lookup::Stale | Lookup::NeverFetched => Err(AuthError::KeysUnavailable),
        }
    }
}

enum Lookup {
    Found(Arc<JwksKey>),
    /// Not among trusted keys; a fetch may be asked for (cool-down passed).
    Unknown {
        may_fetch: bool,
    },
    NeverFetched,
    /// The last good fetch is older than `max_stale`.
    Stale,
}

impl Shared {
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let Ok(cache) = self.cache.read() else {
            return Lookup::NeverFetched;
        };
        let Some(fetched_at) = cache.fetched_at else {
            return Lookup::NeverFetched;
        };
        if fetched_at.elapsed() > self.freshness.max_stale {
            return Lookup::Stale;
        }
        match cache.keys.find(kid, alg) {
            Some(key) => Lookup::Found(key),
            None => Lookup::Unknown {
                may_fetch: !self.cooling_down(&cache),
            },
        }
    }

    fn cooling_down(&self, cache: &Cache) -> bool {
        cache
            .last_attempt
            .is_some_and(|at| at.elapsed() < self.freshness.refetch_cooldown)
    }

    /// When the refresher should fetch next, unless asked sooner.
    fn next_due(&self) -> Instant {
        let Ok(cache) = self.cache.read() else {
            return Instant::now();
        };
        let retry = cache
            .last_attempt
            .map_or_else(Instant::now, |at| at + self.freshness.refetch_cooldown);
        match cache.fetched_at {
            Some(at) if at + self.freshness.max_age > retry => at + self.freshness.max_age,
            _ => retry,
        }
    }

    /// One fetch, unless one happened within the cool-down.
    async fn refresh(&self) {
        if self.cache.read().is_ok_and(|c| self.cooling_down(&c)) {
            self.attempts.send_modify(|n| *n += 1);
            return;
        }
        let fetched = fetch_keys(&self.http, &self.url).await;
        if let Ok(mut cache) = self.cache.write() {
            cache.last_attempt = Some(Instant::now());
            match fetched {
                Ok(keys) => {
                    tracing::info!(keys = keys.len(), "fetched signing keys from the JWKS URL");
                    cache.keys = keys;
                    cache.fetched_at = Some(Instant::now());
                }
                // Keep serving with the keys we had (until `max_stale`): a
                // key server outage must not log everybody out at once.
                Err(error) => {
                    tracing::warn!(%error, "cannot fetch the JWKS; keeping the cached keys")
                }
            }
        }
        self.attempts.send_modify(|n| *n += 1);
    }
}

/// The refresher: fetches when asked or when the keys are due, until the
/// keys' owner is dropped.
fn spawn_refresher(shared: Weak<Shared>) {
    tokio::spawn(async move {
        loop {
            // Only the wake-up is held while waiting, not the keys' owner.
            let Some((due, wake)) = shared.upgrade().map(|s| (s.next_due(), s.wake.clone())) else {
                return;
            };
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep_until(due) => {}
            }
            let Some(strong) = shared.upgrade() else {
                return;
            };
            strong.refresh().await;
        }
    });
}
