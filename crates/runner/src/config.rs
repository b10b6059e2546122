//! The config file: connectors declared in TOML, with environment overrides.
//!
//! ```toml
//! store = "postgres://bridge@db.internal/bridge"   # optional; --store overrides it
//!
//! [[connector]]
//! name = "cloud"
//! kind = "asoc"
//! url = "https://cloud.appscan.com"
//! key_id = "a1b2c3"
//! key_secret_env = "ASOC_KEY_SECRET"   # the secret comes from this variable, never the file
//! page_size = 50
//! schedule = "0 */6 * * *"
//! ```
//!
//! Any connector key can be overridden with `APPSCAN_BRIDGE_CONNECTOR_<NAME>_<KEY>`
//! (upper case, `-` as `_`), e.g. `APPSCAN_BRIDGE_CONNECTOR_CLOUD_PAGE_SIZE=100`.
//! [`load`] reports every problem with its file and line.

use crate::connectors::KINDS;
use crate::full_run::FullRunOptions;
use crate::settings::Settings;
use crate::{AddConnector, Runner, RunnerError};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Keys of a `[[connector]]` table that are not [`Settings`].
const IDENTITY_KEYS: &[&str] = &["name", "kind", "url", "key_id", "key_secret_env"];

/// The settings of connectors that fetch from a server, which an xml connector has none of.
const SERVER_ONLY_KEYS: &[&str] = &[
    "page_size",
    "concurrency",
    "rate_limit_per_minute",
    "overlap_seconds",
    "app_filter",
    "ca_file",
    "max_retries",
    "retry_base_ms",
    "timeout_seconds",
];
/// The settings of ase connectors alone: how the server writes its dates.
const ASE_ONLY_KEYS: &[&str] = &["date_format", "time_zone"];
/// The environment prefix of connector overrides.
pub const ENV_PREFIX: &str = "APPSCAN_BRIDGE_CONNECTOR_";

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}{}: {message}", at_line(*.line))]
pub struct ConfigProblem {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// `:LINE` after a file's name, or nothing for a problem of the whole file (line 0: it
/// cannot be read), which was reported "at line 0".
fn at_line(line: usize) -> String {
    match line {
        0 => String::new(),
        n => format!(":{n}"),
    }
}

/// A connector as the config file declares it.
#[derive(Debug, Clone)]
pub struct Declared {
    pub name: String,
    pub kind: String,
    pub url: Option<String>,
    pub key_id: Option<String>,
    pub key_secret_env: Option<String>,
    pub settings: Settings,
    /// The variable `key_secret_env` names was not set when the file was read.
    /// `config validate` reports it; before other commands the connector is registered
    /// or kept without a new secret, so that listings work in a shell without it.
    pub secret_unset: Option<ConfigProblem>,
    /// The line of its `[[connector]]` header.
    pub line: usize,
}

/// A loaded config file.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub connectors: Vec<Declared>,
    /// Variables with the override prefix that override nothing (a typo in the connector's
    /// name or the key): problems for `config validate`, warnings elsewhere.
    pub stray_overrides: Vec<ConfigProblem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// The store, e.g. `postgres://bridge@db/bridge` (see [`store_of`]).
    #[serde(default)]
    store: Option<String>,
    #[serde(default)]
    connector: Vec<Spanned<toml::Table>>,
}

/// The store a config file names with a top-level `store = "postgres://..."`, if any
/// (a relative SQLite path is beside the file). The `--store` flag and `$APPSCAN_BRIDGE_STORE` take precedence. A file that cannot be
/// read or parsed names none here; [`load`] reports its problems.
pub fn store_of(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    toml::from_str::<File>(&text)
        .ok()?
        .store
        .filter(|s| !s.trim().is_empty())
        .map(|s| store_beside(path, s))
}

/// `path` as the config file `file` means it: a leading `~/` is the home directory (as
/// in flags), a relative path is beside the file, and the result is absolute. A relative
/// path was resolved against the file's directory as it was given (`d1/ca.pem` under a
/// relative `--data-dir`) and stored so, and a `serve` started elsewhere failed every run.
pub fn beside(file: &str, path: &str) -> PathBuf {
    let path = crate::paths::home_relative(PathBuf::from(path));
    if path.is_absolute() {
        return path;
    }
    let joined = Path::new(file)
        .parent()
        .unwrap_or(Path::new(""))
        .join(&path);
    std::path::absolute(&joined).unwrap_or(joined)
}

/// A SQLite `store` the config file `file` names, with a relative path taken beside the
/// file (it was taken from the current directory, so that a command run elsewhere used
/// another store); other stores as they are.
fn store_beside(file: &Path, url: String) -> String {
    let (scheme, path) = match url.strip_prefix("sqlite://") {
        Some(path) => ("sqlite://", path),
        None => ("", url.as_str()),
    };
    let sqlite = matches!(
        store::open::backend(&url),
        Ok((store::open::Backend::Sqlite, Some(_)))
    );
    if !sqlite || path.starts_with('~') || Path::new(path).is_absolute() {
        return url;
    }
    format!(
        "{scheme}{}",
        beside(&file.display().to_string(), path).display()
    )
}

/// The line of the top-level `key = ...` in config `text` (before the first table), else 1.
fn top_level_line(text: &str, key: &str) -> usize {
    text.lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .position(|l| {
            let l = l.trim_start();
            l.starts_with(key) && l[key.len()..].trim_start().starts_with('=')
        })
        .map_or(1, |i| i + 1)
}

/// Whether `name` can be an environment variable's name (letters, digits and `_`, not
/// starting with a digit): a value that cannot is likely the secret itself, which is
/// then not repeated in any message.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How a schedule is checked: the scheduler's parser, which lives with `serve`.
pub type ScheduleCheck<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// Reads and validates a config file; the error lists every problem.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigProblem>> {
    load_with(path, &|_| Ok(()))
}

/// [`load`], also checking each schedule with `schedule`, each problem at its line beside
/// the others.
pub fn load_with(path: &Path, schedule: ScheduleCheck<'_>) -> Result<Config, Vec<ConfigProblem>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigProblem {
            file: file.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        }]
    })?;
    let connectors = parse_with(&text, &file, &|k| std::env::var(k).ok(), schedule)?;
    let variables = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok());
    let stray_overrides = stray_overrides(&connectors, &file, variables);
    Ok(Config {
        path: path.to_path_buf(),
        connectors,
        stray_overrides,
    })
}

/// The keys an environment variable can override: the identity keys and every setting.
fn override_keys() -> Vec<String> {
    let settings = Settings::default().to_json();
    let setting_keys = settings
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys().cloned());
    IDENTITY_KEYS
        .iter()
        .map(|k| k.to_string())
        .chain(setting_keys)
        .collect()
}

/// The variable overriding `key` of the connector `name`.
fn override_variable(name: &str, key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}_{}",
        name.to_uppercase().replace('-', "_"),
        key.to_uppercase()
    )
}

/// Among `variables`, those with the override prefix that override no key of a declared
/// connector: `..._CLOUD_PAGESIZE` was ignored without a word, and the connector ran
/// with the file's value; so was `..._CLOUD_NAME` (a name is not overridable: the
/// variables are named after it). Also those that override a key of two connectors at
/// once (`eu-prod` and `eu_prod` both read `..._EU_PROD_...`). A variable some
/// connector reads its secret from is not one.
fn stray_overrides(
    connectors: &[Declared],
    file: &str,
    variables: impl Iterator<Item = String>,
) -> Vec<ConfigProblem> {
    let keys: Vec<String> = override_keys()
        .into_iter()
        .filter(|k| k != "name")
        .collect();
    let secrets: Vec<&str> = connectors
        .iter()
        .filter_map(|d| d.key_secret_env.as_deref())
        .collect();
    let mut stray: Vec<ConfigProblem> = variables
        .filter(|v| v.starts_with(ENV_PREFIX) && !secrets.contains(&v.as_str()))
        .filter_map(|var| {
            let overridden: Vec<(&Declared, &String)> = connectors
                .iter()
                .flat_map(|d| keys.iter().map(move |k| (d, k)))
                .filter(|(d, k)| override_variable(&d.name, k) == var)
                .collect();
            let (line, message) = match overridden.as_slice() {
                [_] => return None,
                [(first, key), ..] => (
                    first.line,
                    format!(
                        "${var} overrides `{key}` of {} connectors at once: {} (a variable \
                         names its connector in upper case, with '-' as '_'): rename one of \
                         them",
                        overridden.len(),
                        overridden
                            .iter()
                            .map(|(d, _)| format!("'{}'", d.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                [] => overrides_nothing(connectors, &keys, &var),
            };
            Some(ConfigProblem {
                file: file.to_string(),
                line,
                message,
            })
        })
        .collect();
    stray.sort_by(|a, b| (a.line, &a.message).cmp(&(b.line, &b.message)));
    stray
}

/// Why the override variable `var` overrides nothing, at the line of the connector whose
/// prefix it carries (the longest one), else at the file's first line.
fn overrides_nothing(connectors: &[Declared], keys: &[String], var: &str) -> (usize, String) {
    let owner = connectors
        .iter()
        .filter(|d| var.starts_with(&override_variable(&d.name, "")))
        .max_by_key(|d| d.name.len());
    match owner {
        Some(d) => {
            let key = var[override_variable(&d.name, "").len()..].to_lowercase();
            let why = match key.as_str() {
                "name" => "a connector's `name` cannot be overridden (its variables are named \
                           after it): rename it in the file"
                    .to_string(),
                _ => format!(
                    "`{key}` is no key of a connector (known: {})",
                    keys.join(", ")
                ),
            };
            (
                d.line,
                format!("connector '{}': ${var} overrides nothing: {why}", d.name),
            )
        }
        None => (
            1,
            format!(
                "${var} overrides nothing: no connector of this file is named by it \
                 (connectors: {}; a variable names its connector in upper case, with '-' \
                 as '_')",
                connectors
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}

/// An environment override's text as the TOML value its key takes: a number or a boolean
/// where the setting is one, else the text (a key id `12345` or a description `2024`
/// was taken for a number and refused).
fn env_value(key: &str, text: String) -> toml::Value {
    let typed = text
        .parse::<i64>()
        .map(toml::Value::Integer)
        .or_else(|_| text.parse::<f64>().map(toml::Value::Float))
        .or_else(|_| text.parse::<bool>().map(toml::Value::Boolean));
    let Ok(typed) = typed else {
        return toml::Value::String(text);
    };
    if IDENTITY_KEYS.contains(&key) {
        return toml::Value::String(text);
    }
    let takes = |value: &toml::Value| {
        let mut one = toml::Table::new();
        one.insert(key.to_string(), value.clone());
        toml::Value::Table(one).try_into::<Settings>().is_ok()
    };
    let string = toml::Value::String(text);
    if !takes(&typed) && takes(&string) {
        string
    } else {
        typed
    }
}

/// Parses config text; `env` looks up environment variables (overrides and secrets).
pub fn parse(
    text: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Declared>, Vec<ConfigProblem>> {
    parse_with(text, file, env, &|_| Ok(()))
}

/// [`parse`], checking each schedule with `schedule`.
pub fn parse_with(
    text: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
    schedule: ScheduleCheck<'_>,
) -> Result<Vec<Declared>, Vec<ConfigProblem>> {
    let line_at = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let problem = |line: usize, message: String| ConfigProblem {
        file: file.to_string(),
        line,
        message,
    };
    let parsed: File = toml::from_str(text).map_err(|e| {
        vec![problem(
            e.span().map(|s| line_at(s.start)).unwrap_or(1),
            in_words(e.message()),
        )]
    })?;
    let mut problems = Vec::new();
    // The store is checked as `--store` is (`mysql://x` passed `config validate`).
    if let Some(url) = parsed.store.as_deref().filter(|u| !u.trim().is_empty())
        && let Err(e) = store::open::backend(url)
    {
        problems.push(problem(
            top_level_line(text, "store"),
            format!("`store`: {e}"),
        ));
    }
    let keys = override_keys();
    let setting_keys = &keys[IDENTITY_KEYS.len()..];
    // The settings only ASE and XML runs read, as `setting_keys` is read off `Settings`.
    let full_run_keys: Vec<String> = serde_json::to_value(FullRunOptions::default())
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default();
    // Unset secret variables: problems only when the file has others (see Declared).
    let mut unset = Vec::new();
    let mut out = Vec::new();
    for spanned in parsed.connector {
        let span = spanned.span();
        let block_line = line_at(span.start);
        // The block runs from its header to the next table header (the span may cover
        // only the header).
        let start = span.start.min(text.len());
        let body_start = text[start..]
            .find('\n')
            .map(|i| start + i + 1)
            .unwrap_or(text.len());
        let end = text[body_start..]
            .match_indices('\n')
            .map(|(i, _)| body_start + i + 1)
            .find(|&i| text[i..].trim_start_matches([' ', '\t']).starts_with('['))
            .unwrap_or(text.len())
            .max(span.end.min(text.len()));
        let block = &text[start..end];
        // The line of `key = ...` inside this connector's block.
        let key_line = |key: &str| {
            block
                .lines()
                .position(|l| {
                    l.trim_start().starts_with(key)
                        && l.trim_start()[key.len()..].trim_start().starts_with('=')
                })
                .map(|i| line_at(span.start) + i)
                .unwrap_or(block_line)
        };
        let mut table = spanned.into_inner();
        let name = match table.get("name").and_then(|v| v.as_str()) {
            Some(n) if !n.trim().is_empty() => n.to_string(),
            _ => {
                problems.push(problem(block_line, "connector without a `name`".into()));
                continue;
            }
        };
        // As `connector add` checks it: `config validate` passed a name that every
        // command then refused, without a line.
        if let Err(why) = crate::connectors::check_name(name.trim()) {
            problems.push(problem(key_line("name"), why));
            continue;
        }
        // Environment overrides; a problem with an overridden value names its variable
        // (it was blamed on the file's line alone).
        let mut from_env: HashMap<String, String> = HashMap::new();
        for key in keys.iter().filter(|k| *k != "name") {
            let var = override_variable(&name, key);
            if let Some(v) = env(&var) {
                table.insert(key.clone(), env_value(key, v));
                from_env.insert(key.clone(), var);
            }
        }
        let problem_at = |key: &str, message: String| match from_env.get(key) {
            Some(var) => problem(
                key_line(key),
                format!("{message} (the value comes from ${var})"),
            ),
            None => problem(key_line(key), message),
        };
        let text_of =
            |t: &toml::Table, key: &str, problems: &mut Vec<ConfigProblem>| match t.get(key) {
                None => None,
                Some(toml::Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    problems.push(problem_at(
                        key,
                        format!(
                            "connector '{name}': `{key}` must be a string, found {}",
                            other.type_str()
                        ),
                    ));
                    None
                }
            };
        let kind = text_of(&table, "kind", &mut problems).unwrap_or_default();
        if !KINDS.contains(&kind.as_str()) {
            problems.push(problem_at(
                "kind",
                format!(
                    "connector '{name}': `kind` must be one of {}, found '{kind}'",
                    KINDS.join(", ")
                ),
            ));
        }
        let url = text_of(&table, "url", &mut problems);
        let key_id = text_of(&table, "key_id", &mut problems);
        let key_secret_env = text_of(&table, "key_secret_env", &mut problems);
        let mut secret_unset = None;
        if kind != "xml" {
            match &url {
                None => problems.push(problem(
                    block_line,
                    format!("connector '{name}': `url` is missing"),
                )),
                Some(u) => {
                    if let Err(why) = crate::connectors::check_url(&kind, Some(u)) {
                        problems.push(problem_at("url", format!("connector '{name}': {why}")));
                    }
                }
            }
            match key_id.as_deref() {
                None => problems.push(problem(
                    block_line,
                    format!("connector '{name}': `key_id` is missing"),
                )),
                Some(k) if k.trim().is_empty() => problems.push(problem_at(
                    "key_id",
                    format!("connector '{name}': `key_id` is empty"),
                )),
                Some(_) => {}
            }
            match &key_secret_env {
                None => problems.push(problem(
                    block_line,
                    format!("connector '{name}': `key_secret_env` is missing (the secret comes from an environment variable, never the file)"),
                )),
                // Not echoed: a value that is no variable name may be the secret itself.
                Some(var) if !is_variable_name(var) => problems.push(problem_at(
                    "key_secret_env",
                    format!(
                        "connector '{name}': `key_secret_env` must be the name of an \
                         environment variable (letters, digits and '_', not starting with a \
                         digit), which holds the secret; the value given is not shown, in \
                         case it is the secret"
                    ),
                )),
                // As `connector add` refuses an empty $APPSCAN_KEY_SECRET: an empty one
                // replaced the stored working secret without a word.
                Some(var) if env(var).is_some_and(|v| v.trim().is_empty()) => {
                    problems.push(problem_at(
                        "key_secret_env",
                        format!(
                            "connector '{name}': environment variable {var} is set but empty \
                             (give it the key secret, or unset it to keep the stored one)"
                        ),
                    ));
                }
                Some(var) if env(var).is_none() => {
                    let p = problem_at("key_secret_env",
                        format!("connector '{name}': environment variable {var} is not set"),
                    );
                    unset.push(p.clone());
                    secret_unset = Some(p);
                }
                Some(_) => {}
            }
        }
        let mut settings_table = toml::Table::new();
        for (key, value) in table {
            if IDENTITY_KEYS.contains(&key.as_str()) {
                continue;
            }
            if key.contains("secret") {
                problems.push(problem_at(&key,
                    format!("connector '{name}': `{key}`: secrets do not belong in the config file; use key_secret_env"),
                ));
                continue;
            }
            if !setting_keys.contains(&key) {
                problems.push(problem_at(
                    &key,
                    format!(
                        "connector '{name}': unknown setting `{key}` (known: {})",
                        setting_keys.join(", ")
                    ),
                ));
                continue;
            }
            let mut one = toml::Table::new();
            one.insert(key.clone(), value.clone());
            if let Err(e) = toml::Value::Table(one).try_into::<Settings>() {
                problems.push(problem_at(
                    &key,
                    format!("connector '{name}': `{key}`: {}", in_words(e.message())),
                ));
                continue;
            }
            settings_table.insert(key, value);
        }
        // Options of another kind of connector were stored and ignored (the CLI refuses
        // them; the file and the environment did not).
        if kind == "xml" {
            let identity = [
                ("url", url.is_some()),
                ("key_id", key_id.is_some()),
                ("key_secret_env", key_secret_env.is_some()),
            ];
            for key in identity
                .into_iter()
                .filter(|(_, given)| *given)
                .map(|(key, _)| key)
                .chain(
                    settings_table
                        .keys()
                        .map(String::as_str)
                        .filter(|k| SERVER_ONLY_KEYS.contains(k)),
                )
            {
                problems.push(problem_at(
                    key,
                    format!(
                        "connector '{name}': `{key}` is an option of connectors that fetch from \
                         a server, not of an xml connector (it reads the reports given to \
                         `import`)"
                    ),
                ));
            }
        }
        for key in ASE_ONLY_KEYS
            .iter()
            .filter(|k| kind != "ase" && settings_table.contains_key(**k))
        {
            problems.push(problem_at(
                key,
                format!(
                    "connector '{name}': `{key}` is an option of ase connectors (the dates \
                     in an ASE server's pages), not of an {kind} connector"
                ),
            ));
        }
        for key in settings_table
            .keys()
            .filter(|k| !ASE_ONLY_KEYS.contains(&k.as_str()))
        {
            let full_run_only = full_run_keys.contains(key);
            if (kind == "asoc" && full_run_only) || (kind != "asoc" && key == "fetch_details") {
                let whose = if full_run_only {
                    "an option of ase and xml connectors"
                } else {
                    "an option of asoc connectors"
                };
                problems.push(problem_at(
                    key,
                    format!("connector '{name}': `{key}` is {whose}, not of an {kind} connector"),
                ));
            }
        }
        let mut settings = match toml::Value::Table(settings_table).try_into::<Settings>() {
            Ok(s) => s,
            Err(e) => {
                problems.push(problem(
                    block_line,
                    format!("connector '{name}': {}", in_words(e.message())),
                ));
                continue;
            }
        };
        // An empty `ca_file` is none (the system's CAs, as `--ca-file ''`); a relative one
        // is the config file's neighbour, stored absolute.
        settings.ca_file = settings
            .ca_file
            .filter(|f| !f.trim().is_empty())
            .map(|f| beside(file, &f).display().to_string());
        for p in settings.problems() {
            problems.push(problem_at(
                p.key,
                format!("connector '{name}': {}", p.message),
            ));
        }
        if let Err(e) = crate::connectors::check_ca_file(&settings) {
            problems.push(problem_at("ca_file", format!("connector '{name}': {e}")));
        }
        let scheduled = crate::connectors::check_schedule(&kind, &settings)
            .and_then(|()| settings.schedule.as_deref().map_or(Ok(()), schedule));
        if let Err(e) = scheduled {
            problems.push(problem_at("schedule", format!("connector '{name}': {e}")));
        }
        if out.iter().any(|d: &Declared| d.name == name) {
            problems.push(problem(
                block_line,
                format!("connector '{name}' is declared twice"),
            ));
        }
        out.push(Declared {
            name,
            kind,
            url,
            key_id,
            key_secret_env,
            settings,
            secret_unset,
            line: block_line,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        // Listed beside the file's own problems, which fail the file anyway.
        problems.extend(unset);
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

impl Config {
    /// The declared secret variables that are not set: problems for `config validate`,
    /// warnings elsewhere.
    pub fn unset_secrets(&self) -> impl Iterator<Item = &ConfigProblem> {
        self.connectors
            .iter()
            .filter_map(|d| d.secret_unset.as_ref())
    }
}

/// What applying a config file did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The connectors the file declares.
    pub names: Vec<String>,
    /// Connectors left without a key secret, because the variable that holds it is not
    /// set: their syncs and checks fail until it is.
    pub warnings: Vec<String>,
}

/// What applying one declared connector does, decided before anything is written.
enum Change {
    /// It is not stored yet: it is created.
    Add,
    /// It is stored (as this): its URL, key id, settings and secret become the file's.
    Update(Box<store::Connector>),
}

impl Runner {
    /// Registers or updates the connectors a config declares. Everything that can fail
    /// against the store (a map that does not exist, a stored connector of another kind,
    /// a master key that is not the store's) is checked for every connector first: a
    /// problem found on the last one left the ones before it changed. A declared secret
    /// whose variable is not set leaves the stored secret as it is; a connector left
    /// with none is named in the warnings.
    pub fn apply_config(&self, config: &Config) -> Result<Applied, RunnerError> {
        let secrets: Vec<Option<SecretString>> = config
            .connectors
            .iter()
            .map(|d| d.key_secret_env.as_deref().and_then(secret_from_env))
            .collect();
        let plan = self.plan_config(config, &secrets)?;
        let mut applied = Applied::default();
        for ((d, secret), change) in config.connectors.iter().zip(secrets).zip(plan) {
            let has_secret = self.apply_declared(config, d, secret, change)?;
            if let Some(unset) = &d.secret_unset
                && !has_secret
            {
                applied.warnings.push(format!(
                    "{unset}: the connector has no key secret, so its syncs and checks fail \
                     until the variable is set"
                ));
            }
            applied.names.push(d.name.clone());
        }
        Ok(applied)
    }

    /// Checks each declared connector against the store, writing nothing: its map exists,
    /// a stored connector of its name has its kind, and the master key is the store's
    /// when a secret is to be sealed. Every problem is named with the file, line and
    /// connector; the error lists them all.
    fn plan_config(
        &self,
        config: &Config,
        secrets: &[Option<SecretString>],
    ) -> Result<Vec<Change>, RunnerError> {
        let mut problems = Vec::new();
        let mut plan = Vec::new();
        // Each map once, however many connectors use it (a stored map's notes were
        // logged once per connector).
        let mut maps: std::collections::HashMap<&str, Result<(), String>> = Default::default();
        for d in &config.connectors {
            let map = maps.entry(d.settings.map.as_str()).or_insert_with(|| {
                crate::maps::load(self.store.as_ref(), &d.settings.map)
                    .map(drop)
                    .map_err(|e| e.to_string())
            });
            if let Err(e) = map {
                problems.push(at_connector(
                    config,
                    d,
                    format!(
                        "{e}; create it first (`map clone default {}`, `map import FILE`) \
                         or name another map",
                        d.settings.map
                    ),
                ));
            }
            match self.store.connector(&d.name)? {
                None => plan.push(Change::Add),
                Some(before) => {
                    if before.kind != d.kind {
                        problems.push(at_connector(config, d, kind_conflict(&before, d)));
                    }
                    plan.push(Change::Update(Box::new(before)));
                }
            }
        }
        if !problems.is_empty() {
            return Err(RunnerError::Config(format!(
                "the config file cannot be applied, and nothing of it was: {}",
                problems.join("; ")
            )));
        }
        if secrets.iter().any(Option::is_some) {
            self.check_key()?;
        }
        Ok(plan)
    }

    /// Writes one declared connector as [`plan_config`](Self::plan_config) decided;
    /// whether it has a key secret now. One that another process applying the same file
    /// added since the plan was made is updated as stored (two `serve` workers starting
    /// at once: one failed with "a connector named 'x' already exists").
    fn apply_declared(
        &self,
        config: &Config,
        d: &Declared,
        secret: Option<SecretString>,
        change: Change,
    ) -> Result<bool, RunnerError> {
        let before = match change {
            Change::Update(before) => *before,
            Change::Add => {
                let has_secret = secret.is_some();
                let added = self.add_connector(AddConnector {
                    name: d.name.clone(),
                    kind: d.kind.clone(),
                    url: d.url.clone(),
                    key_id: d.key_id.clone(),
                    secret: secret.clone(),
                    settings: d.settings.clone(),
                });
                match added {
                    Ok(_) => return Ok(has_secret),
                    Err(RunnerError::Store(store::StoreError::ConnectorExists(_))) => {
                        let before = self.connector(&d.name)?;
                        if before.kind != d.kind {
                            return Err(RunnerError::Config(at_connector(
                                config,
                                d,
                                kind_conflict(&before, d),
                            )));
                        }
                        before
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let mut c = before.clone();
        c.url = d.url.clone();
        c.key_id = d.key_id.clone();
        c.settings = d.settings.to_json();
        if let Some(s) = secret
            && !self.holds(&before, &s)
        {
            c.secret = Some(self.key.seal(&s)?);
        }
        let same_settings =
            Settings::from_json(&before.settings).is_ok_and(|s| s.to_json() == c.settings);
        if c.url != before.url
            || c.key_id != before.key_id
            || !same_settings
            || c.secret != before.secret
        {
            self.save_connector(&before, &mut c)?;
        }
        Ok(c.secret.is_some())
    }

    /// Whether `c`'s stored secret is `secret` (so that applying the file again writes
    /// nothing).
    fn holds(&self, c: &store::Connector, secret: &SecretString) -> bool {
        c.secret
            .as_ref()
            .and_then(|sealed| self.key.open(sealed, &c.name).ok())
            .is_some_and(|held| held.expose_secret() == secret.expose_secret())
    }
}

/// A problem with applying the declared connector `d`, at its file and line.
fn at_connector(config: &Config, d: &Declared, message: String) -> String {
    ConfigProblem {
        file: config.path.display().to_string(),
        line: d.line,
        message: format!("connector '{}': {message}", d.name),
    }
    .to_string()
}

/// Why the file cannot turn the stored connector `before` into `d`'s kind.
fn kind_conflict(before: &store::Connector, d: &Declared) -> String {
    format!(
        "it is an {} connector in the store, and the config file declares it {}: give it \
         another name, or remove the stored one first (connector remove {}, which drops \
         its findings)",
        before.kind, d.kind, d.name
    )
}

impl Runner {
    /// What differs between the stored connectors and the ones `config` declares, one
    /// line each, for the commands that only read the store and so do not apply the file:
    /// a listing in a shell without a service's overrides showed (and wrote back) the
    /// file's plain values. The key secret is compared only where the master key opens it.
    pub fn config_differences(&self, config: &Config) -> Result<Vec<String>, RunnerError> {
        let file = config.path.display();
        let mut out = Vec::new();
        for d in &config.connectors {
            let Some(stored) = self.store.connector(&d.name)? else {
                out.push(format!(
                    "connector '{}' is declared in {file} but not stored yet; {APPLIED_BY}",
                    d.name
                ));
                continue;
            };
            let keys = self.differing_keys(&stored, d);
            if !keys.is_empty() {
                out.push(format!(
                    "connector '{}' differs from {file} ({}); {APPLIED_BY}",
                    d.name,
                    keys.join(", ")
                ));
            }
        }
        Ok(out)
    }

    /// The stored connectors with a schedule that `config` does not declare, one line
    /// each: taken out of the file or renamed there, they kept their schedule and `serve`
    /// kept syncing them (a renamed one synced the same tenant twice).
    pub fn undeclared_schedules(&self, config: &Config) -> Result<Vec<String>, RunnerError> {
        let declared = |name: &str| config.connectors.iter().any(|d| d.name == name);
        Ok(self
            .store
            .connectors()?
            .into_iter()
            .filter(|c| !declared(&c.name))
            .filter(|c| {
                Settings::from_json(&c.settings)
                    .is_ok_and(|s| s.schedule.is_some_and(|t| !t.trim().is_empty()))
            })
            .map(|c| {
                format!(
                    "connector '{0}' has a schedule but is not declared in {1}: `serve` keeps \
                     syncing it; remove it with `connector remove {0}` (its findings go with \
                     it), or take its schedule away with `connector edit {0} --schedule ''`",
                    c.name,
                    config.path.display()
                )
            })
            .collect())
    }

    /// The keys whose stored value is not the declared one.
    fn differing_keys(&self, stored: &store::Connector, d: &Declared) -> Vec<String> {
        let mut keys: Vec<String> = [
            ("kind", stored.kind != d.kind),
            ("url", stored.url != d.url),
            ("key_id", stored.key_id != d.key_id),
        ]
        .into_iter()
        .filter(|(_, differs)| *differs)
        .map(|(k, _)| k.to_string())
        .collect();
        let declared = d.settings.to_json();
        let stored_settings = Settings::from_json(&stored.settings)
            .map(|s| s.to_json())
            .unwrap_or_default();
        if let (Some(want), Some(have)) = (declared.as_object(), stored_settings.as_object()) {
            keys.extend(
                want.iter()
                    .filter(|(k, v)| have.get(*k) != Some(*v))
                    .map(|(k, _)| k.clone()),
            );
        }
        if let Some(secret) = d.key_secret_env.as_deref().and_then(secret_from_env)
            && let Some(sealed) = &stored.secret
            && let Ok(held) = self.key.open(sealed, &stored.name)
            && held.expose_secret() != secret.expose_secret()
        {
            keys.push("key secret".into());
        }
        keys
    }
}

/// When a config file's connectors reach the store, said where a command does not apply it.
const APPLIED_BY: &str = "the file is applied by the next command that runs or changes \
    connectors (sync, serve, check, import, remap, connector add/edit/remove/rotate-key)";

/// The key secret held by the environment variable `var`, surrounding whitespace
/// trimmed as `connector add` trims `$APPSCAN_KEY_SECRET` (a trailing space or newline
/// from a secrets file made every login fail with 401); none when it is unset or empty
/// (the file's check refuses an empty one).
pub fn secret_from_env(var: &str) -> Option<SecretString> {
    std::env::var(var)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map(SecretString::from)
}

/// A setting's type error in the words of the README, not Rust's: serde says "expected
/// usize" for a page size of -3 and "expected f64" for a threshold given as text.
fn in_words(message: &str) -> String {
    const TYPES: [(&str, &str); 9] = [
        ("usize", "a whole number, 0 or more"),
        ("u64", "a whole number, 0 or more"),
        ("u32", "a whole number, 0 or more"),
        ("u16", "a whole number, 0 or more"),
        ("u8", "a whole number, 0 or more"),
        ("i64", "a whole number"),
        ("i32", "a whole number"),
        ("f64", "a number"),
        ("f32", "a number"),
    ];
    TYPES.iter().fold(message.to_string(), |text, (ty, words)| {
        text.replace(&format!("expected {ty}"), &format!("expected {words}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "SECRET" => Some("s3cret".into()),
            "APPSCAN_BRIDGE_CONNECTOR_CLOUD_PAGE_SIZE" => Some("100".into()),
            _ => None,
        }
    }

    #[test]
    fn a_valid_file_with_an_override() {
        let text = "[[connector]]\nname = \"cloud\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"SECRET\"\npage_size = 20\nmap = \"default\"\n";
        let c = parse(text, "c.toml", &env).expect("valid");
        assert_eq!(
            c[0].settings.page_size, 100,
            "the environment overrides the file"
        );
        assert_eq!(c[0].settings.map, "default");
    }

    /// Options of another kind of connector are refused as the CLI refuses them (they
    /// were stored and ignored).
    #[test]
    fn options_of_another_kind_are_refused() {
        let text = "[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"SECRET\"\nexclude_informational = true\n\n[[connector]]\nname = \"r\"\nkind = \"xml\"\nfetch_details = true\n";
        let problems: Vec<String> = parse(text, "c.toml", &env)
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].starts_with("c.toml:7: ") && problems[0].contains("ase and xml"));
        assert!(problems[1].starts_with("c.toml:12: ") && problems[1].contains("asoc"));
        // A server's options for an xml connector, `date_format` but for ase: refused as
        // the CLI refuses them (a file's were stored and ignored).
        let text = "[[connector]]\nname = \"r\"\nkind = \"xml\"\nurl = \"https://x\"\npage_size = 20\n\n[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"SECRET\"\ndate_format = \"%d.%m.%y %H:%M\"\n";
        let problems: Vec<String> = parse(text, "c.toml", &env)
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("c.toml:4: ") && p.contains("`url`"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("c.toml:5: ") && p.contains("`page_size`"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("c.toml:13: ") && p.contains("`date_format`"))
        );
        // `time_zone` too: the zone of an ASE server's dates.
        let text = "[[connector]]\nname = \"r\"\nkind = \"xml\"\ntime_zone = \"Europe/Berlin\"\n\n[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"SECRET\"\ntime_zone = \"UTC\"\n";
        let problems: Vec<String> = parse(text, "c.toml", &env)
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].starts_with("c.toml:4: ")
                && problems[0].contains("`time_zone` is an option of ase connectors")
                && problems[0].contains("xml connector"),
            "{problems:#?}"
        );
        assert!(
            problems[1].starts_with("c.toml:12: ") && problems[1].contains("asoc connector"),
            "{problems:#?}"
        );
    }

    /// An ase connector's `time_zone` is an IANA zone name; an unknown one is pointed at
    /// with its line, named, and an example given.
    #[test]
    fn an_ase_time_zone() {
        let text = |zone: &str| {
            format!(
                "[[connector]]\nname = \"onprem\"\nkind = \"ase\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"SECRET\"\ntime_zone = \"{zone}\"\n"
            )
        };
        let c = parse(&text("America/New_York"), "c.toml", &env).expect("valid");
        assert_eq!(
            c[0].settings.full_run.time_zone.as_deref(),
            Some("America/New_York")
        );
        let problems: Vec<String> = parse(&text("Berlin"), "c.toml", &env)
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].starts_with("c.toml:7: ")
                && problems[0].contains("time_zone: unknown time zone 'Berlin'")
                && problems[0].contains("Europe/Berlin"),
            "{problems:#?}"
        );
    }

    /// `ca_file = ""` means none; a relative one is beside the config file (it was read
    /// from whatever directory a command ran in).
    #[test]
    fn ca_file_empty_or_relative_to_the_file() {
        let text = |ca: &str| {
            format!(
                "[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"SECRET\"\nca_file = \"{ca}\"\n"
            )
        };
        let c = parse(&text(""), "/etc/ab/config.toml", &env).expect("empty is none");
        assert_eq!(c[0].settings.ca_file, None);
        let p = parse(&text("ca.pem"), "/etc/ab/config.toml", &env).expect_err("no such file");
        assert!(p[0].message.contains("/etc/ab/ca.pem"), "{p:?}");
        // Stored absolute, also for a file given by a relative path, and `~/` is home.
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(beside("d1/config.toml", "ca.pem"), cwd.join("d1/ca.pem"));
        assert_eq!(beside("config.toml", "ca.pem"), cwd.join("ca.pem"));
        let home = dirs::home_dir().expect("home");
        assert_eq!(beside("/etc/ab/config.toml", "~/x.pem"), home.join("x.pem"));
        assert_eq!(
            store_beside(Path::new("/etc/ab/c.toml"), "rel.sqlite3".into()),
            "/etc/ab/rel.sqlite3"
        );
        assert_eq!(
            store_beside(Path::new("/etc/ab/c.toml"), "sqlite://rel.sqlite3".into()),
            "sqlite:///etc/ab/rel.sqlite3"
        );
        let pg = "postgres://u@h/db";
        assert_eq!(store_beside(Path::new("/etc/ab/c.toml"), pg.into()), pg);
    }

    /// An override is typed by its key: a key id or description made of digits stays text.
    #[test]
    fn overrides_take_their_keys_types() {
        assert_eq!(
            env_value("key_id", "12345".into()),
            toml::Value::String("12345".into())
        );
        assert_eq!(
            env_value("description", "2024".into()),
            toml::Value::String("2024".into())
        );
        assert_eq!(
            env_value("page_size", "100".into()),
            toml::Value::Integer(100)
        );
        assert_eq!(
            env_value("fetch_details", "true".into()),
            toml::Value::Boolean(true)
        );
        assert_eq!(
            env_value("page_size", "big".into()),
            toml::Value::String("big".into())
        );
    }

    /// A bad value from the environment names its variable: it was blamed on the file's
    /// line alone, where the file's value was fine.
    #[test]
    fn a_bad_override_names_its_variable() {
        let text = "[[connector]]\nname = \"cloud\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"SECRET\"\npage_size = 20\n";
        let env = |k: &str| match k {
            "APPSCAN_BRIDGE_CONNECTOR_CLOUD_PAGE_SIZE" => Some("0".into()),
            other => env(other),
        };
        let problems = parse(text, "c.toml", &env).expect_err("page size 0");
        let text = problems[0].to_string();
        assert!(text.starts_with("c.toml:7: "), "{text}");
        assert!(
            text.ends_with("(the value comes from $APPSCAN_BRIDGE_CONNECTOR_CLOUD_PAGE_SIZE)"),
            "{text}"
        );
    }

    /// An unset secret variable alone does not fail the file (listings must work in a
    /// shell without it); it is kept, with its line, for `config validate` and warnings.
    #[test]
    fn an_unset_secret_variable_alone_is_kept_aside() {
        let text = "[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"MISSING\"\n";
        let declared = parse(text, "c.toml", &env).expect("only the variable is missing");
        let unset = declared[0].secret_unset.as_ref().expect("kept aside");
        assert_eq!(
            unset.to_string(),
            "c.toml:6: connector 'a': environment variable MISSING is not set"
        );
        let set = parse(&text.replace("MISSING", "SECRET"), "c.toml", &env).expect("valid");
        assert!(set[0].secret_unset.is_none());
    }

    /// A secret variable that is set but empty is refused, naming it (it replaced the
    /// stored secret, and `config validate` said the file was valid).
    #[test]
    fn an_empty_secret_variable_is_refused() {
        let text = "[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"EMPTY\"\n";
        let env = |k: &str| (k == "EMPTY").then(|| "  ".to_string());
        let problems = parse(text, "c.toml", &env).expect_err("empty");
        assert_eq!(
            problems[0].to_string(),
            "c.toml:6: connector 'a': environment variable EMPTY is set but empty (give it \
             the key secret, or unset it to keep the stored one)"
        );
    }

    #[test]
    fn every_problem_with_its_line() {
        let text = "[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"MISSING\"\npage_size = \"big\"\nbogus = 1\nkey_secret = \"plain\"\n\n[[connector]]\nname = \"b\"\nkind = \"nope\"\n";
        let problems = parse(text, "c.toml", &env).unwrap_err();
        let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("c.toml:6:") && l.contains("MISSING is not set")),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("c.toml:7:") && l.contains("page_size")),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("c.toml:8:") && l.contains("unknown setting `bogus`")),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("c.toml:9:") && l.contains("secrets do not belong")),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("c.toml:13:") && l.contains("`kind` must be one of")),
            "{lines:#?}"
        );
        // A name `connector add` refuses is refused here, at its line (it passed, and
        // every command then failed without one).
        let text = "[[connector]]\nkind = \"xml\"\nname = \"..\"\n";
        let problems = parse(text, "c.toml", &env).unwrap_err();
        assert!(
            problems[0]
                .to_string()
                .starts_with("c.toml:3: connector name '..'"),
            "{problems:?}"
        );
    }

    /// Parsing `text` (as c.toml) reports each `(line, what)`: a problem at that line
    /// saying `what`.
    fn reported_at_lines(text: &str, expected: &[(usize, &str)]) {
        let problems = parse(text, "c.toml", &env).unwrap_err();
        let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        for (line, what) in expected {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(&format!("c.toml:{line}:")) && l.contains(what)),
                "{what} at line {line}: {lines:#?}"
            );
        }
    }

    /// Every value out of range is reported at its own line, also beside a type error,
    /// and so are a schedule an xml connector cannot have and a CA file that is not there.
    #[test]
    fn every_value_out_of_range_at_its_line() {
        let text = "[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"SECRET\"\npage_size = 0\nconcurrency = 0\nfailure_threshold = 2.0\ntimeout_seconds = \"long\"\nlocators = \"url,ip\"\nca_file = \"/nonexistent/ca.pem\"\n\n[[connector]]\nname = \"r\"\nkind = \"xml\"\nschedule = \"6h\"\n";
        reported_at_lines(
            text,
            &[
                (7, "page size 0 is outside"),
                (8, "concurrency 0 is outside"),
                (9, "failure threshold 2 is outside"),
                (10, "timeout_seconds"),
                (11, "unknown locator 'ip'"),
                (12, "CA file /nonexistent/ca.pem cannot be read"),
                (17, "an xml connector has no schedule"),
            ],
        );
    }

    /// Values past what any use needs were valid: an overlap of 99999999999999 s made the
    /// next sync panic (the cursor's arithmetic overflowed), a first retry delay of u64::MAX
    /// ms hung it.
    #[test]
    fn overlap_retries_and_timeout_have_upper_bounds() {
        let text = "[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"SECRET\"\noverlap_seconds = 99999999999999\nmax_retries = 4000000000\nretry_base_ms = 9999999999\ntimeout_seconds = 86400\n";
        reported_at_lines(
            text,
            &[
                (7, "overlap 99999999999999 s is outside 0..=2592000"),
                (8, "4000000000 retries is more than 100"),
                (9, "is more than 60000"),
                (10, "timeout 86400 s is outside 1..=3600"),
            ],
        );
    }

    /// A variable that overrides nothing (a typo in the key or the connector's name) is
    /// named, with its connector's line when its prefix names one; a connector's secret
    /// variable and real overrides are not.
    #[test]
    fn stray_overrides_are_named() {
        let text = "[[connector]]\nname = \"my-cloud\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"k\"\nkey_secret_env = \"APPSCAN_BRIDGE_CONNECTOR_MY_CLOUD_SECRET\"\n";
        let env = |k: &str| (k == "APPSCAN_BRIDGE_CONNECTOR_MY_CLOUD_SECRET").then(|| "s".into());
        let declared = parse(text, "c.toml", &env).expect("valid");
        let variables = [
            "APPSCAN_BRIDGE_CONNECTOR_MY_CLOUD_PAGE_SIZE",
            "APPSCAN_BRIDGE_CONNECTOR_MY_CLOUD_SECRET",
            "APPSCAN_BRIDGE_CONNECTOR_MY_CLOUD_PAGESIZE",
            "APPSCAN_BRIDGE_CONNECTOR_MYCLOUD_PAGE_SIZE",
            "APPSCAN_BRIDGE_STORE",
            "HOME",
        ]
        .map(String::from);
        let stray: Vec<String> = stray_overrides(&declared, "c.toml", variables.into_iter())
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(stray.len(), 2, "{stray:?}");
        assert!(
            stray[0].starts_with("c.toml:1: $APPSCAN_BRIDGE_CONNECTOR_MYCLOUD_PAGE_SIZE overrides nothing: no connector"),
            "{stray:?}"
        );
        assert!(
            stray[1].starts_with("c.toml:1: connector 'my-cloud': $APPSCAN_BRIDGE_CONNECTOR_MY_CLOUD_PAGESIZE overrides nothing: `pagesize` is no key"),
            "{stray:?}"
        );
        // A name cannot be overridden (it was ignored without a word), and a variable
        // that two connectors' names both spell overrides both: each is said.
        let text = "[[connector]]\nname = \"eu-prod\"\nkind = \"xml\"\n\n[[connector]]\nname = \"eu_prod\"\nkind = \"xml\"\n";
        let declared = parse(text, "c.toml", &env).expect("valid");
        let variables = [
            "APPSCAN_BRIDGE_CONNECTOR_EU_PROD_NAME",
            "APPSCAN_BRIDGE_CONNECTOR_EU_PROD_DESCRIPTION",
        ]
        .map(String::from);
        let stray: Vec<String> = stray_overrides(&declared, "c.toml", variables.into_iter())
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(stray.len(), 2, "{stray:?}");
        assert!(
            stray.iter().any(|s| s.starts_with("c.toml:1: $APPSCAN_BRIDGE_CONNECTOR_EU_PROD_DESCRIPTION overrides `description` of 2 connectors at once: 'eu-prod', 'eu_prod'")),
            "{stray:?}"
        );
        assert!(
            stray.iter().any(|s| s.contains("$APPSCAN_BRIDGE_CONNECTOR_EU_PROD_NAME overrides nothing: a connector's `name` cannot be overridden")),
            "{stray:?}"
        );
    }

    /// `config validate` checks the store URL as `--store` is checked, at its line
    /// (`mysql://x` passed).
    #[test]
    fn the_store_url_is_checked() {
        let text =
            "# bridge\nstore = \"mysql://x\"\n\n[[connector]]\nname = \"a\"\nkind = \"xml\"\n";
        let problems: Vec<String> = parse(text, "c.toml", &env)
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].starts_with("c.toml:2: `store`: ") && problems[0].contains("mysql"),
            "{problems:#?}"
        );
    }

    /// A `key_secret_env` that is no variable name is refused without repeating it (it is
    /// likely the secret, and was echoed in every warning); an empty one and an empty
    /// `key_id` are refused.
    #[test]
    fn a_secret_variable_that_is_no_name_and_an_empty_key_id() {
        let text = "[[connector]]\nname = \"a\"\nkind = \"asoc\"\nurl = \"https://x\"\nkey_id = \"\"\nkey_secret_env = \"Zx9+k/Q2-secret==\"\n";
        let problems: Vec<String> = parse(text, "c.toml", &env)
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].starts_with("c.toml:5: connector 'a': `key_id` is empty"),
            "{problems:#?}"
        );
        assert!(
            problems[1].starts_with("c.toml:6: connector 'a': `key_secret_env` must be the name"),
            "{problems:#?}"
        );
        assert!(!problems.iter().any(|p| p.contains("Zx9")), "{problems:#?}");
        let empty = text.replace("Zx9+k/Q2-secret==", "");
        let problems = parse(&empty, "c.toml", &env).expect_err("refused");
        assert!(
            problems
                .iter()
                .any(|p| p.line == 6 && p.message.contains("must be the name")),
            "{problems:#?}"
        );
    }

    /// A file that cannot be read is reported without a line ("at line 0").
    #[test]
    fn a_missing_file_has_no_line() {
        let p = load(Path::new("/nonexistent/c.toml")).expect_err("missing");
        assert!(
            p[0].to_string()
                .starts_with("/nonexistent/c.toml: cannot read: "),
            "{p:?}"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let p = parse("[[connector]\nname = 1", "c.toml", &env).unwrap_err();
        assert_eq!(p[0].line, 1, "{p:?}");
    }
}
