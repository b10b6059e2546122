//! Mutations for delta-sync runs: after `mutate`, `LastUpdated ge <at>`
//! returns exactly the changed records, apps included.

mod common;

use std::collections::BTreeSet;

use common::{Api, id, small, start};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn last_updated_filter_returns_exactly_the_changed_set() {
    let sim = start(sim::SimConfig {
        apps: 20,
        issues_per_app: 100,
        seed: 11,
        ..small()
    })
    .await;
    let h = sim.handle();
    let api = Api::login(&sim).await;
    let before_total = h.total_issues();
    let before_now = h.now();

    let s = h.mutate(0.02, 5);
    assert!(s.at >= before_now + chrono::Duration::seconds(59));
    let n = s.status_changed + s.fields_updated + s.issues_added;
    assert_eq!(n, s.changed_issue_ids.len());
    let touched = s.status_changed + s.fields_updated;
    assert!((20..=45).contains(&touched), "{s:?}");
    assert_eq!(
        h.total_issues(),
        before_total + s.issues_added - s.issues_removed
    );

    let at = s.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let filter = format!("LastUpdated ge {at}");

    // Apps: exactly the added and updated ones.
    let apps = api.all("Apps", &[("$filter", &filter)], 7).await;
    let got: BTreeSet<String> = apps.iter().map(id).collect();
    let want: BTreeSet<String> = s.changed_app_ids.iter().cloned().collect();
    assert_eq!(got, want);
    for a in &s.added_app_ids {
        assert!(got.contains(a));
    }

    // Issues: walk every app served now; the union is exactly the changed ids.
    let mut changed = BTreeSet::new();
    for app in h.apps() {
        let path = format!("Issues/Application/{}", id(&app));
        for i in api.all(&path, &[("$filter", &filter)], 50).await {
            assert_eq!(
                i["LastUpdated"].as_str().map(|d| d.starts_with(&at[..19])),
                Some(true),
                "{i}"
            );
            changed.insert(id(&i));
        }
        // Counters stay consistent with the issues.
        assert_eq!(
            app["TotalIssues"].as_u64(),
            Some(h.issues(&id(&app)).len() as u64)
        );
    }
    let want: BTreeSet<String> = s.changed_issue_ids.iter().cloned().collect();
    assert_eq!(changed, want);

    // Removed apps are gone, with their issues.
    for a in &s.removed_app_ids {
        assert_eq!(
            api.get(&format!("Issues/Application/{a}"), &[])
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert!(!h.apps().iter().any(|x| &id(x) == a));
    }

    // A second mutation is later still; the first one's changes fall outside.
    let s2 = h.mutate(0.02, 6);
    assert!(s2.at > s.at);
    let at2 = s2.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let apps = api
        .all(
            "Apps",
            &[("$filter", &format!("LastUpdated ge {at2}"))],
            100,
        )
        .await;
    let got: BTreeSet<String> = apps.iter().map(id).collect();
    assert_eq!(got, s2.changed_app_ids.iter().cloned().collect());
    sim.shutdown().await;
}

#[tokio::test]
async fn mutation_kinds_and_determinism() {
    let a = sim::SimHandle::new(sim::SimConfig {
        apps: 30,
        issues_per_app: 200,
        seed: 3,
        ..sim::SimConfig::default()
    });
    let b = sim::SimHandle::new(sim::SimConfig {
        apps: 30,
        issues_per_app: 200,
        seed: 3,
        ..sim::SimConfig::default()
    });
    let mut seen_new_app = false;
    let mut seen_removed = false;
    for round in 0..6 {
        let sa = a.mutate(0.01, round);
        let sb = b.mutate(0.01, round);
        // Same data, same seed: the same changes (only the instant differs).
        assert_eq!(sa.changed_issue_ids, sb.changed_issue_ids);
        assert_eq!(sa.removed_app_ids, sb.removed_app_ids);
        assert!(
            sa.status_changed > 5 && sa.fields_updated > 5 && sa.issues_added > 0,
            "{sa:?}"
        );
        // About 1 % of 6,000 issues: 60 changes, a fifth of them additions.
        assert!(
            (30..=60).contains(&(sa.status_changed + sa.fields_updated)),
            "{sa:?}"
        );
        seen_new_app |= sa.apps_added > 0;
        seen_removed |= sa.apps_removed > 0;
        // Status changes really happened: the changed issues say so.
        let stamped: usize = a
            .apps()
            .iter()
            .flat_map(|app| a.issues(app["Id"].as_str().unwrap_or_default()))
            .filter(|i| {
                i["LastUpdated"]
                    .as_str()
                    .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                    == Some(sa.at.into())
            })
            .count();
        assert_eq!(stamped, sa.changed_issue_ids.len());
    }
    assert!(seen_new_app && seen_removed);
    let new: Vec<Value> = a.apps();
    assert!(new.iter().any(|x| x["NewIssues"].as_u64().unwrap_or(0) > 0));
    assert_eq!(a.mutate(0.0, 1).changed_issue_ids.len(), 0);
}

#[test]
fn reset_data_undoes_every_mutation() {
    let h = sim::SimHandle::new(sim::SimConfig {
        apps: 20,
        issues_per_app: 50,
        seed: 13,
        ..small()
    });
    let (apps, issues) = (h.apps(), h.total_issues());
    let first_app_issues = h.issues(&h.app_ids()[0]);
    for seed in 1..=5 {
        h.mutate_now(0.05, seed);
    }
    assert_ne!(h.apps(), apps, "the mutations changed nothing");
    h.reset_data();
    assert_eq!(h.apps(), apps);
    assert_eq!(h.total_issues(), issues);
    assert_eq!(h.issues(&h.app_ids()[0]), first_app_issues);
}
