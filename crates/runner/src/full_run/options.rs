//! The connector options of full-run sources (ASE, XML reports), as the Cisco-style
//! connectors have them: exclude informationals, skip or reset tags, ignore the
//! scanner's last-seen time, ordered locators, asset inactivity, unknown severities;
//! and how an ASE server writes its dates (its locale's format, its time zone).
//!
//! They live flattened in a connector's [`crate::Settings`] (so `exclude_informational =
//! true` sits beside `page_size` in a config file) and every field has a default.

use crate::settings::SettingProblem;
use model::Severity;
use serde::{Deserialize, Serialize};

/// The locators a full-run source can name a finding's asset by.
pub const LOCATORS: &[&str] = &["application", "url", "host", "file"];

/// The default locator order: the application (its ASE id, or the report's
/// application name or `--app`), else its URL, else its host, else the report file.
pub fn default_locators() -> Vec<String> {
    LOCATORS.iter().map(|s| s.to_string()).collect()
}

/// Options of ASE and XML connectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FullRunOptions {
    /// Leave out findings that have no CVE, no CWE and no WASC (threat class) id.
    pub exclude_informational: bool,
    /// Store no tags (findings and assets).
    pub skip_tags: bool,
    /// Record the run's time as a finding's last-found time, not the scanner's.
    pub ignore_last_seen: bool,
    /// An asset's tags are this run's only; by default they accumulate over runs.
    pub reset_tags: bool,
    /// Ordered locators naming a finding's asset: the first that a record has wins
    /// (`application`, `url`, `host`, `file`). A config file may give a list or a
    /// comma-separated string (`"url,application,host"`).
    #[serde(deserialize_with = "locators_of")]
    pub locators: Vec<String>,
    /// Days without being seen after which the connector's assets (and their findings)
    /// are marked inactive; overrides the global default
    /// (`APPSCAN_BRIDGE_ASSET_INACTIVITY_DAYS`). Nothing is deleted.
    pub asset_inactivity_days: Option<u32>,
    /// The normalized severity given to a severity the map does not know; the source's
    /// value is kept verbatim and the record is warned about.
    pub unknown_severity: String,
    /// ASE: the server's date-time format (strftime, e.g. `%d.%m.%y %H:%M`) when its
    /// locale does not write `11/18/24 6:09 PM`. Without it a day-first date such as
    /// `05/11/24` would be read month first.
    pub date_format: Option<String>,
    /// ASE: the IANA time zone the server runs in (`Europe/Berlin`), whose wall-clock
    /// times its dates are; UTC when absent.
    pub time_zone: Option<String>,
}

impl Default for FullRunOptions {
    fn default() -> Self {
        FullRunOptions {
            exclude_informational: false,
            skip_tags: false,
            ignore_last_seen: false,
            reset_tags: false,
            locators: default_locators(),
            asset_inactivity_days: None,
            unknown_severity: "Medium".into(),
            date_format: None,
            time_zone: None,
        }
    }
}

impl FullRunOptions {
    /// Checks what a user typed; the message names the option.
    pub fn validate(&self) -> Result<(), String> {
        crate::settings::joined(self.problems())
    }

    /// Every value out of range, each with its key.
    pub fn problems(&self) -> Vec<SettingProblem> {
        let mut out = Vec::new();
        let mut bad = |key, message: String| out.push(SettingProblem { key, message });
        if self.locators.is_empty() {
            bad(
                "locators",
                format!("locators must name at least one of {}", LOCATORS.join(", ")),
            );
        }
        for (i, l) in self.locators.iter().enumerate() {
            if !LOCATORS.contains(&l.as_str()) {
                bad(
                    "locators",
                    format!("unknown locator '{l}' (one of {})", LOCATORS.join(", ")),
                );
            } else if self.locators[..i].contains(l) {
                bad("locators", format!("locator '{l}' is listed twice"));
            }
        }
        if self.asset_inactivity_days == Some(0) {
            bad(
                "asset_inactivity_days",
                "asset inactivity must be at least one day".into(),
            );
        }
        if let Err(e) = self.unknown_severity.parse::<Severity>() {
            bad("unknown_severity", format!("unknown_severity: {e}"));
        }
        if let Some(f) = &self.date_format
            && let Err(e) = model::time::check_format(f)
        {
            bad("date_format", format!("date_format '{f}': {e}"));
        }
        if let Some(z) = &self.time_zone
            && let Err(e) = model::time::parse_zone(z)
        {
            bad("time_zone", format!("time_zone: {e}"));
        }
        out
    }

    /// The normalized severity for unknown source severities.
    pub fn unknown_severity(&self) -> Severity {
        self.unknown_severity.parse().unwrap_or(Severity::Medium)
    }

    /// How an ASE server writes its dates: `date_format` in `time_zone` (UTC when
    /// absent). The message of a zone that is not one names the option.
    pub fn server_dates(&self) -> Result<model::time::ServerDates, String> {
        let zone = match &self.time_zone {
            Some(z) => model::time::parse_zone(z).map_err(|e| format!("time_zone: {e}"))?,
            None => model::time::Tz::UTC,
        };
        Ok(model::time::ServerDates {
            format: self.date_format.clone(),
            zone,
        })
    }

    /// Parses `url,application,host` as `--locators` takes it.
    pub fn parse_locators(list: &str) -> Vec<String> {
        list.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// Locators as a list or as one comma-separated string (environment overrides and
/// `--locators` give a string).
fn locators_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(
        untagged,
        expecting = "expected a list of locators, or one string of them separated by commas"
    )]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(l) => l.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
        Either::Text(t) => FullRunOptions::parse_locators(&t),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let o = FullRunOptions::default();
        o.validate().unwrap();
        assert_eq!(o.unknown_severity(), Severity::Medium);
        let mut o = FullRunOptions {
            locators: FullRunOptions::parse_locators(" URL, application ,host"),
            ..FullRunOptions::default()
        };
        assert_eq!(o.locators, ["url", "application", "host"]);
        o.validate().unwrap();
        o.locators.push("url".into());
        assert!(o.validate().unwrap_err().contains("twice"));
        o.locators = vec!["ip".into()];
        assert!(o.validate().unwrap_err().contains("unknown locator 'ip'"));
        o.locators = default_locators();
        o.unknown_severity = "severe".into();
        assert!(o.validate().is_err());
        let o = FullRunOptions {
            time_zone: Some("America/New_York".into()),
            ..FullRunOptions::default()
        };
        o.validate().unwrap();
        assert_eq!(
            o.server_dates().map(|d| d.zone),
            Ok(model::time::Tz::America__New_York)
        );
        assert_eq!(
            FullRunOptions::default().server_dates(),
            Ok(model::time::ServerDates::default())
        );
        let o = FullRunOptions {
            time_zone: Some("EST5EDT/Nowhere".into()),
            ..FullRunOptions::default()
        };
        let e = o.validate().unwrap_err();
        assert!(
            e.contains("time_zone: unknown time zone 'EST5EDT/Nowhere'")
                && e.contains("Europe/Berlin"),
            "{e}"
        );
        assert_eq!(o.server_dates().unwrap_err(), e);
    }

    #[test]
    fn a_config_file_sets_them_beside_the_other_settings() {
        let text = "[[connector]]\nname = \"r\"\nkind = \"xml\"\nexclude_informational = true\nlocators = \"url, application\"\nasset_inactivity_days = 30\n";
        let declared = crate::config::parse(text, "c.toml", &|_| None).expect("valid");
        let o = &declared[0].settings.full_run;
        assert!(o.exclude_informational);
        assert_eq!(o.locators, ["url", "application"]);
        assert_eq!(o.asset_inactivity_days, Some(30));
        let bad = "[[connector]]\nname = \"r\"\nkind = \"xml\"\nlocators = [\"ip\"]\n";
        let problems = crate::config::parse(bad, "c.toml", &|_| None).unwrap_err();
        assert!(
            problems[0].message.contains("unknown locator 'ip'"),
            "{problems:?}"
        );
    }
}
