//! Known-exploited vulnerability lists: CISA's KEV catalog JSON, or a plain list of CVE ids.
//!
//! Users download the catalog themselves (the store never fetches anything) and run
//! `appscan-bridge kev import FILE`. Both forms are accepted:
//! - JSON with `vulnerabilities: [{cveID, dateAdded, vulnerabilityName, ...}]` (CISA's
//!   `known_exploited_vulnerabilities.json`), or a JSON array of CVE id strings;
//! - text: CVE ids separated by whitespace, commas or new lines; `#` starts a comment.

use serde::Deserialize;

/// One known-exploited CVE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevEntry {
    /// Upper-case `CVE-YYYY-NNNN...`.
    pub cve: String,
    /// When the list added it (`YYYY-MM-DD`), if given.
    pub added: Option<String>,
    /// The list's name for it, if given.
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KevError {
    #[error("not a KEV catalog: {0}")]
    Json(String),
    #[error("line {line}: '{token}' is not a CVE id (expected CVE-YYYY-NNNN)")]
    BadId { line: usize, token: String },
    /// In a JSON list: the entry's place (`$.vulnerabilities[3].cveID`), not a line.
    #[error("{path}: '{token}' is not a CVE id (expected CVE-YYYY-NNNN)")]
    BadEntry { path: String, token: String },
    #[error("the list has no CVE ids")]
    Empty,
}

#[derive(Deserialize)]
struct Catalog {
    vulnerabilities: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    date_added: Option<String>,
    vulnerability_name: Option<String>,
}

/// Normalizes a CVE id (`cve-2021-44228` → `CVE-2021-44228`), or `None` if it is not one.
pub fn normalize_cve(s: &str) -> Option<String> {
    let up = s.trim().to_ascii_uppercase();
    let rest = up.strip_prefix("CVE-")?;
    let (year, num) = rest.split_once('-')?;
    let ok = year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(up)
}

/// The CVE ids in a finding's `cve` text, as a report writes it (`cve-2021-44228`,
/// `CVE-2021-44228, CVE-2022-22965`): tokens split on commas, semicolons and whitespace,
/// upper-cased, duplicates dropped, order kept; `dropped` holds the tokens that are no CVE
/// id (`not-a-cve`, `CVE-2024-1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CveList {
    pub ids: Vec<String>,
    pub dropped: Vec<String>,
}

impl CveList {
    pub fn parse(text: &str) -> CveList {
        let mut list = CveList::default();
        for token in text
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|t| !t.is_empty())
        {
            match normalize_cve(token) {
                Some(id) if !list.ids.contains(&id) => list.ids.push(id),
                Some(_) => {}
                None => list.dropped.push(token.to_string()),
            }
        }
        list
    }

    /// The ids as a finding stores them: comma-separated without spaces, `None` when none.
    pub fn stored(&self) -> Option<String> {
        (!self.ids.is_empty()).then(|| self.ids.join(","))
    }
}

/// The CVE ids of a stored `cve` value (one, or several comma-separated), upper-cased.
pub fn cve_ids(stored: &str) -> Vec<String> {
    CveList::parse(stored).ids
}

/// Parses a KEV list in either form; duplicates are dropped, order kept.
pub fn parse(text: &str) -> Result<Vec<KevEntry>, KevError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let mut out: Vec<KevEntry> = if trimmed.starts_with('{') {
        let cat: Catalog =
            serde_json::from_str(trimmed).map_err(|e| KevError::Json(e.to_string()))?;
        cat.vulnerabilities
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let cve = normalize_cve(&e.cve_id).ok_or(KevError::BadEntry {
                    path: format!("$.vulnerabilities[{i}].cveID"),
                    token: e.cve_id.clone(),
                })?;
                Ok(KevEntry {
                    cve,
                    added: e.date_added,
                    name: e.vulnerability_name,
                })
            })
            .collect::<Result<_, KevError>>()?
    } else if trimmed.starts_with('[') {
        let ids: Vec<String> =
            serde_json::from_str(trimmed).map_err(|e| KevError::Json(e.to_string()))?;
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                normalize_cve(id)
                    .map(|cve| KevEntry {
                        cve,
                        added: None,
                        name: None,
                    })
                    .ok_or(KevError::BadEntry {
                        path: format!("$[{i}]"),
                        token: id.clone(),
                    })
            })
            .collect::<Result<_, KevError>>()?
    } else {
        let mut v = Vec::new();
        // Without its byte-order mark, which the first id kept ('\u{feff}CVE-…' is no id).
        for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default();
            for token in line
                .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
                .filter(|t| !t.is_empty())
            {
                let cve = normalize_cve(token).ok_or_else(|| KevError::BadId {
                    line: i + 1,
                    token: token.to_string(),
                })?;
                v.push(KevEntry {
                    cve,
                    added: None,
                    name: None,
                });
            }
        }
        v
    };
    let mut seen = std::collections::HashSet::new();
    out.retain(|e| seen.insert(e.cve.clone()));
    if out.is_empty() {
        return Err(KevError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cisa_catalog() {
        let json = r#"{"title":"CISA Catalog","catalogVersion":"2026.01.01","count":2,
            "vulnerabilities":[
              {"cveID":"CVE-2021-44228","vendorProject":"Apache","product":"Log4j2",
               "vulnerabilityName":"Apache Log4j2 RCE","dateAdded":"2021-12-10"},
              {"cveID":"CVE-2017-5638","dateAdded":"2021-11-03"}]}"#;
        let got = parse(json).expect("parse");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].cve, "CVE-2021-44228");
        assert_eq!(got[0].added.as_deref(), Some("2021-12-10"));
        assert_eq!(got[0].name.as_deref(), Some("Apache Log4j2 RCE"));
    }

    #[test]
    fn text_and_array_lists() {
        let got = parse("# mine\ncve-2021-44228, CVE-2017-5638\n\nCVE-2021-44228 # again\n")
            .expect("text");
        assert_eq!(
            got.iter().map(|e| e.cve.as_str()).collect::<Vec<_>>(),
            ["CVE-2021-44228", "CVE-2017-5638"]
        );
        assert_eq!(parse(r#"["CVE-2020-0001"]"#).expect("array").len(), 1);
        assert_eq!(
            parse("CVE-2021-44228\nlog4j\n"),
            Err(KevError::BadId {
                line: 2,
                token: "log4j".into()
            })
        );
        assert_eq!(parse("# nothing\n"), Err(KevError::Empty));
        // A text list saved with a byte-order mark (Windows editors): its first id kept
        // the mark and was refused.
        assert_eq!(
            parse("\u{feff}CVE-2021-44228\r\nCVE-2017-5638\r\n").map(|v| v.len()),
            Ok(2)
        );
        // JSON entries are named by their place, not by a line they are not on.
        assert_eq!(
            parse(r#"{"vulnerabilities":[{"cveID":"CVE-2021-44228"},{"cveID":"x"}]}"#),
            Err(KevError::BadEntry {
                path: "$.vulnerabilities[1].cveID".into(),
                token: "x".into()
            })
        );
        assert_eq!(
            parse(r#"["CVE-2021-44228", "y"]"#),
            Err(KevError::BadEntry {
                path: "$[1]".into(),
                token: "y".into()
            })
        );
        assert!(matches!(parse("{\"nope\": 1}"), Err(KevError::Json(_))));
        assert_eq!(normalize_cve("CVE-21-1"), None);
    }
}
