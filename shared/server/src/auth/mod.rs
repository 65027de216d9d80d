//! Bearer tokens: verifying them ([`verifier`], with keys from a JWKS URL in
//! [`jwks`]), reading them from a header ([`bearer`]), minting them
//! ([`mint`]), and why one is refused ([`error`]).

pub mod bearer;
pub mod error;
mod jwks;
mod jwks_fetch;
pub mod mint;
pub mod verifier;

#[cfg(test)]
mod jwks_tests;
#[cfg(test)]
mod tests;

pub use bearer::bearer_token;
pub use error::AuthError;
pub use mint::{MintError, mint_hs256, mint_hs256_in_zone};
pub use verifier::{TokenVerifier, VerifiedToken, VerifierConfig, VerifierConfigError};
