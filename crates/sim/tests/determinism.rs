//! Same seed, same data; the served data matches the handle's view; the
//! default size spreads issues realistically; a million issues are servable.

mod common;

use std::time::Instant;

use common::{Api, id, start};
use sim::{SimConfig, SimHandle};

#[test]
fn same_seed_same_data() {
    let cfg = SimConfig {
        apps: 15,
        issues_per_app: 40,
        seed: 99,
        ..SimConfig::default()
    };
    let a = SimHandle::new(cfg.clone());
    let b = SimHandle::new(cfg.clone());
    let c = SimHandle::new(SimConfig { seed: 100, ..cfg });
    assert_eq!(a.apps(), b.apps());
    for app in a.apps() {
        assert_eq!(a.issues(&id(&app)), b.issues(&id(&app)));
    }
    assert_ne!(a.apps(), c.apps());
    assert_eq!(a.total_issues(), 600);
}

#[test]
fn default_config_spreads_issues_realistically() {
    let cfg = SimConfig::default();
    assert_eq!(
        (cfg.apps, cfg.issues_per_app, cfg.seed, cfg.max_page_size),
        (50, 400, 42, 5000)
    );
    assert_eq!(cfg.token_ttl.as_secs(), 1800);
    assert_eq!(cfg.rate_limit_per_minute, None);
    let h = SimHandle::new(cfg);
    assert_eq!(h.total_issues(), 20_000);
    let counts: Vec<u64> = h
        .apps()
        .iter()
        .map(|a| a["TotalIssues"].as_u64().unwrap_or(0))
        .collect();
    assert!(counts.contains(&0), "{counts:?}");
    assert!(
        counts.iter().filter(|&&n| (200..=700).contains(&n)).count() >= 35,
        "{counts:?}"
    );
    let issues: Vec<serde_json::Value> = h.apps().iter().flat_map(|a| h.issues(&id(a))).collect();
    let share = |sev: &str| {
        issues.iter().filter(|i| i["Severity"] == sev).count() as f64 / issues.len() as f64
    };
    assert!(share("Critical") > 0.01 && share("Critical") < 0.15);
    assert!(share("Informational") > 0.1);
    assert!(issues.iter().any(|i| i["Cve"] == "CVE-2021-44228"));
    assert!(h.apps().iter().any(|a| a["Url"].is_null()));
}

/// The default data set serves, at a small share, each value the spec allows and the
/// common case rarely shows: `CvssVersion` Cvss20 and Cvss30 beside Cvss31, a null `Cwe`,
/// `Severity` Undetermined — and still exactly its 20,000 issues.
#[test]
fn default_data_serves_the_rarer_documented_variants() {
    let h = SimHandle::new(SimConfig::default());
    let issues: Vec<serde_json::Value> = h.apps().iter().flat_map(|a| h.issues(&id(a))).collect();
    assert_eq!(issues.len(), 20_000);
    let share = |pred: &dyn Fn(&serde_json::Value) -> bool| {
        issues.iter().filter(|i| pred(i)).count() as f64 / issues.len() as f64
    };
    let version = |v: &'static str| move |i: &serde_json::Value| i["CvssVersion"] == v;
    let (v20, v30, v31) = (
        share(&version("Cvss20")),
        share(&version("Cvss30")),
        share(&version("Cvss31")),
    );
    assert!((0.005..0.05).contains(&v20), "Cvss20 {v20}");
    assert!((0.02..0.1).contains(&v30), "Cvss30 {v30}");
    assert!(v31 > 0.3, "Cvss31 {v31}");
    let no_cwe = share(&|i| i["Cwe"].is_null());
    assert!((0.005..0.05).contains(&no_cwe), "null Cwe {no_cwe}");
    let undetermined = share(&|i| i["Severity"] == "Undetermined");
    assert!(
        (0.002..0.03).contains(&undetermined),
        "Undetermined {undetermined}"
    );
    for i in &issues {
        if i["Severity"] == "Undetermined" {
            assert_eq!(i["SeverityValue"], -1, "{i}");
            assert!(i["Cvss"].is_null(), "{i}");
        }
        assert_eq!(i["CvssVersion"] == "None", i["Cvss"].is_null(), "{i}");
    }
}

#[tokio::test]
async fn served_data_matches_the_handle_across_restarts() {
    let cfg = SimConfig {
        apps: 6,
        issues_per_app: 30,
        seed: 5,
        ..SimConfig::default()
    };
    let one = start(cfg.clone()).await;
    let api = Api::login(&one).await;
    let served = api.all("Apps", &[], 100).await;
    one.shutdown().await;
    let two = start(cfg).await;
    assert_eq!(served, two.handle().apps());
    two.shutdown().await;
}

/// 1,000 apps × 1,000 issues: generation and a full page stay quick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_issues_are_servable() {
    let t = Instant::now();
    let sim = start(SimConfig {
        apps: 1000,
        issues_per_app: 1000,
        ..SimConfig::default()
    })
    .await;
    let built = t.elapsed();
    assert_eq!(sim.handle().total_issues(), 1_000_000);
    let api = Api::login(&sim).await;
    let (app, total) = common::biggest_app(&sim);
    let t = Instant::now();
    let items = api
        .items(&format!("Issues/Application/{app}"), &[("$top", "5000")])
        .await;
    let page = t.elapsed();
    assert_eq!(items.len(), total.min(5000));
    let filtered = api
        .items(
            "Apps",
            &[
                (
                    "$filter",
                    "TotalIssues gt 1500 and RiskRating eq 'Critical'",
                ),
                ("$top", "5000"),
            ],
        )
        .await;
    assert!(
        filtered
            .iter()
            .all(|a| a["TotalIssues"].as_u64() > Some(1500))
    );
    eprintln!(
        "1M issues: generated in {built:?}; a page of {} in {page:?}",
        items.len()
    );
    sim.shutdown().await;
}
