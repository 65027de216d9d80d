//! Fetching a JWKS: only from an https URL (or http on loopback), without
//! following redirects, reading at most [`MAX_JWKS_BYTES`]; and which keys
//! of the set are usable, for which one algorithm each.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

/// A key of the set, with the one algorithm it may verify.
pub(super) struct JwksKey {
    pub(super) key: DecodingKey,
    pub(super) alg: Algorithm,
}

/// The usable keys of one fetch: by `kid`, and those without one (kept
/// apart: several of them must not overwrite each other).
#[derive(Default)]
pub(super) struct KeySet {
    pub(super) by_kid: HashMap<String, Arc<JwksKey>>,
    pub(super) without_kid: Vec<Arc<JwksKey>>,
}

impl KeySet {
    pub(super) fn len(&self) -> usize {
        self.by_kid.len() + self.without_kid.len()
    }

    /// The key for `kid`, or without a `kid` the only key for `alg`.
    pub(super) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<JwksKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned(),
            None => {
                let mut candidates = self
                    .by_kid
                    .values()
                    .chain(&self.without_kid)
                    .filter(|k| k.alg == alg);
                match (candidates.next(), candidates.next()) {
                    (Some(key), None) => Some(key.clone()),
                    _ => None,
                }
            }
        }
    }
}

/// A key set larger than this is refused (real ones are a few KiB).
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Is `url` one keys may be fetched from: https, or http to a loopback
/// host (a key server on the same machine)? Err says why not.
pub fn check_jwks_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err("plain http is only accepted to a loopback host: use https".into())
            }
        }
        other => Err(format!("the scheme {other} is not http(s)")),
    }
}

/// The key set at `url`, or why it cannot be had.
pub(super) async fn fetch_keys(http: &reqwest::Client, url: &str) -> Result<KeySet, String> {
    let mut response = http.get(url).send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    if !status.is_success() {
        // Redirects included: they are not followed.
        return Err(format!("the key server answered {status}"));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
    {
        return Err(format!("the key set is over {MAX_JWKS_BYTES} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(format!("the key set is over {MAX_JWKS_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    let set: JwkSet = serde_json::from_slice(&body).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = KeySet::default();
    for jwk in &set.keys {
        let Some(alg) = key_algorithm(jwk) else {
            continue;
        };
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            tracing::warn!(kid = ?jwk.common.key_id, "skipping a JWKS key that cannot be parsed");
            continue;
        };
        let key = Arc::new(JwksKey { key, alg });
        match &jwk.common.key_id {
            Some(kid) => {
                keys.by_kid.insert(kid.clone(), key);
            }
            None => keys.without_kid.push(key),
        }
    }
    Ok(keys)
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

#[cfg(test)]
mod tests {
    use super::check_jwks_url;

    #[test]
    fn keys_come_over_https_or_from_this_machine() {
        assert!(check_jwks_url("https://idp.example/jwks").is_ok());
        assert!(check_jwks_url("http://127.0.0.1:9000/jwks").is_ok());
        assert!(check_jwks_url("http://localhost/jwks").is_ok());
        assert!(check_jwks_url("http://[::1]:9/jwks").is_ok());
        assert!(check_jwks_url("http://idp.example/jwks").is_err());
        assert!(check_jwks_url("http://127.0.0.1.evil.example/jwks").is_err());
        assert!(check_jwks_url("file:///etc/keys").is_err());
        assert!(check_jwks_url("not a url").is_err());
    }
}
