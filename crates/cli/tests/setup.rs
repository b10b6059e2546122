//! Connector set-up as a user does it: show, edit, maps, remap, config files, and secrets
//! kept out of every output, trace logs included.

mod common;

use common::{SECRET, bin, fails, ok, text};
use std::path::Path;
use std::process::Command;

async fn sim() -> sim::RunningSim {
    common::sim(3, 20, 42).await
}

#[tokio::test(flavor = "multi_thread")]
async fn show_edit_check_remap_and_remove_a_connector() {
    let sim = sim().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(bin(d)
        .args([
            "connector",
            "add",
            "asoc",
            "--name",
            "cloud",
            "--url",
            &sim.base_url(),
            "--key-id",
            "sim-key-id",
            "--rate-limit",
            "0",
        ])
        .env("APPSCAN_KEY_SECRET", SECRET));

    let show = ok(bin(d).args(["connector", "show", "cloud", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).expect("json");
    assert_eq!(v["key_secret"], "••••");
    assert!(!text(&show).contains(SECRET));
    assert!(text(&ok(bin(d).args(["connector", "show", "cloud"]))).contains("key secret: ••••"));

    let err = fails(bin(d).args([
        "connector",
        "edit",
        "cloud",
        "--description",
        &"d".repeat(165),
    ]));
    assert!(err.contains("at most 164"), "{err}");
    ok(bin(d).args([
        "connector",
        "edit",
        "cloud",
        "--page-size",
        "7",
        "--description",
        "prod tenant",
    ]));
    let v: serde_json::Value =
        serde_json::from_slice(&ok(bin(d).args(["connector", "show", "cloud", "--json"])).stdout)
            .expect("json");
    assert_eq!(v["settings"]["page_size"], 7);

    // A schedule serve could not run is refused at once (the scheduler used to find it);
    // an empty one takes the schedule away.
    ok(bin(d).args(["connector", "edit", "cloud", "--schedule", "6h"]));
    // Options of ASE and XML runs are refused for an asoc connector (they were stored
    // and ignored).
    let err = fails(bin(d).args([
        "connector",
        "edit",
        "cloud",
        "--ca-file",
        "/nonexistent/ca.pem",
    ]));
    assert!(
        err.contains("CA file /nonexistent/ca.pem cannot be read"),
        "{err}"
    );
    // A readable file without a certificate is refused too: it was stored, and every
    // sync and check failed on it. An empty value goes back to the system's CAs.
    let not_pem = d.join("not-a-ca.pem");
    std::fs::write(&not_pem, "hello\n").expect("write");
    let err = fails(
        bin(d)
            .args(["connector", "edit", "cloud", "--ca-file"])
            .arg(&not_pem),
    );
    assert!(err.contains("no PEM certificate"), "{err}");
    // A relative path is stored absolute: a service or cron job runs elsewhere.
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../asoc/tests/fixtures/test-ca.pem"
        ),
        d.join("ca.pem"),
    )
    .expect("copy a CA");
    ok(bin(d)
        .current_dir(d)
        .args(["connector", "edit", "cloud", "--ca-file", "ca.pem"]));
    let stored = serde_json::from_slice::<serde_json::Value>(
        &ok(bin(d).args(["connector", "show", "cloud", "--json"])).stdout,
    )
    .expect("json")["settings"]["ca_file"]
        .clone();
    assert_eq!(stored, d.join("ca.pem").display().to_string());
    ok(bin(d).args(["connector", "edit", "cloud", "--ca-file", ""]));
    // And asoc's own option is refused for the others.
    let err = fails(bin(d).args([
        "connector",
        "add",
        "xml",
        "--name",
        "rep",
        "--fetch-details",
        "true",
    ]));
    assert!(err.contains("an option of asoc connectors"), "{err}");
    // An xml connector reads files: a server's URL, key and request options were stored
    // and shown, and meant nothing. ASE's date format is ASE's.
    let err = fails(
        bin(d)
            .args(["connector", "add", "xml", "--name", "rep"])
            .args([
                "--url",
                "http://x",
                "--key-id",
                "kk",
                "--page-size",
                "77",
                "--rate-limit",
                "5",
                "--app-filter",
                "x eq 'y'",
                "--timeout-seconds",
                "9",
            ]),
    );
    assert!(
        err.contains(
            "--url, --key-id, --page-size, --rate-limit, --app-filter, --timeout-seconds: options of connectors that fetch from a server"
        ),
        "{err}"
    );
    ok(bin(d).args(["connector", "add", "xml", "--name", "rep"]));
    for flags in [
        &["--concurrency", "9"][..],
        &["--overlap", "10"],
        &["--max-retries", "3"],
    ] {
        let err = fails(bin(d).args(["connector", "edit", "rep"]).args(flags));
        assert!(
            err.contains(&format!("{}: options of connectors that fetch", flags[0])),
            "{err}"
        );
    }
    for name in ["rep", "cloud"] {
        let err =
            fails(bin(d).args(["connector", "edit", name, "--date-format", "%d.%m.%y %H:%M"]));
        assert!(
            err.contains("--date-format: an option of ase connectors"),
            "{err}"
        );
        let err = fails(bin(d).args(["connector", "edit", name, "--time-zone", "Europe/Berlin"]));
        assert!(
            err.contains("--time-zone: an option of ase connectors"),
            "{err}"
        );
    }
    let rep = serde_json::from_slice::<serde_json::Value>(
        &ok(bin(d).args(["connector", "show", "rep", "--json"])).stdout,
    )
    .expect("json");
    assert!(rep["url"].is_null() && rep["key_id"].is_null(), "{rep}");
    assert_eq!(
        rep["settings"]["date_format"],
        serde_json::Value::Null,
        "{rep}"
    );
    assert_eq!(
        rep["settings"]["time_zone"],
        serde_json::Value::Null,
        "{rep}"
    );
    // An edit that changes nothing says so (it said "updated").
    for args in [
        &["connector", "edit", "cloud"][..],
        &["connector", "edit", "rep", "--map", "default"],
    ] {
        let said = text(&ok(bin(d).args(args)));
        assert!(
            said.contains("was not changed: no option was given"),
            "{args:?}: {said}"
        );
        assert!(!said.contains("updated"), "{args:?}: {said}");
    }
    ok(bin(d).args(["connector", "edit", "cloud", "--fetch-details", "true"]));
    let err = fails(bin(d).args(["connector", "edit", "cloud", "--unknown-severity", "High"]));
    assert!(
        err.contains("--unknown-severity: options of ASE and XML runs"),
        "{err}"
    );
    let err = fails(bin(d).args(["connector", "edit", "cloud", "--schedule", "every tuesday"]));
    assert!(err.contains("invalid schedule 'every tuesday'"), "{err}");
    let show = |d: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&ok(bin(d).args(["connector", "show", "cloud", "--json"])).stdout)
            .expect("json")
    };
    assert_eq!(
        show(d)["settings"]["schedule"],
        "6h",
        "the refused edit changed nothing"
    );
    ok(bin(d).args(["connector", "edit", "cloud", "--schedule", ""]));
    assert!(show(d)["settings"]["schedule"].is_null());

    let check = ok(bin(d).args(["check", "cloud", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&check.stdout).expect("json");
    assert_eq!(v["passed"], true);
    assert_eq!(v["checks"].as_array().map(Vec::len), Some(5));

    // A trace-level sync logs nothing secret.
    let sync = ok(bin(d)
        .args(["-vvv", "sync", "cloud"])
        .env("RUST_LOG", "trace"));
    let logs = text(&sync);
    assert!(!logs.contains(SECRET), "the secret leaked into the logs");
    assert!(
        !logs.contains('\u{1b}'),
        "no colour codes in logs that go to a pipe"
    );
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "trace logging was on"
    );

    // Maps: clone the default, change where findingName comes from, remap without fetching.
    assert!(text(&ok(bin(d).args(["map", "list"]))).contains("default"));
    assert!(text(&ok(bin(d).args(["map", "show", "default"]))).contains("findingName"));
    // The built-in map cannot be removed, used or not (it said "used by cloud; assign them
    // another map first", then "does not exist"), with a store or without.
    let empty = tempfile::tempdir().expect("tempdir");
    for dir in [d, empty.path()] {
        let err = fails(bin(dir).args(["map", "remove", "default"]));
        assert!(
            err.contains("the default map is built in and cannot be removed"),
            "{err}"
        );
    }
    ok(bin(d).args(["map", "clone", "default", "by-id"]));
    // A name that could not be typed back or shown is refused at once (an empty one was
    // saved, and `map show ''` then failed).
    for bad in ["", "bad name", "x/../y"] {
        let err = fails(bin(d).args(["map", "clone", "default", bad]));
        assert!(err.contains("map name"), "{bad:?}: {err}");
    }
    ok(bin(d).args(["map", "set", "by-id", "findingName=IssueTypeId"]));
    let err = fails(bin(d).args(["map", "set", "by-id", "bogusField=X"]));
    assert!(err.contains("unknown target field 'bogusField'"), "{err}");
    ok(bin(d).args(["connector", "edit", "cloud", "--map", "by-id"]));
    let stats_before = sim.handle().stats();
    let remap = ok(bin(d).args(["remap", "cloud", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&remap.stdout).expect("json");
    assert_eq!(v["run"]["mode"], "remap");
    assert_eq!(v["run"]["state"], "Processed");
    assert_eq!(
        sim.handle().stats().logins,
        stats_before.logins,
        "remap fetched nothing"
    );
    let findings: serde_json::Value =
        serde_json::from_slice(&ok(bin(d).args(["findings", "--json"])).stdout).expect("json");
    let first = &findings[0];
    assert_eq!(
        first["name"], first["issue_type"],
        "names now come from IssueTypeId"
    );

    ok(bin(d).args(["connector", "remove", "cloud"]));
    let err = fails(bin(d).args(["connector", "show", "cloud"]));
    assert!(err.contains("does not exist"), "{err}");
}

/// `$EDITOR` often holds arguments ("code --wait", "emacs -nw"): it runs as the shell
/// would run it (it was taken as one program name, "No such file or directory").
#[test]
fn map_edit_runs_an_editor_with_arguments() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    ok(bin(d).args(["map", "clone", "default", "mine"]));
    ok(bin(d)
        .args(["map", "edit", "mine"])
        .env_remove("VISUAL")
        .env("EDITOR", "sed -i -e s/IssueTypeId/IssueTypeGuid/"));
    assert!(text(&ok(bin(d).args(["map", "show", "mine"]))).contains("IssueTypeGuid"));
}

/// `--quiet` drops the map commands' confirmations, as it does every command's; they
/// printed "Cloned …", "Map 'x' updated …", "… saved.", "… removed." whatever the flag.
#[test]
fn quiet_map_commands_print_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let stdout = |out: std::process::Output| String::from_utf8_lossy(&out.stdout).into_owned();
    let quiet = |args: &[&str]| stdout(ok(bin(d).arg("--quiet").args(args)));
    assert_eq!(quiet(&["map", "clone", "default", "mine"]), "");
    assert_eq!(
        quiet(&["map", "set", "mine", "findingName=IssueTypeId"]),
        ""
    );
    let file = d.join("mine.toml");
    std::fs::write(&file, text(&ok(bin(d).args(["map", "show", "mine"])))).expect("write");
    assert_eq!(
        stdout(ok(bin(d).args(["--quiet", "map", "import"]).arg(&file))),
        ""
    );
    assert_eq!(quiet(&["map", "remove", "mine"]), "");
    // Without it, each says what it did.
    assert!(text(&ok(bin(d).args(["map", "clone", "default", "again"]))).contains("Cloned"));
    assert!(text(&ok(bin(d).args(["map", "remove", "again"]))).contains("removed"));
}

#[test]
fn map_validate_reports_every_problem_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("m.toml");
    std::fs::write(
        &file,
        "name = \"m\"\n[[finding]]\ntarget = \"nope\"\nsource = \"X\"\n[status]\nOpen = \"SHUT\"\n",
    )
    .expect("write");
    let out = fails(bin(dir.path()).args(["map", "validate"]).arg(&file));
    assert!(
        out.contains("m.toml:3: unknown finding target field 'nope'"),
        "{out}"
    );
    assert!(out.contains("m.toml:6: status 'Open'"), "{out}");
    assert!(
        out.contains("required finding target field 'externalFindingId' is not mapped"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connectors_declared_in_a_config_file_with_env_overrides() {
    let sim = sim().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = d.join("bridge.toml");
    std::fs::write(
        &config,
        format!(
            "[[connector]]\nname = \"cloud\"\nkind = \"asoc\"\nurl = \"{}\"\nkey_id = \"sim-key-id\"\nkey_secret_env = \"MY_ASOC_SECRET\"\nrate_limit_per_minute = 0\npage_size = 10\n",
            sim.base_url()
        ),
    )
    .expect("write");
    let err = fails(bin(d).args(["config", "validate"]).arg(&config));
    assert!(
        err.contains(
            "bridge.toml:6: connector 'cloud': environment variable MY_ASOC_SECRET is not set"
        ),
        "{err}"
    );
    ok(bin(d)
        .args(["config", "validate"])
        .arg(&config)
        .env("MY_ASOC_SECRET", SECRET));
    // A listing does not apply the file: where nothing is stored yet it says so, and
    // creates nothing.
    let err = fails(
        bin(d)
            .arg("--config")
            .arg(&config)
            .args(["connector", "list", "--json"]),
    );
    assert!(err.contains("there is no store at"), "{err}");
    assert!(!d.join("store.sqlite3").exists() && !d.join("master.key").exists());
    // Elsewhere an unset secret variable is a warning, not a failure of every command: the
    // connector is registered without a secret, and only what needs one fails.
    let err = fails(bin(d).arg("--config").arg(&config).args(["sync", "cloud"]));
    assert!(
        err.contains("warning: ")
            && err.contains("bridge.toml:6: connector 'cloud': environment variable MY_ASOC_SECRET is not set: the connector has no key secret"),
        "{err}"
    );
    assert!(
        err.contains("MY_ASOC_SECRET is not set") && err.contains("has no key secret"),
        "{err}"
    );
    let listed = ok(bin(d)
        .arg("--config")
        .arg(&config)
        .args(["connector", "list", "--json"]));
    assert!(!text(&listed).contains("warning"), "{}", text(&listed));

    let run = |c: &mut Command| {
        c.arg("--config")
            .arg(&config)
            .env("MY_ASOC_SECRET", SECRET)
            .env("APPSCAN_BRIDGE_CONNECTOR_CLOUD_PAGE_SIZE", "25");
    };
    let mut sync = bin(d);
    sync.args(["sync", "cloud", "--json"]);
    run(&mut sync);
    let v: serde_json::Value = serde_json::from_slice(&ok(&mut sync).stdout).expect("json");
    assert_eq!(v["run"]["state"], "Processed");
    let mut show = bin(d);
    show.args(["connector", "show", "cloud", "--json"]);
    run(&mut show);
    let v: serde_json::Value = serde_json::from_slice(&ok(&mut show).stdout).expect("json");
    assert_eq!(
        v["settings"]["page_size"], 25,
        "the environment overrides the file"
    );
    // Once the secret is stored, a shell without the variable keeps it, quietly.
    let kept = bin(d)
        .arg("--config")
        .arg(&config)
        .args(["sync", "cloud", "--json"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&kept.stderr);
    assert!(kept.status.success() && !err.contains("warning"), "{err}");
    // A mistyped override overrides nothing: it was ignored without a word. `config
    // validate` fails on it, other commands warn.
    let typo = "APPSCAN_BRIDGE_CONNECTOR_CLOUD_PAGESIZE";
    let mut validate = bin(d);
    validate
        .args(["config", "validate"])
        .arg(&config)
        .env("MY_ASOC_SECRET", SECRET)
        .env(typo, "25");
    let err = fails(&mut validate);
    assert!(
        err.contains(&format!(
            "connector 'cloud': ${typo} overrides nothing: `pagesize` is no key"
        )),
        "{err}"
    );
    let listed = bin(d)
        .arg("--config")
        .arg(&config)
        .args(["connector", "list", "--json"])
        .env("MY_ASOC_SECRET", SECRET)
        .env(typo, "25")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&listed.stderr);
    assert!(
        listed.status.success() && err.contains("warning: ") && err.contains(typo),
        "{err}"
    );
    // A declared connector is changed in the file: an edit here was reported "updated"
    // and undone by the next command, which re-applied the file.
    for args in [
        &["connector", "edit", "cloud", "--map", "mine"][..],
        &["connector", "remove", "cloud"],
        &["connector", "rotate-key", "cloud"],
    ] {
        let mut cmd = bin(d);
        cmd.args(args);
        run(&mut cmd);
        let err = fails(&mut cmd);
        assert!(
            err.contains("connector 'cloud' is declared in the config file")
                && err.contains("bridge.toml"),
            "{args:?}: {err}"
        );
    }
    // The file cannot turn a stored connector into another kind (it kept the old kind's
    // findings under the new kind's URL and key, and the next sync failed to log in).
    let ase = config.with_file_name("ase.toml");
    std::fs::write(
        &ase,
        format!(
            "[[connector]]\nname = \"cloud\"\nkind = \"ase\"\nurl = \"{}\"\nkey_id = \"k\"\nkey_secret_env = \"MY_ASOC_SECRET\"\n",
            sim.base_url()
        ),
    )
    .expect("write");
    let err = fails(
        bin(d)
            .arg("--config")
            .arg(&ase)
            .args(["sync", "cloud"])
            .env("MY_ASOC_SECRET", SECRET),
    );
    assert!(
        err.contains("is an asoc connector in the store, and the config file declares it ase"),
        "{err}"
    );
    // `status` does not apply the file: it says what differs.
    let status = ok(bin(d)
        .arg("--config")
        .arg(&ase)
        .args(["status"])
        .env("MY_ASOC_SECRET", SECRET));
    assert!(
        text(&status).contains("warning: connector 'cloud' differs from")
            && text(&status).contains("(kind, "),
        "{}",
        text(&status)
    );

    std::fs::write(
        &config,
        "[[connector]]\nname = \"x\"\nkind = \"asoc\"\npage_size = 0\nwat = 1\n",
    )
    .expect("write");
    let err = fails(bin(d).args(["config", "validate"]).arg(&config));
    assert!(
        err.contains("bridge.toml:5: connector 'x': unknown setting `wat`"),
        "{err}"
    );
    assert!(err.contains("page size 0 is outside"), "{err}");
}

/// The config file `[[connector]]` "cloud" on `url`, whose secret is in $MY_SECRET.
fn cloud_config(file: &Path, url: &str) {
    std::fs::write(
        file,
        format!(
            "[[connector]]\nname = \"cloud\"\nkind = \"asoc\"\nurl = \"{url}\"\nkey_id = \"sim-key-id\"\nkey_secret_env = \"MY_SECRET\"\nrate_limit_per_minute = 0\n"
        ),
    )
    .expect("write");
}

/// The names of what is in `dir` (none when it does not exist).
fn made_in(dir: &Path) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(dir)
        .map(|r| r.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default()
}

/// A command that only reads does not apply the config file: a service synced another
/// tenant through override variables, and a listing in an operator's shell without them
/// wrote the file's plain URL and key id back (the cursor cleared) under the service. It
/// says what differs instead. Nor does it make a store and a master key in a mistyped
/// data directory, or fail for a master key it does not need.
#[tokio::test(flavor = "multi_thread")]
async fn read_only_commands_do_not_apply_the_config_file() {
    let plain = sim().await;
    let tenant = sim::AsocSim::start(
        sim::SimConfig {
            apps: 2,
            issues_per_app: 5,
            seed: 3,
            key_id: "tenant-b".into(),
            ..sim::SimConfig::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = d.join("config.toml");
    cloud_config(&config, &plain.base_url());
    let service = |c: &mut Command| {
        c.env("MY_SECRET", SECRET)
            .env("APPSCAN_BRIDGE_CONNECTOR_CLOUD_URL", tenant.base_url())
            .env("APPSCAN_BRIDGE_CONNECTOR_CLOUD_KEY_ID", "tenant-b");
    };
    let mut sync = bin(d);
    sync.args(["sync", "cloud", "--quiet"]);
    service(&mut sync);
    ok(&mut sync);
    let stored = |d: &Path| {
        let v: serde_json::Value = serde_json::from_slice(
            &ok(bin(d).args(["connector", "show", "cloud", "--json"])).stdout,
        )
        .expect("json");
        v
    };
    let before = stored(d);
    assert_eq!(before["url"], tenant.base_url().as_str(), "{before}");
    assert!(before["cursor"].is_string(), "{before}");
    for args in [
        &["connector", "list"][..],
        &["status"],
        &["connector", "show", "cloud"],
    ] {
        let out = ok(bin(d).args(args).env("MY_SECRET", SECRET));
        let said = text(&out);
        assert!(
            said.contains("warning: connector 'cloud' differs from ")
                && said.contains("config.toml (url, key_id); the file is applied by the next"),
            "{args:?}: {said}"
        );
    }
    for args in [&["findings"][..], &["map", "list"], &["token", "list"]] {
        let said = text(&ok(bin(d).args(args).env("MY_SECRET", SECRET)));
        assert!(!said.contains("warning"), "{args:?}: {said}");
    }
    let after = stored(d);
    assert_eq!(after["url"], before["url"], "{after}");
    assert_eq!(after["key_id"], "tenant-b", "{after}");
    assert_eq!(after["cursor"], before["cursor"], "{after}");

    // A mistyped data directory stays empty.
    let typo = dir.path().join("typo");
    for args in [
        &["status"][..],
        &["findings"],
        &["token", "list"],
        &["map", "show", "default"],
        &["connector", "list"],
    ] {
        let _ = bin(&typo)
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("MY_SECRET", SECRET)
            .output()
            .expect("runs");
        assert!(made_in(&typo).is_empty(), "{args:?}: {:?}", made_in(&typo));
    }

    // A second worker on the same store without the master key still shows the status.
    let worker = tempfile::tempdir().expect("tempdir");
    let status = ok(bin(worker.path())
        .arg("--config")
        .arg(&config)
        .arg("--store")
        .arg(d.join("store.sqlite3"))
        .args(["status"])
        .env("MY_SECRET", SECRET));
    assert!(text(&status).contains("cloud"), "{}", text(&status));
    assert!(!worker.path().join("master.key").exists());
}

/// The config file's secret variable is read as `connector add` reads
/// $APPSCAN_KEY_SECRET: an empty one is refused, naming it (it replaced the stored
/// working secret silently, and `config validate` passed), and surrounding whitespace is
/// trimmed (a trailing space made every login fail with 401).
#[tokio::test(flavor = "multi_thread")]
async fn a_config_secret_variable_is_trimmed_and_an_empty_one_refused() {
    let sim = sim().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    cloud_config(&d.join("config.toml"), &sim.base_url());
    ok(bin(d)
        .args(["sync", "cloud", "--quiet"])
        .env("MY_SECRET", format!(" {SECRET} \n")));
    let empty = "config.toml:6: connector 'cloud': environment variable MY_SECRET is set but empty";
    let err = fails(
        bin(d)
            .args(["config", "validate"])
            .arg(d.join("config.toml"))
            .env("MY_SECRET", ""),
    );
    assert!(err.contains(empty), "{err}");
    let err = fails(bin(d).args(["sync", "cloud"]).env("MY_SECRET", ""));
    assert!(err.contains(empty), "{err}");
    // The stored secret still works.
    ok(bin(d).args(["sync", "cloud", "--quiet"]));
}

/// Relative paths in the config file are beside the file, stored absolute: a `ca_file`
/// was stored relative to the current directory ("d1/ca.pem" under `--data-dir d1`) and
/// a `serve` started elsewhere failed every run; a `store = "rel.sqlite3"` was opened in
/// whatever directory a command ran in.
#[test]
fn relative_paths_in_the_config_file_are_beside_it() {
    let top = tempfile::tempdir().expect("tempdir");
    let d1 = top.path().join("d1");
    std::fs::create_dir(&d1).expect("mkdir");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../asoc/tests/fixtures/test-ca.pem"
        ),
        d1.join("ca.pem"),
    )
    .expect("copy a CA");
    std::fs::write(
        d1.join("config.toml"),
        "store = \"rel.sqlite3\"\n\n[[connector]]\nname = \"cloud\"\nkind = \"asoc\"\n\
         url = \"https://127.0.0.1:9\"\nkey_id = \"k\"\nkey_secret_env = \"MY_SECRET\"\n\
         ca_file = \"ca.pem\"\n",
    )
    .expect("write");
    ok(bin(Path::new("d1"))
        .current_dir(top.path())
        .args(["connector", "add", "xml", "--name", "x"])
        .env("MY_SECRET", SECRET));
    assert!(
        d1.join("rel.sqlite3").is_file(),
        "{:?}",
        made_in(top.path())
    );
    assert!(!top.path().join("rel.sqlite3").exists());
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let shown =
        ok(bin(&d1)
            .current_dir(elsewhere.path())
            .args(["connector", "show", "cloud", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("json");
    let ca = d1.canonicalize().expect("d1").join("ca.pem");
    assert_eq!(
        v["settings"]["ca_file"],
        ca.display().to_string(),
        "{}",
        text(&shown)
    );
    assert!(made_in(elsewhere.path()).is_empty());
}

/// A config file naming a map that is not stored yet does not block the map commands
/// that make it (`map list`, `map clone` failed with "map 'mine' does not exist"), and
/// the command that applies the file names the file, line and connector.
#[test]
fn a_config_naming_a_new_map_leaves_the_map_commands_free() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("config.toml"),
        "\n[[connector]]\nname = \"reports\"\nkind = \"xml\"\nmap = \"mine\"\n",
    )
    .expect("write");
    let err = fails(bin(d).args(["connector", "add", "xml", "--name", "other"]));
    assert!(
        err.contains("config.toml:2: connector 'reports': map 'mine' does not exist"),
        "{err}"
    );
    ok(bin(d).args(["map", "list"]));
    ok(bin(d).args(["map", "clone", "default", "mine"]));
    ok(bin(d).args(["map", "show", "mine"]));
    ok(bin(d).args(["connector", "add", "xml", "--name", "other"]));
    let listed = text(&ok(bin(d).args(["connector", "list"])));
    assert!(
        listed.contains("reports") && listed.contains("other"),
        "{listed}"
    );
}

/// A connector taken out of the config file, or renamed there, keeps its schedule in the
/// store and `serve` keeps syncing it (a renamed one synced its tenant twice): `status`
/// (and `serve`) say so, naming `connector remove`.
#[test]
fn a_scheduled_connector_the_file_no_longer_declares_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let declare = |name: &str| {
        std::fs::write(
            d.join("config.toml"),
            format!(
                "[[connector]]\nname = \"{name}\"\nkind = \"asoc\"\nurl = \"https://127.0.0.1:9\"\n\
                 key_id = \"k\"\nkey_secret_env = \"MY_SECRET\"\nschedule = \"6h\"\n"
            ),
        )
        .expect("write");
    };
    declare("old");
    ok(bin(d)
        .args(["connector", "add", "xml", "--name", "x"])
        .env("MY_SECRET", SECRET));
    let said = text(&ok(bin(d).args(["status"])));
    assert!(!said.contains("has a schedule"), "{said}");
    declare("renamed");
    let said = text(&ok(bin(d).args(["status"])));
    assert!(
        said.contains("warning: connector 'old' has a schedule but is not declared in ")
            && said.contains("`connector remove old`"),
        "{said}"
    );
}

/// What a connector fetches changes with its URL or its application filter: the next sync
/// is a full one. A delta asked the new scope for what changed since the old one's
/// cursor, fetched nothing and never brought the rest. An empty filter removes it (it
/// was stored as "" and every sync failed with the server's 400).
#[tokio::test(flavor = "multi_thread")]
async fn a_new_url_or_app_filter_makes_the_next_sync_full() {
    let sim = sim().await;
    let other = common::sim(2, 10, 7).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(bin(d)
        .args([
            "connector",
            "add",
            "asoc",
            "--name",
            "cloud",
            "--url",
            &sim.base_url(),
            "--key-id",
            "sim-key-id",
            "--rate-limit",
            "0",
            "--app-filter",
            "Name eq 'no such application'",
        ])
        .env("APPSCAN_KEY_SECRET", SECRET));
    let sync = |d: &std::path::Path| {
        common::json(&ok(bin(d)
            .args(["sync", "cloud", "--json"])
            .env("APPSCAN_KEY_SECRET", SECRET)))
    };
    let assets = |d: &std::path::Path| {
        common::json(&ok(bin(d).args(["assets", "--json"])))
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    };
    assert_eq!(sync(d)["run"]["mode"], "full");
    assert_eq!(assets(d), 0, "the filter matched nothing");
    assert_eq!(sync(d)["run"]["mode"], "delta");

    ok(bin(d).args(["connector", "edit", "cloud", "--app-filter", ""]));
    let shown = common::json(&ok(bin(d).args(["connector", "show", "cloud", "--json"])));
    assert!(shown["settings"]["app_filter"].is_null(), "{shown}");
    let run = sync(d);
    assert_eq!(run["run"]["mode"], "full", "{run}");
    assert_eq!(assets(d), 3, "every application once the filter is gone");
    assert_eq!(sync(d)["run"]["mode"], "delta");

    ok(bin(d).args(["connector", "edit", "cloud", "--url", &other.base_url()]));
    let run = sync(d);
    assert_eq!(run["run"]["mode"], "full", "{run}");
    assert_eq!(assets(d), 5, "the other server's two applications too");
    // Editing anything else keeps the cursor.
    ok(bin(d).args(["connector", "edit", "cloud", "--page-size", "9"]));
    assert_eq!(sync(d)["run"]["mode"], "delta");
}

/// Runs the binary, which must succeed, without `--data-dir` (`bin` gives one) in `cwd`
/// with `home` as the home directory, no `APPSCAN_BRIDGE_*` variable but `vars`; returns
/// what it printed.
fn at_home(home: &Path, cwd: &Path, vars: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_appscan-bridge"));
    for name in [
        "APPSCAN_BRIDGE_DATA_DIR",
        "APPSCAN_BRIDGE_STORE",
        "APPSCAN_BRIDGE_CONFIG",
        "APPSCAN_BRIDGE_MASTER_KEY",
        "XDG_DATA_HOME",
    ] {
        cmd.env_remove(name);
    }
    let out = cmd
        .envs(vars.iter().copied())
        .env("HOME", home)
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    text(&out)
}

/// `~/` at the start of a quoted `--data-dir` or `--store` (no shell expanded it: a
/// service unit, a variable set in a file) is the home directory, not a directory named
/// `~` under the current one.
#[test]
fn a_leading_tilde_is_the_home_directory() {
    let home = tempfile::tempdir().expect("home");
    let cwd = tempfile::tempdir().expect("cwd");
    let run = |args: &[&str]| at_home(home.path(), cwd.path(), &[], args);
    run(&[
        "--data-dir",
        "~/bridge-data",
        "map",
        "clone",
        "default",
        "m",
    ]);
    assert!(home.path().join("bridge-data/store.sqlite3").is_file());
    run(&[
        "--data-dir",
        "~/bridge-data",
        "--store",
        "~/other.sqlite3",
        "map",
        "clone",
        "default",
        "m",
    ]);
    assert!(home.path().join("other.sqlite3").is_file());
    assert!(
        !cwd.path().join("~").exists(),
        "a directory named ~ was made"
    );
    // Data an older version left in `./~/…` (it read the `~` literally) stays in use,
    // with a warning, until it is moved: a command that writes started an empty store
    // in the home directory beside it.
    run(&[
        "--data-dir",
        "./~/old-data",
        "map",
        "clone",
        "default",
        "kept",
    ]);
    let said = run(&["--data-dir", "~/old-data", "map", "list"]);
    assert!(said.contains("made by an older version"), "{said}");
    assert!(said.contains("kept"), "{said}");
    assert!(!home.path().join("old-data").exists());
}

/// An empty `$APPSCAN_BRIDGE_DATA_DIR`, `$APPSCAN_BRIDGE_CONFIG` or `$APPSCAN_BRIDGE_STORE`
/// (`VAR=` in a unit file or a script) is as good as unset: the data directory was the
/// current one, the config file "" (":0: cannot read"), the store "bad store URL ''".
#[test]
fn an_empty_path_variable_is_as_unset() {
    let home = tempfile::tempdir().expect("home");
    let cwd = tempfile::tempdir().expect("cwd");
    let empty = [
        ("APPSCAN_BRIDGE_DATA_DIR", ""),
        ("APPSCAN_BRIDGE_CONFIG", ""),
        ("APPSCAN_BRIDGE_STORE", ""),
    ];
    let run = |args: &[&str]| at_home(home.path(), cwd.path(), &empty, args);
    run(&["connector", "add", "xml", "--name", "kept"]);
    let listed = run(&["connector", "list"]);
    assert!(listed.contains("kept"), "{listed}");
    let data = home.path().join(".local/share/appscan-bridge");
    assert!(data.join("store.sqlite3").is_file());
    let made: Vec<_> = std::fs::read_dir(cwd.path())
        .expect("cwd")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(made.is_empty(), "made in the current directory: {made:?}");
}

/// `sim --rate-limit N` answers 429 past N requests a minute, as ASoC does: a by-hand
/// trial can see the client's pacing and retries against it (the flag did not exist).
#[test]
fn the_simulator_can_limit_requests_per_minute() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut child = bin(d)
        .args(["sim", "--port", "0", "--apps", "3", "--issues-per-app", "5"])
        .args(["--rate-limit", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sim starts");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the URL line");
    let url = first.trim().rsplit(' ').next().expect("a URL").to_string();
    ok(bin(d)
        .args(["connector", "add", "asoc", "--name", "c", "--url", &url])
        .args([
            "--key-id",
            "sim-key-id",
            "--rate-limit",
            "0",
            "--max-retries",
            "0",
        ])
        .env("APPSCAN_KEY_SECRET", SECRET));
    let out = bin(d).args(["sync", "c"]).output().expect("sync runs");
    let said = text(&out);
    let _ = child.kill();
    let _ = child.wait();
    assert!(said.contains("429"), "{said}");
}

/// An ase connector's `--time-zone` (the zone whose wall-clock times the server's dates
/// are) is checked when given, shown where the date format is, and removed with an empty
/// value.
#[test]
fn an_ase_connectors_time_zone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let add = |zone: &str| {
        let mut c = bin(d);
        c.args(["connector", "add", "ase", "--name", "onprem"])
            .args(["--url", "https://ase.example.test:9443", "--key-id", "k"])
            .args(["--time-zone", zone])
            .env("APPSCAN_KEY_SECRET", SECRET);
        c
    };
    let err = fails(&mut add("Europe/Berlinn"));
    assert!(
        err.contains("time_zone: unknown time zone 'Europe/Berlinn'")
            && err.contains("'Europe/Berlin' or 'America/New_York'"),
        "{err}"
    );
    let err = fails(&mut add("america/new_york"));
    assert!(err.contains("did you mean 'America/New_York'"), "{err}");
    ok(&mut add("America/New_York"));
    let show = |json: bool| {
        let mut c = bin(d);
        c.args(["connector", "show", "onprem"]);
        if json {
            c.arg("--json");
        }
        ok(&mut c)
    };
    let v: serde_json::Value = serde_json::from_slice(&show(true).stdout).expect("json");
    assert_eq!(v["settings"]["time_zone"], "America/New_York", "{v}");
    let said = text(&show(false));
    assert!(
        said.lines()
            .any(|l| l.contains("time_zone") && l.contains("America/New_York")),
        "{said}"
    );
    let list: serde_json::Value =
        serde_json::from_slice(&ok(bin(d).args(["connector", "list", "--json"])).stdout)
            .expect("json");
    assert_eq!(
        list[0]["settings"]["time_zone"], "America/New_York",
        "{list}"
    );

    let err = fails(bin(d).args(["connector", "edit", "onprem", "--time-zone", "CEST"]));
    assert!(err.contains("unknown time zone 'CEST'"), "{err}");
    ok(bin(d).args([
        "connector",
        "edit",
        "onprem",
        "--time-zone",
        "Europe/Berlin",
    ]));
    let v: serde_json::Value = serde_json::from_slice(&show(true).stdout).expect("json");
    assert_eq!(v["settings"]["time_zone"], "Europe/Berlin", "{v}");
    // An empty value goes back to UTC, as `--date-format ''` goes back to the default.
    ok(bin(d).args(["connector", "edit", "onprem", "--time-zone", ""]));
    let v: serde_json::Value = serde_json::from_slice(&show(true).stdout).expect("json");
    assert!(v["settings"]["time_zone"].is_null(), "{v}");
    assert!(!text(&show(false)).contains("time_zone"));
}

/// `sim --ase --time-zone ZONE` writes its dates as wall-clock times of ZONE and says
/// so; a zone that is not one is refused before it listens.
#[test]
fn the_ase_simulator_writes_dates_in_its_time_zone() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let err = fails(bin(d).args(["sim", "--ase", "--port", "0", "--time-zone", "Nowhere"]));
    assert!(
        err.contains("--time-zone: unknown time zone 'Nowhere'"),
        "{err}"
    );
    let mut child = bin(d)
        .args([
            "sim",
            "--ase",
            "--port",
            "0",
            "--apps",
            "1",
            "--issues-per-app",
            "1",
        ])
        .args(["--time-zone", "America/New_York"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sim starts");
    let stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let dates = stdout
        .lines()
        .map_while(Result::ok)
        .take(8)
        .find(|l| l.trim_start().starts_with("dates:"));
    let _ = child.kill();
    let _ = child.wait();
    let dates = dates.expect("a dates line");
    assert!(dates.contains("local times of America/New_York"), "{dates}");
}

/// A kind that is none is said before anything else: it was "an foo connector needs
/// --url", then "needs --key-id", and only with both given "unknown connector kind".
#[test]
fn an_unknown_connector_kind_is_named_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bin(dir.path())
        .args(["connector", "add", "foo", "--name", "a"])
        .output()
        .expect("binary runs");
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let said = text(&out);
    assert!(
        said.contains("'foo'") && said.contains("asoc, ase, xml"),
        "{said}"
    );
    assert!(!said.contains("--url"), "{said}");
}

/// `$APPSCAN_BRIDGE_LOG_FORMAT` chooses the log's format as `--log-format` does: `json`
/// makes even the error that ends a command a JSON line, a value naming no format is
/// refused naming the variable, and an empty one is as unset.
#[test]
fn the_log_format_can_come_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(bin(d).args(["connector", "add", "xml", "--name", "reports"]));
    let out = bin(d)
        .args(["sync", "nosuch"])
        .env("APPSCAN_BRIDGE_LOG_FORMAT", "json")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let last = lines.last().expect("an error line");
    assert_eq!(last["level"], "ERROR", "{err}");
    assert!(
        last["message"]
            .as_str()
            .is_some_and(|m| m.contains("nosuch")),
        "{err}"
    );

    let said = fails(
        bin(d)
            .args(["connector", "list"])
            .env("APPSCAN_BRIDGE_LOG_FORMAT", "xml"),
    );
    assert!(
        said.contains("$APPSCAN_BRIDGE_LOG_FORMAT is 'xml': expected text or json"),
        "{said}"
    );
    // The flag wins over the variable; an empty variable is as unset.
    ok(bin(d)
        .args(["--log-format", "text", "connector", "list"])
        .env("APPSCAN_BRIDGE_LOG_FORMAT", "xml"));
    let out = bin(d)
        .args(["sync", "nosuch"])
        .env("APPSCAN_BRIDGE_LOG_FORMAT", "")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
}
