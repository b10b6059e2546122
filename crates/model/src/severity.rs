//! Normalized severity: five levels with the two numeric scales the product uses.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A normalized severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The 1–5 scale of the normalized model (Informational 1 … Critical 5).
    pub fn score(self) -> u8 {
        self as u8 + 1
    }

    /// The Cisco/Kenna 0–10 scale used by the KDI export.
    pub fn kdi_score(self) -> u8 {
        match self {
            Severity::Informational => 0,
            Severity::Low => 3,
            Severity::Medium => 6,
            Severity::High => 9,
            Severity::Critical => 10,
        }
    }

    /// Inverse of [`Severity::score`].
    pub fn from_score(score: i64) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| i64::from(s.score()) == score)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a normalized severity name, case-insensitively (`info` is accepted too).
impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" | "information" => Ok(Severity::Informational),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!("unknown severity '{other}'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales() {
        assert_eq!(Severity::Informational.score(), 1);
        assert_eq!(Severity::Critical.score(), 5);
        assert_eq!(Severity::High.kdi_score(), 9);
        assert_eq!(Severity::from_score(3), Some(Severity::Medium));
        assert!(Severity::Low < Severity::High);
        assert_eq!("INFO".parse::<Severity>(), Ok(Severity::Informational));
        assert!("severe".parse::<Severity>().is_err());
    }
}
