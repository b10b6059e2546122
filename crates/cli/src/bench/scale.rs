//! The data set sizes a benchmark runs at.

use clap::ValueEnum;
use serde::Serialize;

/// How big the simulated tenant and the generated XML reports are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// 10 apps × 100 issues (1k findings), a 10 MB report: a smoke run in seconds.
    Small,
    /// 200 apps × 500 issues (100k findings), a 100 MB report.
    Medium,
    /// 1,000 apps × 1,000 issues (1M findings), 100 MB and 1 GB reports.
    Large,
}

impl Scale {
    /// Applications in the simulated tenant.
    pub fn apps(self) -> usize {
        match self {
            Scale::Small => 10,
            Scale::Medium => 200,
            Scale::Large => 1_000,
        }
    }

    /// Mean issues per application.
    pub fn issues_per_app(self) -> usize {
        match self {
            Scale::Small => 100,
            Scale::Medium => 500,
            Scale::Large => 1_000,
        }
    }

    /// Sizes of the generated XML reports, in MB (10⁶ bytes).
    pub fn xml_megabytes(self) -> &'static [u64] {
        match self {
            Scale::Small => &[10],
            Scale::Medium => &[100],
            Scale::Large => &[100, 1_000],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scale::Small => "small",
            Scale::Medium => "medium",
            Scale::Large => "large",
        }
    }
}
