//! The caller's identity.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Longest user id we accept (Better Auth ids are 32 characters; OIDC `sub`
/// values are at most 255 by the spec).
pub const MAX_USER_ID_CHARS: usize = 255;

/// A validated user id: 1 to 255 characters, no control characters, no
/// leading or trailing white space. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserId(Arc<str>);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self> {
        let chars = raw.chars().count();
        if chars == 0 || chars > MAX_USER_ID_CHARS {
            return Err(Error::invalid(
                "user",
                format!("user id must be 1 to {MAX_USER_ID_CHARS} characters"),
            ));
        }
        if raw.trim() != raw {
            return Err(Error::invalid(
                "user",
                "user id must not start or end with white space",
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(Error::invalid(
                "user",
                "user id must not contain control characters",
            ));
        }
        Ok(Self(Arc::from(raw)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({:?})", &*self.0)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_are_accepted() {
        for id in ["local", "u_123", "JrN4Qn2bX0hS1kYw", "alice@example.com"] {
            assert_eq!(
                UserId::parse(id).map(|u| u.to_string()).ok(),
                Some(id.into())
            );
        }
    }

    #[test]
    fn empty_padded_or_control_ids_are_rejected() {
        for id in ["", " alice", "alice ", "al\u{0}ice", "al\nice"] {
            assert!(UserId::parse(id).is_err(), "{id:?} was accepted");
        }
    }

    #[test]
    fn id_longer_than_255_chars_is_rejected() {
        assert!(UserId::parse(&"a".repeat(255)).is_ok());
        assert!(UserId::parse(&"a".repeat(256)).is_err());
    }
}
