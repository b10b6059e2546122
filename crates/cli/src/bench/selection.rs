//! Which scenarios a run measures (`--scenarios`), and the name its report files get: a
//! subset never writes over the full table (`bench-<scale>.md`) that `--out`'s default,
//! the committed `bench/results`, holds.

use crate::args::BenchScenario;
use clap::ValueEnum;

/// The scenarios of one run, in the benchmark's order, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    on: Vec<BenchScenario>,
}

impl Selection {
    /// What `--scenarios` asked for; none means all.
    pub fn of(wanted: &[BenchScenario]) -> Selection {
        let on = BenchScenario::value_variants()
            .iter()
            .copied()
            .filter(|s| wanted.is_empty() || wanted.contains(s))
            .collect();
        Selection { on }
    }

    pub fn has(&self, s: BenchScenario) -> bool {
        self.on.contains(&s)
    }

    /// Fewer than every scenario.
    pub fn is_subset(&self) -> bool {
        self.on.len() < BenchScenario::value_variants().len()
    }

    /// The scenarios' names as `--scenarios` spells them.
    pub fn names(&self) -> Vec<String> {
        self.on.iter().map(|s| name(*s)).collect()
    }

    /// `bench-<scale>` for every scenario, `bench-<scale>-<a>,<b>` for a subset.
    pub fn file_stem(&self, scale: &str) -> String {
        if self.is_subset() {
            format!("bench-{scale}-{}", self.names().join(","))
        } else {
            format!("bench-{scale}")
        }
    }

    /// "every scenario (sync, xml, …)" or "only export, query (of sync, xml, …)", for the
    /// table's header.
    pub fn describe(&self) -> String {
        let all: Vec<String> = BenchScenario::value_variants()
            .iter()
            .map(|s| name(*s))
            .collect();
        if self.is_subset() {
            format!("only {} (of {})", self.names().join(", "), all.join(", "))
        } else {
            format!("all ({})", all.join(", "))
        }
    }
}

fn name(s: BenchScenario) -> String {
    s.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_else(|| format!("{s:?}").to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use BenchScenario::*;

    #[test]
    fn every_scenario_writes_the_full_table_s_name() {
        let all = Selection::of(&[]);
        assert!(!all.is_subset());
        assert_eq!(all.file_stem("large"), "bench-large");
        let listed = Selection::of(&[Peers, Query, Export, Xml, Sync]);
        assert_eq!(listed, all);
        assert_eq!(all.describe(), "all (sync, xml, export, query, peers)");
    }

    #[test]
    fn a_subset_says_which_in_its_name_in_one_order() {
        let some = Selection::of(&[Query, Export, Query]);
        assert!(some.is_subset());
        assert!(some.has(Export) && !some.has(Sync));
        assert_eq!(some.file_stem("large"), "bench-large-export,query");
        assert_eq!(
            some.describe(),
            "only export, query (of sync, xml, export, query, peers)"
        );
    }
}
