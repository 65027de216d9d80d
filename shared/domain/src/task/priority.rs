//! How urgent a task is: none, low, medium or high. Stored as 0 to 3 so that
//! "highest first" and "at least medium" are plain comparisons.

use crate::error::{Error, Result};
use crate::zone::shorten;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Priority {
    #[default]
    None,
    Low,
    Medium,
    High,
}

impl Priority {
    pub const NAMES: [&'static str; 4] = ["none", "low", "medium", "high"];

    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            _ => Err(Error::invalid(
                field,
                format!(
                    "{field} must be \"none\", \"low\", \"medium\" or \"high\", got {:?}",
                    shorten(raw)
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self.rank() as usize]
    }

    /// 0 (none) to 3 (high), as stored.
    pub fn rank(self) -> i32 {
        match self {
            Self::None => 0,
            Self::Low => 1,
            Self::Medium => 2,
            Self::High => 3,
        }
    }

    pub(crate) fn from_rank(rank: i32) -> Self {
        match rank {
            i32::MIN..=0 => Self::None,
            1 => Self::Low,
            2 => Self::Medium,
            _ => Self::High,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_round_trip_and_order() {
        for name in Priority::NAMES {
            let p = Priority::parse("priority", name).ok();
            assert_eq!(p.map(Priority::as_str), Some(name));
            assert_eq!(p.map(|p| Priority::from_rank(p.rank())), p);
        }
        assert!(Priority::High > Priority::Medium && Priority::Low > Priority::None);
        let message = Priority::parse("priority", "urgent")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("priority must be \"none\", \"low\", \"medium\" or \"high\", got \"urgent\"")
        );
    }
}
