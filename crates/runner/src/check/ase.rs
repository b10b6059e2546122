//! Checks 3–5 of an ASE connector: the key login (`POST /ase/api/keylogin/apikeylogin`),
//! listing applications (`GET /ase/api/applications`), and one page of applications and
//! of the first application's issues (with details) mapped with the connector's map.
//! The session is logged out at the end whatever happened.

use super::{Checks, Outcome};
use crate::settings::Settings;
use crate::sources::ase::sample;
use crate::{Runner, RunnerError, maps};
use ase::{AseClient, AseConfig, AseError};
use futures::StreamExt;
use std::time::{Duration, Instant};
use store::Connector;

/// Runs checks 3–5 and pushes their results.
pub(super) async fn checks(
    runner: &Runner,
    connector: &Connector,
    settings: &Settings,
    url: &str,
    checks: &mut Checks,
) -> Result<(), RunnerError> {
    // 3. Authentication.
    let t = Instant::now();
    let Some(secret) = runner.open_secret(connector)? else {
        checks.push(
            t,
            Outcome::Failed,
            "the connector has no key secret",
            Some("set one with `connector rotate-key NAME`"),
        );
        checks.skip_rest("authentication failed");
        return Ok(());
    };
    let mut cfg = AseConfig::new(url, connector.key_id.clone().unwrap_or_default(), secret);
    cfg.max_retries = 1;
    cfg.retry_base_delay = Duration::from_millis(200);
    cfg.rate_limit_per_minute = 0;
    cfg.timeout = Duration::from_secs(settings.timeout_seconds.max(1));
    cfg.ca_file = settings.ca_file.as_ref().map(Into::into);
    cfg.page_size = settings.page_size;
    let client = match AseClient::new(cfg) {
        Ok(c) => c,
        Err(e) => {
            checks.push(
                t,
                Outcome::Failed,
                e.to_string(),
                Some("fix the connector's settings"),
            );
            checks.skip_rest("the client could not be configured");
            return Ok(());
        }
    };
    if let Err(e) = client.login().await {
        let (reason, hint) = match &e {
            AseError::Auth { status: 401, .. } => (
                "401: the key id or key secret is wrong, or the key was revoked or regenerated"
                    .to_string(),
                "create a new API key in ASE (My Account → API key) and run `connector rotate-key NAME`",
            ),
            AseError::Auth { status, message } => (
                format!("{status}: the login was refused: {message}"),
                "check the key's user in ASE",
            ),
            other => (other.to_string(), "see the reason"),
        };
        // A key that is not wrong at all, at a URL that is no ASE, fails the same way.
        let refused = match &e {
            AseError::Auth { status, .. } => Some(*status),
            _ => None,
        };
        let found = super::product::ase_login_elsewhere(url, settings).await;
        let (reason, hint) = super::product::login_failure(reason, hint, refused, found);
        let proxy = apiclient::proxy::for_url(url);
        let (reason, hint) = super::proxy::at_login(proxy.as_ref(), e.status(), reason, hint);
        checks.push(t, Outcome::Failed, reason, Some(&hint));
        checks.skip_rest("authentication failed");
        return Ok(());
    }
    checks.push(
        t,
        Outcome::Passed,
        format!(
            "logged in with key id {}",
            connector.key_id.as_deref().unwrap_or("")
        ),
        None,
    );
    let result = scope_and_fetch(runner, connector, settings, &client, checks).await;
    client.logout().await;
    result
}

/// Checks 4 and 5 on a logged-in client.
async fn scope_and_fetch(
    runner: &Runner,
    connector: &Connector,
    settings: &Settings,
    client: &AseClient,
    checks: &mut Checks,
) -> Result<(), RunnerError> {
    // 4. Authorization scope.
    let t = Instant::now();
    let apps = match std::pin::pin!(client.application_pages()).next().await {
        None => Vec::new(),
        Some(Ok(page)) => page.items,
        Some(Err(AseError::Forbidden { endpoint, message })) => {
            checks.push(
                t,
                Outcome::Failed,
                format!("403 on {endpoint}: the key's user may not list applications ({message})"),
                Some("give the key's user a role that may view the applications (ASE: Administration → Users and Groups)"),
            );
            checks.skip_rest("the key lacks permission");
            return Ok(());
        }
        Some(Err(e)) => {
            checks.push(t, Outcome::Failed, e.to_string(), Some("see the reason"));
            checks.skip_rest("listing applications failed");
            return Ok(());
        }
    };
    checks.push(
        t,
        Outcome::Passed,
        format!(
            "the key's user may list applications ({} on the first page)",
            apps.len()
        ),
        None,
    );

    // 5. Data fetch.
    let t = Instant::now();
    let map = match maps::load(runner.store.as_ref(), &settings.map) {
        Ok(m) => m,
        Err(e) => {
            checks.push(
                t,
                Outcome::Failed,
                e.to_string(),
                Some("fix or reassign the map"),
            );
            return Ok(());
        }
    };
    let map = crate::full_run::map_for(map, Some(settings.full_run.unknown_severity()));
    let dates = match settings.full_run.server_dates() {
        Ok(d) => d,
        Err(e) => {
            checks.push(
                t,
                Outcome::Failed,
                e,
                Some("fix it: `connector edit NAME --time-zone Europe/Berlin` (an IANA name, or UTC)"),
            );
            return Ok(());
        }
    };
    let s = match sample(client, &settings.full_run, &dates, &apps).await {
        Ok(s) => s,
        Err(e) => {
            checks.push(
                t,
                Outcome::Failed,
                e.to_string(),
                Some("the issue listing is not readable"),
            );
            return Ok(());
        }
    };
    let mut failures = Vec::new();
    for (i, raw) in s.assets.iter().enumerate() {
        if let Err(e) = map.apply_asset(raw) {
            failures.push(format!(
                "GET /ase/api/applications $[{i}]{}: {}",
                e.path.trim_start_matches('$'),
                e.message
            ));
        }
    }
    if let Some((app, location)) = &s.app {
        for (i, raw) in s.findings.iter().enumerate() {
            if let Err(e) = map.apply_finding(raw, app) {
                failures.push(format!(
                    "{location} $[{i}]{}: {}",
                    e.path.trim_start_matches('$'),
                    e.message
                ));
            }
        }
    }
    let total = s.assets.len() + s.findings.len();
    // Dates a run would leave out: most of them unreadable is a server locale the
    // connector does not know (every firstFound and lastFound would be empty).
    if s.bad_dates * 2 > s.findings.len().max(1) {
        checks.push(
            t,
            Outcome::Failed,
            format!(
                "{} of {} issues have dates that do not read; first: {}",
                s.bad_dates,
                s.findings.len(),
                s.first_bad_date.as_deref().unwrap_or("")
            ),
            Some("give the server's date format: `connector edit NAME --date-format '%d.%m.%y %H:%M'`"),
        );
        return Ok(());
    }
    if failures.is_empty() {
        checks.push(
            t,
            Outcome::Passed,
            format!(
                "{} applications and {} issues with details fetched; all parse with map '{}'; {}",
                s.assets.len(),
                s.findings.len(),
                settings.map,
                zone_said(settings.full_run.time_zone.as_deref())
            ),
            None,
        );
    } else {
        checks.push(
            t,
            Outcome::Failed,
            format!(
                "{} of {total} records do not parse with map '{}'; first: {}",
                failures.len(),
                settings.map,
                failures[0]
            ),
            Some(
                format!(
                    "fix the map (`map show {}`) or see `appscan-bridge check {} --json`",
                    settings.map, connector.name
                )
                .as_str(),
            ),
        );
    }
    Ok(())
}

/// The zone a run reads the server's dates in, as the data fetch says it: a server that
/// is not on UTC without `--time-zone` has every date off by its offset, and nothing
/// else shows it.
fn zone_said(time_zone: Option<&str>) -> String {
    match time_zone {
        Some(z) => format!("dates read as local times of {z}"),
        None => "dates read as UTC (`--time-zone` names the server's zone if it is another)".into(),
    }
}
