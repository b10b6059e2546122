//! `connector add`, `connector list`.

use super::Ctx;
use crate::args::{AddArgs, SettingsArgs};
use crate::output;
use crate::secret_input::read_secret;
use runner::{AddConnector, Settings};
use std::process::ExitCode;

/// A `--schedule` `serve` could not run is refused when it is given, as `config validate`
/// refuses it in a file, not found later by the scheduler. An empty one takes the
/// schedule away.
fn check_schedule(a: &SettingsArgs) -> anyhow::Result<()> {
    if let Some(text) = a.schedule.as_deref().filter(|t| !t.trim().is_empty()) {
        server::schedule::Schedule::check(text)?;
    }
    Ok(())
}

/// Applies the flags a user gave onto settings.
pub fn apply(s: &mut Settings, a: SettingsArgs) {
    if let Some(v) = a.description {
        s.description = Some(v);
    }
    if let Some(v) = a.schedule {
        s.schedule = Some(v).filter(|t| !t.trim().is_empty());
    }
    if let Some(v) = a.page_size {
        s.page_size = v;
    }
    if let Some(v) = a.concurrency {
        s.concurrency = v;
    }
    if let Some(v) = a.rate_limit {
        s.rate_limit_per_minute = v;
    }
    if let Some(v) = a.failure_threshold {
        s.failure_threshold = v;
    }
    if let Some(v) = a.map {
        s.map = v;
    }
    if let Some(v) = a.app_filter {
        // An empty value removes the filter (as for --schedule).
        s.app_filter = Some(v).filter(|f| !f.trim().is_empty());
    }
    if let Some(v) = a.overlap {
        s.overlap_seconds = v;
    }
    if let Some(v) = a.ca_file {
        // An empty value goes back to the system's CAs alone (as for --schedule).
        // Stored absolute: a service or cron job runs in another directory.
        s.ca_file = Some(v).filter(|f| !f.trim().is_empty()).map(|f| {
            std::path::absolute(&f)
                .map(|p| p.display().to_string())
                .unwrap_or(f)
        });
    }
    if let Some(v) = a.max_retries {
        s.max_retries = v;
    }
    if let Some(v) = a.retry_base_ms {
        s.retry_base_ms = v;
    }
    if let Some(v) = a.timeout_seconds {
        s.timeout_seconds = v;
    }
    if let Some(v) = a.fetch_details {
        s.fetch_details = v;
    }
    apply_full_run(&mut s.full_run, a.full_run);
}

/// Applies the full-run options (ase, xml connectors).
fn apply_full_run(o: &mut runner::FullRunOptions, a: crate::args::FullRunArgs) {
    if let Some(v) = a.exclude_informational {
        o.exclude_informational = v;
    }
    if let Some(v) = a.skip_tags {
        o.skip_tags = v;
    }
    if let Some(v) = a.ignore_last_seen {
        o.ignore_last_seen = v;
    }
    if let Some(v) = a.reset_tags {
        o.reset_tags = v;
    }
    if let Some(v) = a.locators {
        o.locators = runner::FullRunOptions::parse_locators(&v);
    }
    if let Some(v) = a.asset_inactivity_days {
        o.asset_inactivity_days = (v > 0).then_some(v);
    }
    if let Some(v) = a.unknown_severity {
        o.unknown_severity = v;
    }
    if let Some(v) = a.date_format {
        o.date_format = Some(v).filter(|f| !f.trim().is_empty());
    }
    if let Some(v) = a.time_zone {
        // An empty value goes back to UTC (as for --date-format).
        o.time_zone = Some(v.trim().to_string()).filter(|z| !z.is_empty());
    }
}

/// The full-run options (`--exclude-informational` … `--unknown-severity`) shape ASE and
/// XML runs only; given for an asoc connector they were stored and silently ignored. And
/// `--fetch-details` is asoc's, `--date-format` and `--time-zone` ASE's (the dates of the
/// server's pages), and an xml connector, which reads files, has no server: its URL, key
/// and request options (`--url`, `--key-id`, `--page-size` … `--timeout-seconds`) were
/// stored and shown by `connector show`, and meant nothing.
fn check_flags_for_kind(
    kind: &str,
    url: bool,
    key_id: bool,
    a: &SettingsArgs,
) -> anyhow::Result<()> {
    if kind == "xml" {
        let server_only = [
            ("--url", url),
            ("--key-id", key_id),
            ("--page-size", a.page_size.is_some()),
            ("--concurrency", a.concurrency.is_some()),
            ("--rate-limit", a.rate_limit.is_some()),
            ("--app-filter", a.app_filter.is_some()),
            ("--overlap", a.overlap.is_some()),
            ("--ca-file", a.ca_file.is_some()),
            ("--max-retries", a.max_retries.is_some()),
            ("--retry-base-ms", a.retry_base_ms.is_some()),
            ("--timeout-seconds", a.timeout_seconds.is_some()),
        ];
        let named = given_flags(&server_only);
        if !named.is_empty() {
            anyhow::bail!(
                "{}: options of connectors that fetch from a server, which an xml connector does not (it reads the report files given to `import`)",
                named.join(", ")
            );
        }
    }
    let f = &a.full_run;
    let given = [
        ("--exclude-informational", f.exclude_informational.is_some()),
        ("--skip-tags", f.skip_tags.is_some()),
        ("--ignore-last-seen", f.ignore_last_seen.is_some()),
        ("--reset-tags", f.reset_tags.is_some()),
        ("--locators", f.locators.is_some()),
        ("--asset-inactivity-days", f.asset_inactivity_days.is_some()),
        ("--unknown-severity", f.unknown_severity.is_some()),
    ];
    let named = given_flags(&given);
    if kind == "asoc" && !named.is_empty() {
        anyhow::bail!(
            "{}: options of ASE and XML runs, which an asoc connector does not use (AppScan on Cloud reports statuses and severities itself)",
            named.join(", ")
        );
    }
    let ase_only = [
        ("--date-format", f.date_format.is_some()),
        ("--time-zone", f.time_zone.is_some()),
    ];
    let named = given_flags(&ase_only);
    if kind != "ase" && !named.is_empty() {
        anyhow::bail!(
            "{}: an option of ase connectors (the dates in an ASE server's pages), not of an {kind} connector",
            named.join(", ")
        );
    }
    if kind != "asoc" && a.fetch_details.is_some() {
        anyhow::bail!(
            "--fetch-details: an option of asoc connectors (an {kind} connector's records carry their details)"
        );
    }
    Ok(())
}

/// The flags of `(flag, given)` pairs that were given.
fn given_flags<'a>(flags: &[(&'a str, bool)]) -> Vec<&'a str> {
    flags.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect()
}

pub fn add(ctx: &Ctx, a: AddArgs) -> anyhow::Result<ExitCode> {
    check_schedule(&a.settings)?;
    check_flags_for_kind(&a.kind, a.url.is_some(), a.key_id.is_some(), &a.settings)?;
    let mut settings = Settings::default();
    apply(&mut settings, a.settings);
    settings.validate().map_err(anyhow::Error::msg)?;
    let needs_key = a.kind != "xml";
    if needs_key && a.url.is_none() {
        anyhow::bail!("an {} connector needs --url", a.kind);
    }
    if needs_key && a.key_id.is_none() {
        anyhow::bail!("an {} connector needs --key-id", a.kind);
    }
    let secret = if needs_key {
        Some(read_secret("API key secret: ")?)
    } else {
        None
    };
    let c = ctx.runner.add_connector(AddConnector {
        name: a.name,
        kind: a.kind,
        url: a.url,
        key_id: a.key_id,
        secret,
        settings,
    })?;
    if !ctx.quiet {
        let next = match runner::connectors::import_only(&c.kind, &c.name) {
            Some(_) => format!("appscan-bridge import FILE --connector {}", c.name),
            None => format!("appscan-bridge sync {}", c.name),
        };
        println!(
            "Registered {} connector '{}' ({}). Next: {next}",
            c.kind,
            c.name,
            c.url.as_deref().unwrap_or("no URL"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A stored connector as it is shown: a password in its URL (`user:pass@host`, which
/// registration refuses now but older versions stored) as `***`.
fn shown(mut c: store::Connector) -> store::Connector {
    c.url = c.url.map(|u| apiclient::base_url::shown(&u));
    c
}

pub fn list(ctx: &Ctx, json: bool) -> anyhow::Result<ExitCode> {
    let connectors: Vec<_> = ctx
        .runner
        .store
        .connectors()?
        .into_iter()
        .map(shown)
        .collect();
    if json {
        output::json(&connectors)?;
        return Ok(ExitCode::SUCCESS);
    }
    if connectors.is_empty() {
        println!(
            "No connectors yet. Add one with: appscan-bridge connector add asoc --name NAME --url URL --key-id ID"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::table(&[
        "name",
        "kind",
        "url",
        "key id",
        "state",
        "cursor",
        "description",
    ]);
    for c in connectors {
        let desc = c
            .settings
            .get("description")
            .and_then(|d| d.as_str())
            .unwrap_or("")
            .to_string();
        t.add_row(vec![
            c.name,
            c.kind,
            c.url.unwrap_or_default(),
            c.key_id.unwrap_or_default(),
            c.state.to_string(),
            output::time_opt(c.cursor),
            output::cut(&desc, 40),
        ]);
    }
    output::print_table(&t);
    Ok(ExitCode::SUCCESS)
}

pub fn show(ctx: &Ctx, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let c = shown(ctx.runner.connector(name)?);
    let secret = if c.secret.is_some() {
        "••••"
    } else {
        "(none)"
    };
    if json {
        let mut v = serde_json::to_value(&c)?;
        v["key_secret"] = serde_json::json!(secret);
        output::json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} ({})", c.name, c.kind);
    println!(
        "  url:        {}",
        output::line(c.url.as_deref().unwrap_or("-"))
    );
    println!(
        "  key id:     {}",
        output::line(c.key_id.as_deref().unwrap_or("-"))
    );
    println!("  key secret: {secret}");
    println!(
        "  state:      {}{}",
        c.state,
        c.state_reason
            .as_deref()
            .map(|r| format!(" — {}", output::line(r)))
            .unwrap_or_default()
    );
    println!("  cursor:     {}", output::time_opt(c.cursor));
    if let Some(settings) = c.settings.as_object() {
        for (k, v) in settings {
            if !v.is_null() {
                println!("  {k:<22}{}", output::line(&v.to_string()));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn edit(ctx: &Ctx, a: crate::args::EditArgs) -> anyhow::Result<ExitCode> {
    check_schedule(&a.settings)?;
    let before = ctx.runner.connector(&a.name)?;
    check_flags_for_kind(
        &before.kind,
        a.url.is_some(),
        a.key_id.is_some(),
        &a.settings,
    )?;
    let c = ctx.runner.edit_connector(
        &a.name,
        runner::connectors::EditConnector {
            url: a.url,
            key_id: a.key_id,
        },
        |s| apply(s, a.settings),
    )?;
    // `connector edit NAME` alone said "updated".
    let unchanged = before.url == c.url
        && before.key_id == c.key_id
        && Settings::from_json(&before.settings).ok() == Settings::from_json(&c.settings).ok();
    if unchanged {
        println!(
            "Connector '{}' was not changed: no option was given, or each already had that value (`connector edit --help` lists them).",
            c.name
        );
    } else {
        ctx.confirm(format_args!("Connector '{}' updated.", c.name));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove(ctx: &Ctx, name: &str) -> anyhow::Result<ExitCode> {
    ctx.runner.remove_connector(name)?;
    ctx.confirm(format_args!(
        "Connector '{name}' removed with its runs and data."
    ));
    Ok(ExitCode::SUCCESS)
}

pub async fn rotate_key(ctx: &Ctx, name: &str, key_id: Option<String>) -> anyhow::Result<ExitCode> {
    let secret = read_secret("New API key secret: ")?;
    let c = ctx.runner.rotate_key(name, key_id, secret).await?;
    ctx.confirm(format_args!(
        "The new key (id {}) logged in and is saved for '{}'.",
        c.key_id.as_deref().unwrap_or("-"),
        c.name
    ));
    Ok(ExitCode::SUCCESS)
}
