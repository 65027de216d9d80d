//! Page sizes: every listing (tasks, conversations, messages) hands out at
//! most [`MAX_PAGE_SIZE`] items at a time, [`DEFAULT_PAGE_SIZE`] unless asked.

use crate::error::{Error, Result};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

/// A page size: 1 to [`MAX_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    pub fn parse(raw: i64) -> Result<Self> {
        match u32::try_from(raw) {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(Self(n)),
            _ => Err(Error::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_PAGE_SIZE}, got {raw}"),
            )),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(DEFAULT_PAGE_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_must_be_between_1_and_200() {
        assert_eq!(Limit::default().get(), 50);
        assert!(Limit::parse(1).is_ok() && Limit::parse(200).is_ok());
        for raw in [0, -5, 201, i64::MAX] {
            assert!(Limit::parse(raw).is_err());
        }
    }
}
