//! Which AppScan product answers at a URL, for a login that failed: an `asoc` connector
//! pointed at an AppScan Enterprise server (or an `ase` connector at something else)
//! fails its login like a wrong key would, and the check should say which it is. ASE's
//! `GET /ase/api/version` needs no session, so it tells without any key.

use crate::settings::Settings;
use ase::{AseClient, AseConfig};
use secrecy::SecretString;
use std::time::Duration;

/// The version an AppScan Enterprise API at `url` reports without a session, if one
/// answers there.
pub(super) async fn ase_version(url: &str, settings: &Settings) -> Option<String> {
    // The probe sends no key: any id and secret make a valid configuration.
    let mut cfg = AseConfig::new(url, "probe", SecretString::from("probe"));
    cfg.max_retries = 0;
    cfg.rate_limit_per_minute = 0;
    cfg.timeout = Duration::from_secs(settings.timeout_seconds.clamp(1, 10));
    cfg.ca_file = settings.ca_file.as_ref().map(Into::into);
    let answer = AseClient::new(cfg).ok()?.version().await.ok()?;
    // Any JSON is not enough (a stub answering `{}` everywhere is no ASE): the answer
    // must name a version.
    let object = answer.as_object()?;
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("version"))
        .and_then(|(_, v)| v.as_str())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// What a failed login of an `asoc` connector adds when an ASE server answers at its URL.
pub(super) async fn asoc_login_at_ase(url: &str, settings: &Settings) -> Option<(String, String)> {
    let version = ase_version(url, settings).await?;
    Some((
        format!("this URL answers as AppScan Enterprise {version}, not AppScan on Cloud"),
        "register it as an ase connector (`connector add ase --name NAME --url URL --key-id ID`) and remove this one".to_string(),
    ))
}

/// What a failed login of an `ase` connector adds when no ASE API answers at its URL.
pub(super) async fn ase_login_elsewhere(
    url: &str,
    settings: &Settings,
) -> Option<(String, String)> {
    if ase_version(url, settings).await.is_some() {
        return None;
    }
    Some((
        "no AppScan Enterprise API answers at this URL (GET /ase/api/version failed)".to_string(),
        "check the URL (e.g. https://HOST:9443, where ASE serves /ase/api); an AppScan on Cloud tenant is an asoc connector".to_string(),
    ))
}

/// A failed login's reason and hint, told what answers at the URL when [`asoc_login_at_ase`]
/// or [`ase_login_elsewhere`] found another product (`found`). The login's own reason,
/// which blames the key, gives way to the refusal's status (`refused`) when there is one.
pub(super) fn login_failure(
    reason: String,
    hint: &str,
    refused: Option<u16>,
    found: Option<(String, String)>,
) -> (String, String) {
    match (found, refused) {
        (Some((what, hint)), Some(status)) => (format!("{status} at the login: {what}"), hint),
        (Some((what, hint)), None) => (format!("{reason}; {what}"), hint),
        (None, _) => (reason, hint.to_string()),
    }
}
