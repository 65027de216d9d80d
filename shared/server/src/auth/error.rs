//! Why a request is not authenticated.

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
