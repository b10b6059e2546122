//! The five connection checks: each pass and each failure mode, against the simulator
//! and local TLS listeners with generated certificates.

mod common;
#[path = "common/tls.rs"]
mod tls;

use common::*;
use runner::check::{Check, Outcome, Resolver};
use runner::connectors::EditConnector;
use runner::{AddConnector, Settings};
use secrecy::SecretString;
use tls::{cert, tls_listener};

fn outcomes(checks: &[Check]) -> Vec<Outcome> {
    checks.iter().map(|c| c.outcome).collect()
}

use Outcome::{Failed as F, Passed as P, Skipped as S};

/// A URL its client would refuse (a forgotten scheme, another scheme, no URL at all)
/// fails registration and edits with the connector's name and the URL, instead of the
/// first sync; the connector keeps the URL it had.
#[tokio::test]
async fn a_url_the_client_would_refuse_is_not_registered() {
    let rig = rig(config(1, 5, 3), fast_settings()).await;
    let working = rig.runner.connector("sim").expect("sim").url;
    for url in ["ase.example.com:9443", "ftp://ase.example.com", "not a url"] {
        let add = rig.runner.add_connector(AddConnector {
            name: "onprem".into(),
            kind: "ase".into(),
            url: Some(url.into()),
            key_id: Some("k".into()),
            secret: Some(SecretString::from("s")),
            settings: fast_settings(),
        });
        let e = add.map(|c| c.name).expect_err(url).to_string();
        assert!(e.contains("connector 'onprem'"), "{e}");
        assert!(e.contains(url) && e.contains("https://"), "{e}");
        let edit = rig.runner.edit_connector(
            "sim",
            EditConnector {
                url: Some(url.into()),
                key_id: None,
            },
            |_| {},
        );
        let e = edit.map(|c| c.name).expect_err(url).to_string();
        assert!(e.contains("connector 'sim'") && e.contains(url), "{e}");
    }
    assert!(rig.runner.connector("onprem").is_err());
    assert_eq!(rig.runner.connector("sim").expect("sim").url, working);
}

#[tokio::test]
async fn a_healthy_connector_passes_every_check_but_tls_on_plain_http() {
    let rig = rig(config(3, 10, 1), fast_settings()).await;
    let checks = rig
        .runner
        .check("sim", &Resolver::System)
        .await
        .expect("check");
    assert_eq!(outcomes(&checks), [P, S, P, P, P], "{checks:#?}");
    assert!(checks[4].reason.contains("3 apps"), "{}", checks[4].reason);
    assert!(checks[1].reason.contains("plain http"));
}

#[tokio::test]
async fn an_unknown_host_is_named_and_the_rest_skipped() {
    let rig = rig(config(1, 1, 1), fast_settings()).await;
    point_at(&rig, "https://appscan.nowhere.example:9443", None).await;
    // A fixed resolver table: tests send no DNS query off this machine.
    let checks = rig
        .runner
        .check("sim", &Resolver::Static(Default::default()))
        .await
        .expect("check");
    assert_eq!(outcomes(&checks), [F, S, S, S, S]);
    assert_eq!(checks[0].reason, "Unknown Host: appscan.nowhere.example");
    assert!(checks[1].reason.contains("network reachability failed"));
    assert!(checks[0].hint.is_some());
}

#[tokio::test]
async fn a_refused_connection_is_named() {
    let rig = rig(config(1, 1, 1), fast_settings()).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    point_at(&rig, &format!("http://127.0.0.1:{port}"), None).await;
    let checks = rig
        .runner
        .check("sim", &Resolver::System)
        .await
        .expect("check");
    assert_eq!(outcomes(&checks), [F, S, S, S, S]);
    assert!(
        checks[0].reason.starts_with("Connection refused"),
        "{}",
        checks[0].reason
    );
}

/// A run stopped by a refused connection, by a rate limit that outlasted the retries or
/// by a server too slow to answer says what to change (it said only the error, e.g.
/// "failed with HTTP 429 after 7 attempt(s): Too many requests.").
#[tokio::test]
async fn a_failed_run_says_what_to_change() {
    let settings = Settings {
        max_retries: 1,
        timeout_seconds: 1,
        ..fast_settings()
    };
    let rig = rig(config(2, 5, 1), settings).await;
    let reason = async || {
        let report = rig.sync().await;
        assert_eq!(report.run.state, store::RunState::Errored);
        report.run.reason.unwrap_or_default()
    };

    rig.handle.inject(sim::Fault::Status {
        status: 429,
        times: 100,
        endpoint: sim::asoc::Endpoint::Issues,
        retry_after: Some(0),
    });
    let r = reason().await;
    assert!(r.contains("HTTP 429") && r.contains("--rate-limit"), "{r}");
    rig.handle.clear_faults();

    rig.handle.inject(sim::Fault::Delay {
        millis: 1_500,
        times: 2,
        endpoint: sim::asoc::Endpoint::Apps,
    });
    let r = reason().await;
    assert!(
        r.contains("timed out") && r.contains("--timeout-seconds"),
        "{r}"
    );
    rig.handle.clear_faults();

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    point_at(&rig, &format!("http://127.0.0.1:{port}"), None).await;
    let r = reason().await;
    assert!(r.contains("nothing accepts connections"), "{r}");
}

/// The checks of the connector pointed at the TLS listener on `port`, trusting `ca_file`.
async fn checks_at(rig: &Rig, port: u16, ca_file: Option<String>) -> Vec<Check> {
    point_at(rig, &format!("https://127.0.0.1:{port}"), ca_file).await;
    rig.runner
        .check("sim", &Resolver::System)
        .await
        .expect("check")
}

fn ca_file(rig: &Rig, cert: &rcgen::Certificate) -> String {
    let path = rig.dir.path().join("ca.pem");
    std::fs::write(&path, cert.pem()).expect("write ca");
    path.display().to_string()
}

#[tokio::test]
async fn tls_problems_are_named_and_a_trusted_ca_file_passes() {
    let rig = rig(config(1, 1, 1), fast_settings()).await;

    // Self-signed, not trusted.
    let (c, k) = cert(&["127.0.0.1"], false);
    let port = tls_listener(&c, &k).await;
    let checks = checks_at(&rig, port, None).await;
    assert_eq!(outcomes(&checks), [P, F, S, S, S]);
    assert!(
        checks[1].reason.contains("self-signed"),
        "{}",
        checks[1].reason
    );
    assert!(
        checks[1]
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("--ca-file")
    );

    // The same certificate trusted through the CA file: the handshake passes (the listener
    // is no AppScan, so authentication then fails).
    let checks = checks_at(&rig, port, Some(ca_file(&rig, &c))).await;
    assert_eq!(outcomes(&checks)[..3], [P, P, F], "{checks:#?}");

    // Expired.
    let (c, k) = cert(&["127.0.0.1"], true);
    let port = tls_listener(&c, &k).await;
    let checks = checks_at(&rig, port, Some(ca_file(&rig, &c))).await;
    assert_eq!(outcomes(&checks), [P, F, S, S, S]);
    assert_eq!(checks[1].reason, "certificate expired");

    // Issued for another host.
    let (c, k) = cert(&["appscan.other.example"], false);
    let port = tls_listener(&c, &k).await;
    let checks = checks_at(&rig, port, Some(ca_file(&rig, &c))).await;
    assert_eq!(outcomes(&checks), [P, F, S, S, S]);
    assert!(
        checks[1].reason.contains("wrong host"),
        "{}",
        checks[1].reason
    );

    // Self-signed with CA:TRUE, as `openssl req -x509` makes it: refused even when
    // trusted, and the check says why and what to do (it printed a Rust debug string and
    // the --ca-file hint, which cannot help).
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let k = rcgen::KeyPair::generate().expect("key");
    let c = params.self_signed(&k).expect("cert");
    let port = tls_listener(&c, &k).await;
    let checks = checks_at(&rig, port, Some(ca_file(&rig, &c))).await;
    assert_eq!(outcomes(&checks), [P, F, S, S, S]);
    assert!(
        checks[1].reason.contains("itself a CA certificate"),
        "{}",
        checks[1].reason
    );
    assert!(!checks[1].reason.contains("Other("), "{}", checks[1].reason);
    // A sync against it fails, and its run says the same (it said only
    // "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))").
    let report = rig
        .runner
        .sync("sim", runner::SyncOptions::default(), &runner::Quiet)
        .await
        .expect("the run is recorded");
    assert_eq!(report.run.state, store::RunState::Errored);
    let reason = report.run.reason.unwrap_or_default();
    assert!(reason.contains("itself a CA certificate"), "{reason}");
    assert!(reason.contains("--ca-file"), "{reason}");
}

#[tokio::test]
async fn a_bad_key_fails_authentication_with_401() {
    let rig = rig(config(1, 1, 1), fast_settings()).await;
    rig.handle.inject(sim::Fault::BadKey);
    let checks = rig
        .runner
        .check("sim", &Resolver::System)
        .await
        .expect("check");
    assert_eq!(outcomes(&checks), [P, S, F, S, S]);
    assert!(checks[2].reason.starts_with("401"), "{}", checks[2].reason);
    assert!(checks[2].reason.contains("wrong") && checks[2].reason.contains("revoked"));
    // The command to run names the connector (it said `connector rotate-key NAME`).
    let hint = checks[2].hint.clone().unwrap_or_default();
    assert!(hint.contains("run `connector rotate-key sim`"), "{hint}");
}

/// A connector of the wrong kind fails its login as a wrong key would; the check says
/// which product answers instead of blaming the key. An `asoc` connector at an ASE
/// server is told it is ASE (its unauthenticated version), an `ase` connector at an ASoC
/// tenant that no ASE API answers there; a wrong key at the right product is still a
/// wrong key.
#[tokio::test]
async fn a_connector_of_the_wrong_kind_is_told_which_product_answers() {
    let rig = rig(config(1, 1, 1), fast_settings()).await;
    let ase_sim = sim::ase::AseSim::start(
        sim::ase::AseSimConfig::default(),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .expect("ASE simulator");
    let add = |name: &str, kind: &str, url: String| {
        rig.runner
            .add_connector(AddConnector {
                name: name.into(),
                kind: kind.into(),
                url: Some(url),
                key_id: Some("some-key".into()),
                secret: Some(SecretString::from("some-secret")),
                settings: fast_settings(),
            })
            .expect("add");
    };
    add("cloud-at-ase", "asoc", ase_sim.base_url());
    let cloud_url = rig.runner.connector("sim").expect("sim").url.expect("url");
    add("ase-at-cloud", "ase", cloud_url);
    add("ase-bad-key", "ase", ase_sim.base_url());
    // Each fails at the login, and only there.
    let login = async |name: &str| {
        let checks = rig
            .runner
            .check(name, &Resolver::System)
            .await
            .expect("check");
        assert_eq!(outcomes(&checks), [P, S, F, S, S], "{name}: {checks:#?}");
        let login = checks[2].clone();
        (login.reason, login.hint.unwrap_or_default())
    };

    let (reason, hint) = login("cloud-at-ase").await;
    assert!(reason.contains("answers as AppScan Enterprise"), "{reason}");
    assert!(!reason.contains("wrong"), "{reason}");
    assert!(hint.contains("ase connector"), "{hint}");

    let (reason, hint) = login("ase-at-cloud").await;
    assert!(
        reason.contains("no AppScan Enterprise API answers"),
        "{reason}"
    );
    assert!(hint.contains("asoc connector"), "{hint}");

    let (reason, _) = login("ase-bad-key").await;
    assert!(reason.contains("wrong"), "{reason}");
    assert!(!reason.contains("AppScan Enterprise"), "{reason}");
}

#[tokio::test]
async fn a_key_without_permission_fails_authorization_with_403() {
    let rig = rig(config(1, 1, 1), fast_settings()).await;
    rig.handle.inject(sim::Fault::Forbidden {
        endpoint: sim::asoc::Endpoint::Apps,
    });
    let checks = rig
        .runner
        .check("sim", &Resolver::System)
        .await
        .expect("check");
    assert_eq!(outcomes(&checks), [P, S, P, F, S]);
    assert!(checks[3].reason.starts_with("403"), "{}", checks[3].reason);
    assert!(
        checks[3]
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("permission")
    );
}

#[tokio::test]
async fn unparsable_data_fails_the_data_fetch_with_where() {
    let rig = rig(config(2, 30, 1), fast_settings()).await;
    rig.handle.inject(sim::Fault::Malformed {
        fraction: 1.0,
        seed: 1,
    });
    let checks = rig
        .runner
        .check("sim", &Resolver::System)
        .await
        .expect("check");
    assert_eq!(outcomes(&checks), [P, S, P, P, F], "{checks:#?}");
    assert!(
        checks[4].reason.contains("do not parse with map 'default'"),
        "{}",
        checks[4].reason
    );
    assert!(
        checks[4].reason.contains("$.Items["),
        "{}",
        checks[4].reason
    );
}

#[tokio::test]
async fn rotating_to_a_good_key_saves_it_and_a_bad_key_keeps_the_old_one() {
    let rig = rig(config(1, 2, 1), fast_settings()).await;
    let before = rig.runner.connector("sim").expect("c").secret;
    let err = rig
        .runner
        .rotate_key(
            "sim",
            Some("sim-key-id".into()),
            SecretString::from("not-the-secret".to_string()),
        )
        .await
        .expect_err("a bad key is refused");
    assert!(
        err.to_string().starts_with(
            "the new key was refused, the old key is kept: authentication failed (HTTP 401)"
        ),
        "{err}"
    );
    assert!(!err.to_string().contains("not-the-secret"));
    assert_eq!(rig.runner.connector("sim").expect("c").secret, before);

    // The simulator accepts the same key again: a good key is saved (sealed afresh).
    rig.runner
        .rotate_key(
            "sim",
            None,
            SecretString::from(sim::SimConfig::default().key_secret),
        )
        .await
        .expect("a good key is saved");
    let after = rig.runner.connector("sim").expect("c").secret;
    assert_ne!(after, before, "a new nonce seals the new secret");
    assert_eq!(rig.sync().await.run.state, store::RunState::Processed);
}

/// A server that cannot be reached has not judged the new key: the error says the login
/// could not be made, not that the key was refused.
#[tokio::test]
async fn rotating_while_the_server_cannot_be_reached_does_not_say_the_key_was_refused() {
    let rig = rig(config(1, 2, 1), fast_settings()).await;
    let before = rig.runner.connector("sim").expect("c").secret;
    // A loopback port nothing listens on (bound, then let go).
    let closed = (26_900..26_999)
        .find_map(|port| std::net::TcpListener::bind(("127.0.0.1", port)).ok())
        .expect("a free port")
        .local_addr()
        .expect("addr");
    rig.runner
        .edit_connector(
            "sim",
            EditConnector {
                url: Some(format!("http://{closed}")),
                key_id: None,
            },
            |_| {},
        )
        .expect("edit");
    let err = rig
        .runner
        .rotate_key(
            "sim",
            None,
            SecretString::from(sim::SimConfig::default().key_secret),
        )
        .await
        .expect_err("no server");
    let text = err.to_string();
    assert!(
        text.starts_with("could not log in with the new key (")
            && text.ends_with("); the old key is kept"),
        "{text}"
    );
    assert!(!text.contains("refused, the old key"), "{text}");
    assert_eq!(rig.runner.connector("sim").expect("c").secret, before);
}

#[tokio::test]
async fn a_wrong_master_key_says_so_and_never_yields_garbage() {
    let rig = rig(config(1, 2, 1), fast_settings()).await;
    let other = runner::Runner::new(
        rig.runner.store.clone(),
        runner::MasterKey::from_hex(&"99".repeat(32), "test").expect("key"),
    );
    let err = other
        .sync("sim", runner::SyncOptions::default(), &runner::Quiet)
        .await
        .expect_err("cannot decrypt");
    assert_eq!(
        err.to_string(),
        "cannot decrypt secret for connector sim: wrong or missing master key"
    );
}

/// The check lists the applications a sync would: through the connector's app filter.
/// A filter ASoC refuses failed every sync while the check passed all five steps; a
/// filter that selects one application said how many the key sees without it.
#[tokio::test]
async fn the_check_lists_applications_through_the_connectors_app_filter() {
    let refused = Settings {
        app_filter: Some("Name eq".into()),
        ..fast_settings()
    };
    let rig = common::rig(config(3, 10, 1), refused).await;
    let checks = rig
        .runner
        .check("sim", &Resolver::System)
        .await
        .expect("check");
    assert_eq!(outcomes(&checks), [P, S, P, F, S], "{checks:#?}");
    let hint = checks[3].hint.clone().unwrap_or_default();
    assert!(
        checks[3].reason.contains("HTTP 400"),
        "{}",
        checks[3].reason
    );
    assert!(
        hint.contains("app filter `Name eq`") && hint.contains("--app-filter"),
        "{hint}"
    );

    let none = Settings {
        app_filter: Some("Name eq 'no such application'".into()),
        ..fast_settings()
    };
    let rig = common::rig(config(3, 10, 1), none).await;
    let checks = rig
        .runner
        .check("sim", &Resolver::System)
        .await
        .expect("check");
    assert_eq!(checks[3].outcome, P, "{checks:#?}");
    assert!(
        checks[3]
            .reason
            .contains("(0 visible through the app filter"),
        "{}",
        checks[3].reason
    );
}

/// A server that sends no `Count` (the API leaves it out unless asked, and some proxies
/// drop it): the check read only the first page and said "(20 visible)" as if that were
/// all. It now says there are at least that many and that the server sent no count.
#[tokio::test]
async fn a_listing_without_count_says_at_least() {
    let rig = rig(config(3, 10, 1), fast_settings()).await;
    let items: Vec<serde_json::Value> = (0..20)
        .map(|i| serde_json::json!({"Id": format!("app-{i}"), "Name": format!("App {i}")}))
        .collect();
    rig.handle.inject(sim::Fault::Body {
        body: serde_json::json!({"Items": items, "Count": null}).to_string(),
        times: 1,
        endpoint: sim::asoc::Endpoint::Apps,
    });
    let checks = rig
        .runner
        .check("sim", &Resolver::System)
        .await
        .expect("check");
    assert_eq!(checks[3].outcome, P, "{checks:#?}");
    assert!(
        checks[3].reason.contains("at least 20 visible")
            && checks[3].reason.contains("sent no count"),
        "{}",
        checks[3].reason
    );
}
