//! Bearer-token (JWT) verification, shared by both services.
//!
//! Rules, all enforced here:
//! - The algorithm comes from the key, never from the token: HS256 tokens
//!   are checked only with the configured shared secret, asymmetric tokens
//!   (EdDSA, RS256, ES256) only with a JWKS key whose type and declared `alg`
//!   match the header. `alg: none` and every other algorithm are refused.
//! - `exp` and `sub` are required; `aud` and `iss` are checked when
//!   configured; `nbf` is honoured when present.
//! - JWKS keys are cached; a token with an unknown `kid` triggers a refetch,
//!   at most once per cool-down, so junk tokens cannot make us hammer the
//!   key server.
//!
//! Nothing here logs or returns the token; [`AuthError::reason`] is a short
//! fixed string suitable for logs and metrics.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use crate::secret::Secret;
use crate::user::UserId;

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("algorithm {0} is not accepted")]
    UnsupportedAlgorithm(String),
    #[error("no key matches the token")]
    UnknownKey,
    #[error("the signature does not verify")]
    InvalidSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token is from another issuer")]
    WrongIssuer,
    #[error("the token lacks a required claim: {0}")]
    MissingClaim(String),
    #[error("the token's subject is not a valid user id")]
    InvalidSubject,
    #[error("the signing keys cannot be fetched")]
    KeysUnavailable,
}

impl AuthError {
    /// A short fixed label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing_token",
            Self::Malformed => "malformed_token",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::UnknownKey => "unknown_key",
            Self::InvalidSignature => "invalid_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongAudience => "wrong_audience",
            Self::WrongIssuer => "wrong_issuer",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidSubject => "invalid_subject",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }
}

/// How tokens are verified.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Shared secret for HS256 tokens; HS256 is refused without it.
    pub hs256_secret: Option<Secret>,
    /// Where the public keys for EdDSA/RS256/ES256 tokens are published.
    pub jwks_url: Option<String>,
    /// Required `aud` value, if any.
    pub audience: Option<String>,
    /// Required `iss` value, if any.
    pub issuer: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Minimum time between two JWKS fetches caused by unknown `kid`s.
    pub jwks_refetch_cooldown: Duration,
    /// How long fetched keys are trusted before being fetched again.
    pub jwks_max_age: Duration,
    /// Timeout for one JWKS fetch.
    pub jwks_timeout: Duration,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            hs256_secret: None,
            jwks_url: None,
            audience: None,
            issuer: None,
            leeway: Duration::from_secs(30),
            jwks_refetch_cooldown: Duration::from_secs(30),
            jwks_max_age: Duration::from_secs(3600),
            jwks_timeout: Duration::from_secs(5),
        }
    }
}

/// Why a verifier cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum VerifierConfigError {
    #[error("no way to verify tokens: configure an HS256 secret, a JWKS URL, or both")]
    NoKeys,
    #[error("the HS256 secret must be at least 32 bytes")]
    WeakSecret,
    #[error("cannot build the HTTP client for JWKS: {0}")]
    Http(#[from] reqwest::Error),
}

/// What a valid token says.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub user: UserId,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: i64,
}

#[derive(Deserialize)]
struct Claims {
    // Optional here so that a missing claim is reported as such (by the
    // validation's required claims) rather than as a malformed token.
    sub: Option<String>,
    exp: Option<i64>,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

struct JwksKey {
    key: DecodingKey,
    alg: Algorithm,
}

#[derive(Default)]
struct JwksCache {
    keys: HashMap<String, Arc<JwksKey>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

struct Inner {
    config: VerifierConfig,
    hs256: Option<DecodingKey>,
    http: reqwest::Client,
    jwks: RwLock<JwksCache>,
    /// Serialises fetches so a burst of unknown `kid`s makes one request.
    fetching: Mutex<()>,
}

/// Verifies bearer tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    pub fn new(config: VerifierConfig) -> Result<Self, VerifierConfigError> {
        let hs256 = match &config.hs256_secret {
            Some(secret) if secret.expose().len() < 32 => {
                return Err(VerifierConfigError::WeakSecret);
            }
            Some(secret) => Some(DecodingKey::from_secret(secret.expose().as_bytes())),
            None => None,
        };
        if hs256.is_none() && config.jwks_url.is_none() {
            return Err(VerifierConfigError::NoKeys);
        }
        let http = reqwest::Client::builder()
            .timeout(config.jwks_timeout)
            .user_agent(concat!("todo-mcp/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                hs256,
                http,
                jwks: RwLock::new(JwksCache::default()),
                fetching: Mutex::new(()),
            }),
        })
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.inner.config
    }

    /// Verify a token (without the `Bearer ` prefix).
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let header = parse_header(token)?;
        let alg = match header.alg.as_str() {
            "HS256" => Algorithm::HS256,
            "EdDSA" => Algorithm::EdDSA,
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            other => return Err(AuthError::UnsupportedAlgorithm(truncate(other))),
        };
        let claims = if alg == Algorithm::HS256 {
            let key = self
                .inner
                .hs256
                .as_ref()
                .ok_or_else(|| AuthError::UnsupportedAlgorithm("HS256".into()))?;
            self.decode(token, key, alg)?
        } else {
            if self.inner.config.jwks_url.is_none() {
                return Err(AuthError::UnsupportedAlgorithm(truncate(&header.alg)));
            }
            let key = self.jwks_key(header.kid.as_deref(), alg).await?;
            if key.alg != alg {
                // The key exists but belongs to another algorithm: the
                // classic confusion attack, or a misconfigured issuer.
                return Err(AuthError::UnsupportedAlgorithm(truncate(&header.alg)));
            }
            self.decode(token, &key.key, alg)?
        };
        let sub = claims
            .sub
            .ok_or_else(|| AuthError::MissingClaim("sub".into()))?;
        let expires_at = claims
            .exp
            .ok_or_else(|| AuthError::MissingClaim("exp".into()))?;
        let user = UserId::parse(&sub).map_err(|_| AuthError::InvalidSubject)?;
        Ok(VerifiedToken { user, expires_at })
    }

    fn decode(&self, token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Claims, AuthError> {
        let config = &self.inner.config;
        let mut validation = Validation::new(alg);
        validation.leeway = config.leeway.as_secs();
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        match &config.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &config.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(map_jwt_error)
    }

    /// The JWKS key for `kid` (or the only key for `alg` when the token has
    /// no `kid`), fetching the key set when it is unknown.
    async fn jwks_key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<JwksKey>, AuthError> {
        let max_age = self.inner.config.jwks_max_age;
        {
            let cache = self.inner.jwks.read().await;
            let fresh = cache.fetched_at.is_some_and(|at| at.elapsed() < max_age);
            if fresh && let Some(key) = find_key(&cache, kid, alg) {
                return Ok(key);
            }
        }
        self.refresh_jwks().await;
        let cache = self.inner.jwks.read().await;
        if cache.fetched_at.is_none() {
            return Err(AuthError::KeysUnavailable);
        }
        find_key(&cache, kid, alg).ok_or(AuthError::UnknownKey)
    }

    /// Fetch the key set unless another fetch happened within the cool-down.
    async fn refresh_jwks(&self) {
        let Some(url) = self.inner.config.jwks_url.as_deref() else {
            return;
        };
        let _fetching = self.inner.fetching.lock().await;
        let cooldown = self.inner.config.jwks_refetch_cooldown;
        if self
            .inner
            .jwks
            .read()
            .await
            .last_attempt
            .is_some_and(|at| at.elapsed() < cooldown)
        {
            return;
        }
        let fetched = self.fetch_jwks(url).await;
        let mut cache = self.inner.jwks.write().await;
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

    async fn fetch_jwks(&self, url: &str) -> Result<HashMap<String, Arc<JwksKey>>, reqwest::Error> {
        let set: JwkSet = self
            .inner
            .http
            .get(url)
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

fn parse_header(token: &str) -> Result<RawHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

fn map_jwt_error(error: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature => AuthError::InvalidSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim.clone()),
        ErrorKind::InvalidAlgorithm | ErrorKind::UnsupportedAlgorithm => {
            AuthError::UnsupportedAlgorithm("mismatch".into())
        }
        _ => AuthError::Malformed,
    }
}

/// The `alg` comes from the client and is echoed into logs and the
/// `WWW-Authenticate` header: keep it short and plain (no quotes, no line
/// breaks, nothing to inject).
fn truncate(value: &str) -> String {
    value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect()
}

/// Why a token cannot be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("the HS256 secret must be at least 32 bytes")]
    WeakSecret,
    #[error("cannot sign the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// An HS256 token for `user`, valid for `ttl` (development and tests; real
/// deployments get their tokens from an identity provider).
pub fn mint_hs256(
    secret: &Secret,
    user: &UserId,
    audience: Option<&str>,
    issuer: Option<&str>,
    ttl: Duration,
) -> Result<String, MintError> {
    if secret.expose().len() < 32 {
        return Err(MintError::WeakSecret);
    }
    let now = chrono::Utc::now().timestamp();
    let mut claims = serde_json::json!({
        "sub": user.as_str(),
        "iat": now,
        "exp": now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
    });
    if let Some(aud) = audience {
        claims["aud"] = aud.into();
    }
    if let Some(iss) = issuer {
        claims["iss"] = iss.into();
    }
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.expose().as_bytes()),
    )?)
}

/// Extract the token from an `Authorization` header value.
pub fn bearer_token(header: Option<&str>) -> Result<&str, AuthError> {
    let value = header.ok_or(AuthError::Missing)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const SECRET: &str = "an-hs256-secret-that-is-long-enough!";

    fn verifier(audience: Option<&str>, issuer: Option<&str>) -> TokenVerifier {
        TokenVerifier::new(VerifierConfig {
            hs256_secret: Some(Secret::new(SECRET)),
            audience: audience.map(Into::into),
            issuer: issuer.map(Into::into),
            ..VerifierConfig::default()
        })
        .expect("valid config")
    }

    fn hs256(claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("token")
    }

    fn in_an_hour() -> i64 {
        chrono::Utc::now().timestamp() + 3600
    }

    #[tokio::test]
    async fn valid_hs256_token_gives_the_subject() {
        let token = hs256(json!({"sub": "alice", "aud": "todo-mcp", "exp": in_an_hour()}));
        let verified = verifier(Some("todo-mcp"), None).verify(&token).await;
        assert_eq!(verified.map(|v| v.user.to_string()), Ok("alice".into()));
    }

    #[tokio::test]
    async fn token_without_exp_is_rejected() {
        let token = hs256(json!({"sub": "alice", "aud": "todo-mcp"}));
        let err = verifier(Some("todo-mcp"), None).verify(&token).await.err();
        assert_eq!(err, Some(AuthError::MissingClaim("exp".into())));
    }

    #[tokio::test]
    async fn expired_token_is_rejected() {
        let token = hs256(json!({"sub": "alice", "aud": "todo-mcp", "exp": 1_000_000}));
        let err = verifier(Some("todo-mcp"), None).verify(&token).await.err();
        assert_eq!(err, Some(AuthError::Expired));
    }

    #[tokio::test]
    async fn wrong_audience_and_issuer_are_rejected() {
        let v = verifier(Some("todo-mcp"), Some("https://auth.example"));
        let wrong_aud = hs256(
            json!({"sub": "a", "aud": "other", "iss": "https://auth.example", "exp": in_an_hour()}),
        );
        let wrong_iss = hs256(
            json!({"sub": "a", "aud": "todo-mcp", "iss": "https://evil.example", "exp": in_an_hour()}),
        );
        assert_eq!(
            v.verify(&wrong_aud).await.err(),
            Some(AuthError::WrongAudience)
        );
        assert_eq!(
            v.verify(&wrong_iss).await.err(),
            Some(AuthError::WrongIssuer)
        );
    }

    #[tokio::test]
    async fn alg_none_is_rejected() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD
            .encode(json!({"sub": "a", "aud": "todo-mcp", "exp": in_an_hour()}).to_string());
        let token = format!("{header}.{claims}.");
        let err = verifier(Some("todo-mcp"), None).verify(&token).await.err();
        assert_eq!(err, Some(AuthError::UnsupportedAlgorithm("none".into())));
    }

    #[tokio::test]
    async fn asymmetric_token_without_jwks_is_rejected() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        let token = format!("{header}.e30.c2ln");
        let err = verifier(None, None).verify(&token).await.err();
        assert_eq!(err, Some(AuthError::UnsupportedAlgorithm("RS256".into())));
    }

    #[tokio::test]
    async fn a_hostile_alg_is_not_echoed_verbatim() {
        let header =
            URL_SAFE_NO_PAD.encode(br#"{"alg":"x\"\r\nSet-Cookie: a=b; and a very long tail"}"#);
        let token = format!("{header}.e30.c2ln");
        let err = verifier(None, None).verify(&token).await.err();
        assert_eq!(
            err,
            Some(AuthError::UnsupportedAlgorithm("xSetCookieabanda".into()))
        );
    }

    #[tokio::test]
    async fn garbage_is_malformed() {
        for token in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.x"] {
            let err = verifier(None, None).verify(token).await.err();
            assert_eq!(err, Some(AuthError::Malformed), "{token:?}");
        }
    }

    #[tokio::test]
    async fn minted_tokens_verify() {
        let user = UserId::parse("minty").expect("user");
        let token = mint_hs256(
            &Secret::new(SECRET),
            &user,
            Some("todo-mcp"),
            None,
            Duration::from_secs(60),
        );
        let verified = verifier(Some("todo-mcp"), None)
            .verify(&token.expect("minted"))
            .await;
        assert_eq!(verified.map(|v| v.user), Ok(user));
    }

    /// A loopback JWKS endpoint that answers every request with `body` and
    /// counts the requests.
    async fn jwks_endpoint(body: &'static str) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        (url, hits)
    }

    fn es256_token(kid: &str) -> String {
        // Never verified: the key lookup fails first, which is what is tested.
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#));
        format!("{header}.e30.c2ln")
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_kids_refetch_the_jwks_at_most_once_per_cooldown() {
        let (url, hits) = jwks_endpoint(r#"{"keys":[]}"#).await;
        let verifier = TokenVerifier::new(VerifierConfig {
            jwks_url: Some(url),
            jwks_refetch_cooldown: Duration::from_secs(30),
            ..VerifierConfig::default()
        })
        .expect("config");
        let fetches = || hits.load(std::sync::atomic::Ordering::SeqCst);
        for n in 0..10 {
            let err = verifier.verify(&es256_token(&format!("k{n}"))).await.err();
            assert_eq!(err, Some(AuthError::UnknownKey));
        }
        assert_eq!(fetches(), 1, "a burst of unknown kids makes one fetch");
        tokio::time::advance(Duration::from_secs(29)).await;
        let _ = verifier.verify(&es256_token("later")).await;
        assert_eq!(fetches(), 1, "still cooling down");
        tokio::time::advance(Duration::from_secs(2)).await;
        let _ = verifier.verify(&es256_token("later")).await;
        assert_eq!(fetches(), 2, "one more fetch after the cool-down");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unreachable_jwks_means_keys_unavailable() {
        let verifier = TokenVerifier::new(VerifierConfig {
            jwks_url: Some("http://127.0.0.1:9/jwks".into()),
            ..VerifierConfig::default()
        })
        .expect("config");
        let err = verifier.verify(&es256_token("k")).await.err();
        assert_eq!(err, Some(AuthError::KeysUnavailable));
    }

    #[test]
    fn short_secret_is_refused() {
        let err = TokenVerifier::new(VerifierConfig {
            hs256_secret: Some(Secret::new("short")),
            ..VerifierConfig::default()
        });
        assert!(matches!(err, Err(VerifierConfigError::WeakSecret)));
    }

    #[test]
    fn bearer_header_is_parsed_strictly() {
        assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(None), Err(AuthError::Missing));
        assert_eq!(bearer_token(Some("Basic abc")), Err(AuthError::Missing));
        assert_eq!(bearer_token(Some("Bearer ")), Err(AuthError::Missing));
        assert_eq!(bearer_token(Some("Bearer")), Err(AuthError::Malformed));
    }
}
