//! The public keys of a JWKS URL, fetched and cached.
//!
//! A token with an unknown `kid` triggers a refetch, at most once per
//! cool-down, so junk tokens cannot make us hammer the key server; a key
//! server that cannot be reached leaves the keys we had in service.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use crate::auth::error::AuthError;

/// A key of the set, with the one algorithm it may verify.
pub(super) struct JwksKey {
    pub(super) key: DecodingKey,
    pub(super) alg: Algorithm,
}

#[derive(Default)]
struct JwksCache {
    keys: HashMap<String, Arc<JwksKey>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

/// One JWKS URL's keys.
pub(super) struct Jwks {
    url: String,
    http: reqwest::Client,
    /// Minimum time between two fetches caused by unknown `kid`s.
    refetch_cooldown: Duration,
    /// How long fetched keys are trusted before being fetched again.
    max_age: Duration,
    cache: RwLock<JwksCache>,
    /// Serialises fetches so a burst of unknown `kid`s makes one request.
    fetching: Mutex<()>,
}

impl Jwks {
    pub(super) fn new(
        url: String,
        timeout: Duration,
        refetch_cooldown: Duration,
        max_age: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("todo-mcp/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            url,
            http,
            refetch_cooldown,
            max_age,
            cache: RwLock::new(JwksCache::default()),
            fetching: Mutex::new(()),
        })
    }

    /// The key for `kid` (or the only key for `alg` when the token has no
    /// `kid`), fetching the key set when it is unknown.
    pub(super) async fn key(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<JwksKey>, AuthError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache
                .fetched_at
                .is_some_and(|at| at.elapsed() < self.max_age);
            if fresh && let Some(key) = find_key(&cache, kid, alg) {
                return Ok(key);
            }
        }
        self.refresh().await;
        let cache = self.cache.read().await;
        if cache.fetched_at.is_none() {
            return Err(AuthError::KeysUnavailable);
        }
        find_key(&cache, kid, alg).ok_or(AuthError::UnknownKey)
    }

    /// Fetch the key set unless another fetch happened within the cool-down.
    async fn refresh(&self) {
        let _fetching = self.fetching.lock().await;
        if self
            .cache
            .read()
            .await
            .last_attempt
            .is_some_and(|at| at.elapsed() < self.refetch_cooldown)
        {
            return;
        }
        let fetched = self.fetch().await;
        let mut cache = self.cache.write().await;
        cache.last_attempt = Some(Instant::now());
        match fetched {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "fetched signing keys from the JWKS URL");
                cache.keys = keys;
                cache.fetched_at = Some(Instant::now());
            }
            Err(error) => {
                // Keep serving with the keys we had: a key server outage must
                // not log everybody out.
                tracing::warn!(%error, "cannot fetch the JWKS; keeping the cached keys");
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<JwksKey>>, reqwest::Error> {
        let set: JwkSet = self
            .http
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(alg) = key_algorithm(jwk) else {
                continue;
            };
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                tracing::warn!(kid = ?jwk.common.key_id, "skipping a JWKS key that cannot be parsed");
                continue;
            };
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            keys.insert(kid, Arc::new(JwksKey { key, alg }));
        }
        Ok(keys)
    }
}

/// The one algorithm a JWK may verify: its declared `alg`, or the only
/// accepted algorithm for its key type and curve. Keys for anything else
/// (HMAC keys in a JWKS, encryption keys, other curves) are ignored.
fn key_algorithm(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| !matches!(u, jsonwebtoken::jwk::PublicKeyUse::Signature))
    {
        return None;
    }
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        _ => return None,
    };
    let declared = match jwk.common.key_algorithm {
        None => return Some(by_type),
        Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
        Some(KeyAlgorithm::ES256) => Algorithm::ES256,
        Some(KeyAlgorithm::RS256) => Algorithm::RS256,
        Some(_) => return None,
    };
    (declared == by_type).then_some(by_type)
}

fn find_key(cache: &JwksCache, kid: Option<&str>, alg: Algorithm) -> Option<Arc<JwksKey>> {
    match kid {
        Some(kid) => cache.keys.get(kid).cloned(),
        None => {
            // Without a kid, accept only an unambiguous key.
            let mut candidates = cache.keys.values().filter(|k| k.alg == alg);
            match (candidates.next(), candidates.next()) {
                (Some(key), None) => Some(key.clone()),
                _ => None,
            }
        }
    }
}
