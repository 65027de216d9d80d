//! Verifying bearer tokens (JWTs).
//!
//! Rules, all enforced here:
//! - The algorithm comes from the key, never from the token: HS256 tokens
//!   are checked only with the configured shared secret, asymmetric tokens
//!   (EdDSA, RS256, ES256) only with a JWKS key whose type and declared `alg`
//!   match the header. `alg: none` and every other algorithm are refused.
//! - `exp` and `sub` are required; `aud` and `iss` are checked when
//!   configured; `nbf` is honoured when present. Each key source can be
//!   bound to its issuer: HS256 tokens may then carry no `iss` or one of
//!   [`VerifierConfig::hs256_issuers`], never the JWKS source's. A mismatch
//!   is logged with what was expected and what came (escaped, shortened).
//! - JWKS keys are cached and refreshed in the background
//!   ([`crate::auth::jwks`]), fetched only over https or from loopback
//!   ([`crate::auth::jwks_fetch`]).
//!
//! Nothing here logs or returns the token; [`AuthError::reason`] is a short
//! fixed string suitable for logs and metrics.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use todo_domain::{UserId, Zone};

use crate::auth::error::AuthError;
use crate::auth::jwks::{Freshness, Jwks};
use crate::auth::jwks_fetch::check_jwks_url;
use crate::client_text::client_text;
use crate::secret::Secret;

/// How tokens are verified.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Shared secret for HS256 tokens; HS256 is refused without it.
    pub hs256_secret: Option<Secret>,
    /// Where the public keys for EdDSA/RS256/ES256 tokens are published.
    pub jwks_url: Option<String>,
    /// Required `aud` value, if any.
    pub audience: Option<String>,
    /// Required `iss` value, if any (of HS256 tokens too, unless
    /// `hs256_issuers` is set).
    pub issuer: Option<String>,
    /// When set, HS256 tokens follow their own rule: no `iss`, or one of
    /// these; `issuer` then binds only the JWKS source.
    pub hs256_issuers: Option<Vec<String>>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Minimum time between two JWKS fetches caused by unknown `kid`s.
    pub jwks_refetch_cooldown: Duration,
    /// How often the keys are fetched again (in the background).
    pub jwks_max_age: Duration,
    /// How long after the last good fetch the keys are still trusted while
    /// the key server cannot be reached.
    pub jwks_max_stale: Duration,
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
            hs256_issuers: None,
            leeway: Duration::from_secs(30),
            jwks_refetch_cooldown: Duration::from_secs(30),
            jwks_max_age: Duration::from_secs(3600),
            jwks_max_stale: Duration::from_secs(24 * 3600),
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
    #[error("the JWKS URL is not accepted: {0}")]
    InsecureJwksUrl(String),
    #[error("cannot build the HTTP client for JWKS: {0}")]
    Http(#[from] reqwest::Error),
}

/// What a valid token says.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub user: UserId,
    /// The OpenID Connect `zoneinfo` claim, when it names an IANA zone.
    pub zone: Option<Zone>,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: i64,
}

#[derive(Deserialize)]
struct Claims {
    // Optional here so that a missing claim is reported as such (by the
    // validation's required claims) rather than as a malformed token.
    sub: Option<String>,
    exp: Option<i64>,
    #[serde(default)]
    zoneinfo: Option<serde_json::Value>,
    #[serde(default)]
    iss: Option<serde_json::Value>,
    #[serde(default)]
    aud: Option<serde_json::Value>,
}

/// What `iss` a token may carry.
enum IssuerRule<'a> {
    Any,
    Exactly(&'a str),
    NoneOrOneOf(&'a [String]),
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

struct Inner {
    config: VerifierConfig,
    hs256: Option<DecodingKey>,
    jwks: Option<Jwks>,
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
        let jwks = match &config.jwks_url {
            Some(url) => {
                check_jwks_url(url).map_err(VerifierConfigError::InsecureJwksUrl)?;
                let freshness = Freshness {
                    // Never 0: junk tokens must not make one fetch each.
                    refetch_cooldown: config.jwks_refetch_cooldown.max(Duration::from_secs(1)),
                    max_age: config.jwks_max_age,
                    max_stale: config.jwks_max_stale,
                };
                Some(Jwks::new(url.clone(), config.jwks_timeout, freshness)?)
            }
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                hs256,
                jwks,
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
            let Some(jwks) = &self.inner.jwks else {
                return Err(AuthError::UnsupportedAlgorithm(truncate(&header.alg)));
            };
            let key = jwks.key(header.kid.as_deref(), alg).await?;
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
        // A zone the issuer spells in a way we do not know is not worth
        // refusing the token for: the caller then gets UTC.
        let zone = claims
            .zoneinfo
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .and_then(|name| Zone::parse(name).ok());
        Ok(VerifiedToken {
            user,
            zone,
            expires_at,
        })
    }

    fn decode(&self, token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Claims, AuthError> {
        let config = &self.inner.config;
        let mut validation = Validation::new(alg);
        validation.leeway = config.leeway.as_secs();
        validation.validate_nbf = true;
        // `aud` and `iss` are checked below, to say what came.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(map_jwt_error)?;
        if let Some(expected) = &config.audience {
            let aud = claims
                .aud
                .as_ref()
                .ok_or_else(|| AuthError::MissingClaim("aud".into()))?;
            let matches = match aud {
                serde_json::Value::String(one) => one == expected,
                serde_json::Value::Array(many) => many.iter().any(|a| a.as_str() == Some(expected)),
                _ => false,
            };
            if !matches {
                mismatch("aud", expected, aud);
                return Err(AuthError::WrongAudience);
            }
        }
        let rule = match (&config.hs256_issuers, &config.issuer) {
            (Some(issuers), _) if alg == Algorithm::HS256 => IssuerRule::NoneOrOneOf(issuers),
            (_, Some(issuer)) => IssuerRule::Exactly(issuer),
            (_, None) => IssuerRule::Any,
        };
        let iss = claims.iss.as_ref();
        match (rule, iss) {
            (IssuerRule::Any, _) | (IssuerRule::NoneOrOneOf(_), None) => {}
            (IssuerRule::Exactly(_), None) => return Err(AuthError::MissingClaim("iss".into())),
            (IssuerRule::Exactly(expected), Some(iss)) => {
                if iss.as_str() != Some(expected) {
                    mismatch("iss", expected, iss);
                    return Err(AuthError::WrongIssuer);
                }
            }
            (IssuerRule::NoneOrOneOf(issuers), Some(iss)) => {
                if !issuers.iter().any(|i| iss.as_str() == Some(i)) {
                    mismatch("iss", &format!("none or {}", issuers.join(" or ")), iss);
                    return Err(AuthError::WrongIssuer);
                }
            }
        }
        Ok(claims)
    }
}

/// Log what a claim should have been and what came: the received value is
/// the client's, so shortened and escaped (no forged log lines).
fn mismatch(claim: &'static str, expected: &str, received: &serde_json::Value) {
    let received: String = match received {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    tracing::info!(
        claim,
        expected = ?expected,
        received = %format_args!("\"{}\"", client_text(&received, 80)),
        "token claim does not match"
    );
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
