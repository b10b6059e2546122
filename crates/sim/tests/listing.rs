//! OData listing: paging with $top/$skip/$count, limits, $filter, $orderby,
//! $select, and the error bodies for bad queries.

mod common;

use std::collections::HashSet;

use common::{Api, biggest_app, id, small, start};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn paging_over_an_app_is_complete_and_stable() {
    let sim = start(small()).await;
    let api = Api::login(&sim).await;
    let (app, total) = biggest_app(&sim);
    let path = format!("Issues/Application/{app}");

    // Default page is 100; Count is null unless $count=true.
    let v = api.json(&path, &[]).await;
    assert_eq!(v["Items"].as_array().unwrap().len(), total.min(100));
    assert!(v["Count"].is_null());
    let v = api.json(&path, &[("$top", "7"), ("$count", "true")]).await;
    assert_eq!(v["Count"].as_u64(), Some(total as u64));
    assert_eq!(v["Items"].as_array().unwrap().len(), 7);

    // Pages of 13 cover every issue exactly once, in the served order.
    let paged = api.all(&path, &[], 13).await;
    assert_eq!(paged.len(), total);
    let ids: HashSet<String> = paged.iter().map(id).collect();
    assert_eq!(ids.len(), total);
    assert_eq!(paged, sim.handle().issues(&app));

    // Past the end: an empty page.
    let skip = total.to_string();
    let v = api
        .json(&path, &[("$skip", &skip), ("$count", "true")])
        .await;
    assert_eq!(v["Items"], serde_json::json!([]));
    assert_eq!(v["Count"].as_u64(), Some(total as u64));

    // Apps page the same way.
    let apps = api.all("Apps", &[], 5).await;
    assert_eq!(apps, sim.handle().apps());
    assert_eq!(apps.len(), 12);
    sim.shutdown().await;
}

#[tokio::test]
async fn limits_and_bad_options_are_400_with_an_error_body() {
    let sim = start(small()).await;
    let api = Api::login(&sim).await;
    let (app, _) = biggest_app(&sim);
    let path = format!("Issues/Application/{app}");
    assert_eq!(
        api.get(&path, &[("$top", "5000")]).await.status(),
        StatusCode::OK
    );
    for q in [
        ("$top", "5001"),
        ("$top", "-1"),
        ("$skip", "x"),
        ("$count", "yes"),
        ("$bogus", "1"),
    ] {
        let r = api.get(&path, &[q]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q:?}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["Key"], "InvalidODataQuery");
        assert!(e["Message"].is_string());
        assert_eq!(e["FormatParams"], serde_json::json!([]));
    }
    let r = api
        .get(
            "Issues/Application/3fa85f64-5717-4562-b3fc-2c963f66afa6",
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["Key"], "NotFound");
    assert_eq!(
        api.get("Issues/Application/not-a-guid", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn max_page_size_is_configurable() {
    let sim = start(sim::SimConfig {
        max_page_size: 50,
        ..small()
    })
    .await;
    let api = Api::login(&sim).await;
    assert_eq!(
        api.get("Apps", &[("$top", "50")]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        api.get("Apps", &[("$top", "51")]).await.status(),
        StatusCode::BAD_REQUEST
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn filter_orderby_select() {
    let sim = start(small()).await;
    let api = Api::login(&sim).await;
    let (app, _) = biggest_app(&sim);
    let path = format!("Issues/Application/{app}");
    let all = sim.handle().issues(&app);

    // $filter by enum and number, with and/or/not and parentheses.
    let f = "(Severity eq 'High' or Severity eq 'Critical') and not (Status eq 'Fixed') and Port eq 443";
    let got = api.all(&path, &[("$filter", f)], 1000).await;
    let want: Vec<&Value> = all
        .iter()
        .filter(|i| {
            (i["Severity"] == "High" || i["Severity"] == "Critical")
                && i["Status"] != "Fixed"
                && i["Port"] == 443
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got.iter().collect::<Vec<_>>(), want);

    // Dates compare as dates, bare or quoted.
    let mut dates: Vec<&str> = all
        .iter()
        .map(|i| i["LastUpdated"].as_str().unwrap())
        .collect();
    dates.sort_unstable();
    let mid = dates[dates.len() / 2];
    let later = all
        .iter()
        .filter(|i| i["LastUpdated"].as_str().unwrap() >= mid)
        .count();
    for f in [
        format!("LastUpdated ge {mid}"),
        format!("LastUpdated ge '{mid}'"),
    ] {
        let v = api
            .json(&path, &[("$filter", &f), ("$count", "true"), ("$top", "0")])
            .await;
        assert_eq!(v["Count"].as_u64(), Some(later as u64), "{f}");
    }

    // A string literal with a doubled quote; an app by name.
    let name = sim.handle().apps()[0]["Name"].as_str().unwrap().to_string();
    let f = format!("Name eq '{}'", name.replace('\'', "''"));
    let apps = api.items("Apps", &[("$filter", &f)]).await;
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0]["Name"], name.as_str());
    let none = api
        .items("Apps", &[("$filter", "Name eq 'O''Brien'")])
        .await;
    assert!(none.is_empty());

    // $orderby with several keys, asc and desc.
    let got = api
        .all(
            &path,
            &[("$orderby", "SeverityValue desc, DateCreated asc")],
            1000,
        )
        .await;
    assert_eq!(got.len(), all.len());
    for w in got.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let (sa, sb) = (
            a["SeverityValue"].as_i64().unwrap(),
            b["SeverityValue"].as_i64().unwrap(),
        );
        assert!(sa > sb || (sa == sb && a["DateCreated"].as_str() <= b["DateCreated"].as_str()));
    }

    // $select: only the listed fields.
    let items = api
        .items(&path, &[("$select", "Id,Severity,Location"), ("$top", "5")])
        .await;
    for i in &items {
        let keys: HashSet<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, HashSet::from(["Id", "Severity", "Location"]));
        assert!(i["Location"].as_str().unwrap().starts_with("http"));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_filters_name_the_position() {
    let sim = start(small()).await;
    let api = Api::login(&sim).await;
    for (f, pos) in [
        ("Nmae eq 'x'", 0),
        ("(Name eq 'x'", 12),
        ("Name eq 'x' Name", 12),
        ("Name eq 'x", 8),
        ("Name like 'x'", 5),
        ("LastUpdated ge 2024-13-01T00:00:00Z", 15),
    ] {
        let r = api.get("Apps", &[("$filter", f)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{f}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["Key"], "InvalidODataQuery", "{f}");
        let msg = e["Message"].as_str().unwrap();
        assert!(msg.contains(&format!("position {pos}")), "{f}: {msg}");
    }
    for o in [
        ("$orderby", "Bogus desc"),
        ("$select", "Id,Bogus"),
        ("$orderby", "Name upward"),
    ] {
        assert_eq!(
            api.get("Apps", &[o]).await.status(),
            StatusCode::BAD_REQUEST,
            "{o:?}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn items_have_the_documented_shape() {
    let sim = start(small()).await;
    let api = Api::login(&sim).await;
    let apps = api.items("Apps", &[("$top", "5000")]).await;
    for a in &apps {
        let app_id = id(a);
        let issues = sim.handle().issues(&app_id);
        assert_eq!(a["TotalIssues"].as_u64(), Some(issues.len() as u64));
        let by = |s: &str| issues.iter().filter(|i| i["Severity"] == s).count() as u64;
        assert_eq!(a["CriticalIssues"].as_u64(), Some(by("Critical")));
        assert_eq!(a["HighIssues"].as_u64(), Some(by("High")));
        assert_eq!(a["InformationalIssues"].as_u64(), Some(by("Informational")));
        assert_eq!(a["ScanTechnologies"], "DAST");
        assert_eq!(a["CustomFields"], serde_json::json!([]));
        assert!(a["Name"].as_str().unwrap().len() <= 64);
        for i in &issues {
            assert_eq!(i["ApplicationId"], app_id.as_str());
            assert!(i["IssueTypeId"].as_str().unwrap().starts_with("att"));
            assert!(i["Port"].is_i64());
            assert!(i["Cwe"].is_i64() || i["Cwe"].is_null());
            assert!(i["Cvss"].is_string() || i["Cvss"].is_null());
            assert!(i["DateCreated"].as_str().unwrap().ends_with('Z'));
            let host = i["Host"].as_str().unwrap();
            assert!(i["Location"].as_str().unwrap().contains(host));
            let sv = i["SeverityValue"].as_i64().unwrap();
            assert!((0..=4).contains(&sv) || (sv == -1 && i["Severity"] == "Undetermined"));
            assert_eq!(i["CvssVersion"] == "None", i["Cvss"].is_null(), "{i}");
        }
    }
    // A single issue by id, and its details.
    let (app, _) = biggest_app(&sim);
    let first = &sim.handle().issues(&app)[0];
    let one = api.json(&format!("Issues/{}", id(first)), &[]).await;
    assert_eq!(&one, first);
    let r = api
        .get(
            &format!("Issues/{}/Details", id(first)),
            &[("format", "xml")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().starts_with("<?xml"));
    let r = api
        .get("Issues/3fa85f64-5717-4562-b3fc-2c963f66afa6", &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    sim.shutdown().await;
}
