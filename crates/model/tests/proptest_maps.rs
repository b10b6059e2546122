//! Property tests for severities, statuses and the severity/status maps: names and scores
//! round-trip, lookups ignore case and surrounding spaces, a map survives `to_toml` →
//! `from_toml`, and a map whose keys collide ignoring case is refused (found by these
//! tests: the lookup used to pick one of the colliding keys silently).

use model::{Map, Severity, Status};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(Severity::ALL.to_vec())
}

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

/// `text` with each ASCII letter's case chosen by `flips`, and spaces around it.
fn recase(text: &str, flips: &[bool], pad: (usize, usize)) -> String {
    let body: String = text
        .chars()
        .zip(flips.iter().cycle())
        .map(|(c, up)| {
            if *up {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    format!("{}{body}{}", " ".repeat(pad.0), "\t".repeat(pad.1))
}

fn flips() -> impl Strategy<Value = Vec<bool>> {
    prop::collection::vec(any::<bool>(), 1..8)
}

fn pad() -> impl Strategy<Value = (usize, usize)> {
    (0usize..3, 0usize..2)
}

/// Source keys, distinct ignoring case and spaces, with a value each.
fn entries<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Vec<(String, T)>> {
    prop::collection::btree_map("[A-Za-z][A-Za-z0-9 _.-]{0,10}[A-Za-z0-9]", value, 0..8).prop_map(
        |m| {
            let mut seen = BTreeMap::new();
            m.into_iter()
                .filter(|(k, _)| seen.insert(k.to_ascii_lowercase(), ()).is_none())
                .collect()
        },
    )
}

fn toml_key(k: &str) -> String {
    format!("\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The default map's field rules with the given status and severity tables.
fn map_text(status: &[(String, Status)], severity: &[(String, Severity)]) -> String {
    let mut base = Map::default_map();
    base.status.clear();
    base.severity.clear();
    let mut text = base.to_toml();
    // `to_toml` writes empty `[status]` / `[severity]` tables; drop them and write ours.
    text = text
        .lines()
        .filter(|l| l.trim() != "[status]" && l.trim() != "[severity]")
        .collect::<Vec<_>>()
        .join("\n");
    text.push_str("\n[status]\n");
    for (k, v) in status {
        text.push_str(&format!("{} = \"{}\"\n", toml_key(k), v.as_str()));
    }
    text.push_str("\n[severity]\n");
    for (k, v) in severity {
        text.push_str(&format!("{} = \"{}\"\n", toml_key(k), v.as_str()));
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn severity_names_and_scores_round_trip(s in severity(), f in flips(), p in pad()) {
        prop_assert_eq!(Severity::from_score(i64::from(s.score())), Some(s));
        prop_assert_eq!(recase(s.as_str(), &f, p).parse::<Severity>(), Ok(s));
        prop_assert_eq!(s.to_string().parse::<Severity>(), Ok(s));
    }

    #[test]
    fn severity_order_follows_the_score(a in severity(), b in severity()) {
        prop_assert_eq!(a.cmp(&b), a.score().cmp(&b.score()));
        prop_assert!(a.kdi_score() <= 10);
        prop_assert_eq!(a <= b, a.kdi_score() <= b.kdi_score());
    }

    #[test]
    fn status_names_round_trip(s in status(), f in flips(), p in pad()) {
        prop_assert_eq!(recase(s.as_str(), &f, p).parse::<Status>(), Ok(s));
    }

    #[test]
    fn unknown_names_are_errors_not_guesses(text in "[a-z]{1,12}") {
        let known_sev = ["informational", "info", "information", "low", "medium", "high", "critical"];
        prop_assert_eq!(text.parse::<Severity>().is_ok(), known_sev.contains(&text.as_str()));
        let known_status = Status::ALL.iter().any(|s| s.as_str().eq_ignore_ascii_case(&text));
        prop_assert_eq!(text.parse::<Status>().is_ok(), known_status);
    }

    #[test]
    fn map_lookups_ignore_case_and_spaces_and_survive_a_round_trip(
        st in entries(status()),
        sev in entries(severity()),
        f in flips(),
        p in pad(),
    ) {
        // A map without a severity (and no fallback) is refused: every record failed.
        prop_assume!(!sev.is_empty());
        let text = map_text(&st, &sev);
        let map = Map::from_toml(&text, "gen.toml").map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        for (k, v) in &st {
            prop_assert_eq!(map.status_of(&recase(k, &f, p)), Some(*v), "status key {:?}", k);
        }
        for (k, v) in &sev {
            prop_assert_eq!(map.severity_of(&recase(k, &f, p)), Some(*v), "severity key {:?}", k);
        }
        prop_assert_eq!(map.status_of("no such status \u{1}"), None);
        prop_assert_eq!(map.severity_of("no such severity \u{1}"), None);
        let again = Map::from_toml(&map.to_toml(), "again.toml").map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again, map);
    }

    #[test]
    fn keys_that_collide_ignoring_case_are_refused(
        key in "[A-Za-z][A-Za-z0-9]{0,8}",
        f in flips(),
        a in status(),
        b in status(),
    ) {
        let other = recase(&key, &f, (0, 0));
        prop_assume!(other != key);
        let text = map_text(&[(key.clone(), a), (other.clone(), b)], &[]);
        let err = Map::from_toml(&text, "dup.toml").expect_err("colliding keys must be refused");
        prop_assert!(err.to_string().contains("keys match ignoring case"), "{}", err);
    }
}
