//! Minting tokens: the gateway's short-lived tokens for the task server,
//! and development tokens.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use todo_domain::{UserId, Zone};

use crate::secret::Secret;

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
    mint_hs256_in_zone(secret, user, audience, issuer, None, ttl)
}

/// [`mint_hs256`] with the user's time zone as the OpenID Connect
/// `zoneinfo` claim (what the gateway's tokens for the task server carry).
pub fn mint_hs256_in_zone(
    secret: &Secret,
    user: &UserId,
    audience: Option<&str>,
    issuer: Option<&str>,
    zone: Option<Zone>,
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
    if let Some(zone) = zone {
        claims["zoneinfo"] = zone.name().into();
    }
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.expose().as_bytes()),
    )?)
}
