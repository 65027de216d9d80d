//! Who a request acts for. Both services make the [`Caller`] once, at their
//! front door, with one [`Authenticator`]; every handler and tool below
//! reads it and passes its [`UserId`] to the domain, whose every query is
//! scoped to it.

use todo_domain::{UserId, Zone};

use crate::auth::{AuthError, TokenVerifier, bearer_token};

/// The authenticated user of one request (or of a whole stdio session),
/// and the time zone their "today" is in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caller {
    pub user: UserId,
    /// From `--timezone` on stdio, the token's `zoneinfo` claim over HTTP,
    /// else UTC.
    pub zone: Zone,
}

impl Caller {
    /// `user`, in UTC.
    pub fn new(user: UserId) -> Self {
        Self {
            user,
            zone: Zone::UTC,
        }
    }

    pub fn in_zone(self, zone: Zone) -> Self {
        Self { zone, ..self }
    }

    pub fn user(&self) -> &UserId {
        &self.user
    }

    pub fn zone(&self) -> Zone {
        self.zone
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
                let verified = verifier.verify(token).await?;
                Ok(Caller::new(verified.user).in_zone(verified.zone.unwrap_or_default()))
            }
            Self::Fixed(user) => Ok(Caller::new(user.clone())),
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
        assert_eq!(caller, Ok(Caller::new(user)));
    }
}
