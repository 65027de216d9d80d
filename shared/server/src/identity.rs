//! Who a request acts for. Both services make the [`Caller`] once, at their
//! front door, with one [`Authenticator`]; every handler and tool below
//! reads it and passes its [`UserId`] to the domain, whose every query is
//! scoped to it.

use todo_domain::UserId;

use crate::auth::{AuthError, TokenVerifier, bearer_token};

/// The authenticated user of one request (or of a whole stdio session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub UserId);

impl Caller {
    pub fn user(&self) -> &UserId {
        &self.0
    }
}

/// How a front door learns who calls.
#[derive(Debug, Clone)]
pub enum Authenticator {
    /// A bearer token, verified: the caller is its `sub`.
    Tokens(TokenVerifier),
    /// No token is asked for: every caller is this user. For a process that
    /// serves one user (stdio) and for local development (`--no-auth`).
    Fixed(UserId),
}

impl Authenticator {
    /// The caller that a request's `Authorization` header value names.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, AuthError> {
        match self {
            Self::Tokens(verifier) => {
                let token = bearer_token(authorization)?;
                Ok(Caller(verifier.verify(token).await?.user))
            }
            Self::Fixed(user) => Ok(Caller(user.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fixed_authenticator_needs_no_token() {
        let user = UserId::parse("local").expect("user");
        let caller = Authenticator::Fixed(user.clone()).authenticate(None).await;
        assert_eq!(caller, Ok(Caller(user)));
    }
}
