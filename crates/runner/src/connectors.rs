//! Registering connectors and opening their secrets.

use crate::settings::Settings;
use crate::{Runner, RunnerError, SecretError};
use secrecy::SecretString;
use store::{Connector, ConnectorState, NewConnector};

/// The source kinds a connector can have.
pub const KINDS: &[&str] = &["asoc", "ase", "xml"];

/// What `connector add` is given.
pub struct AddConnector {
    pub name: String,
    pub kind: String,
    pub url: Option<String>,
    pub key_id: Option<String>,
    pub secret: Option<SecretString>,
    pub settings: Settings,
}

impl Runner {
    /// Looks a connector up by name.
    pub fn connector(&self, name: &str) -> Result<Connector, RunnerError> {
        self.store
            .connector(name)?
            .ok_or_else(|| RunnerError::NoSuchConnector(name.to_string()))
    }

    /// [`RunnerError::NoSuchConnector`] (which points at `connector list`) when `name` is
    /// given and is no connector: a listing's `--connector`.
    pub fn require_connector(&self, name: Option<&str>) -> Result<(), RunnerError> {
        match name {
            Some(name) => self.connector(name).map(drop),
            None => Ok(()),
        }
    }

    /// Registers a connector; the secret is sealed before it reaches the store.
    pub fn add_connector(&self, add: AddConnector) -> Result<Connector, RunnerError> {
        if !KINDS.contains(&add.kind.as_str()) {
            return Err(RunnerError::Config(format!(
                "unknown connector kind '{}' (one of: {})",
                add.kind,
                KINDS.join(", ")
            )));
        }
        let name = add.name.trim();
        check_name(name).map_err(RunnerError::Config)?;
        check_url(&add.kind, add.url.as_deref())
            .and_then(|()| check_schedule(&add.kind, &add.settings))
            .and_then(|()| check_ca_file(&add.settings))
            .map_err(|why| RunnerError::Config(format!("connector '{name}': {why}")))?;
        add.settings.validate().map_err(RunnerError::Config)?;
        crate::maps::load(self.store.as_ref(), &add.settings.map)?;
        let secret = add.secret.as_ref().map(|s| self.seal(s)).transpose()?;
        Ok(self.store.create_connector(&NewConnector {
            name: name.to_string(),
            kind: add.kind,
            url: add.url,
            key_id: add.key_id,
            secret,
            settings: add.settings.to_json(),
        })?)
    }

    /// Seals a new secret, once the master key is known to open the secrets already
    /// stored: a data directory with another key (a copy set up apart, a second worker
    /// started with its own) sealed new secrets under it, and no one key then opened
    /// every connector's.
    pub(crate) fn seal(&self, secret: &SecretString) -> Result<Vec<u8>, RunnerError> {
        self.check_key()?;
        Ok(self.key.seal(secret)?)
    }

    /// Whether the master key is the store's: there is one, and it opens one of the
    /// secrets stored (when any is). [`SecretError::NoKey`] or
    /// [`SecretError::KeyMismatch`] otherwise.
    pub fn check_key(&self) -> Result<(), RunnerError> {
        self.key.require()?;
        let stored = self.store.connectors()?;
        let sealed: Vec<(&str, &[u8])> = stored
            .iter()
            .filter_map(|c| Some((c.name.as_str(), c.secret.as_deref()?)))
            .collect();
        if let Some((first, _)) = sealed.first()
            && sealed.iter().all(|(name, s)| {
                matches!(self.key.open(s, name), Err(SecretError::WrongKey { .. }))
            })
        {
            return Err(SecretError::KeyMismatch {
                connector: first.to_string(),
            }
            .into());
        }
        Ok(())
    }

    /// Opens a connector's sealed secret.
    pub fn open_secret(&self, c: &Connector) -> Result<Option<SecretString>, RunnerError> {
        Ok(c.secret
            .as_ref()
            .map(|s| self.key.open(s, &c.name))
            .transpose()?)
    }
}

/// What `connector edit` changes; `None` keeps the current value.
#[derive(Default)]
pub struct EditConnector {
    pub url: Option<String>,
    pub key_id: Option<String>,
}

impl Runner {
    /// Changes a connector's URL, key id or settings, validating the result.
    pub fn edit_connector(
        &self,
        name: &str,
        edit: EditConnector,
        change: impl FnOnce(&mut Settings),
    ) -> Result<Connector, RunnerError> {
        let before = self.connector(name)?;
        let mut c = before.clone();
        let mut settings = Settings::from_json(&c.settings).map_err(RunnerError::Config)?;
        let ca_before = settings.ca_file.clone();
        change(&mut settings);
        // A CA file is checked when it is given, so that one gone since does not block
        // unrelated edits.
        check_schedule(&c.kind, &settings)
            .and_then(|()| match settings.ca_file != ca_before {
                true => check_ca_file(&settings),
                false => Ok(()),
            })
            .map_err(|why| RunnerError::Config(format!("connector '{name}': {why}")))?;
        settings.validate().map_err(RunnerError::Config)?;
        crate::maps::load(self.store.as_ref(), &settings.map)?;
        if let Some(url) = edit.url {
            check_url(&c.kind, Some(&url))
                .map_err(|why| RunnerError::Config(format!("connector '{name}': {why}")))?;
            c.url = Some(url);
        }
        if let Some(k) = edit.key_id {
            c.key_id = Some(k);
        }
        c.settings = settings.to_json();
        self.save_connector(&before, &mut c)?;
        if settings.schedule.is_none() {
            self.unschedule(&c)?;
        }
        Ok(c)
    }

    /// Saves `after`, an edit of `before`. When it fetches from elsewhere (another server,
    /// another application filter) its cursor goes: a delta run asks for what changed
    /// since the cursor, and of the new scope it would fetch nothing that was there
    /// before, silently. The next sync is a full one.
    pub(crate) fn save_connector(
        &self,
        before: &Connector,
        after: &mut Connector,
    ) -> Result<(), RunnerError> {
        let filter = |c: &Connector| {
            Settings::from_json(&c.settings)
                .ok()
                .and_then(|s| s.app_filter)
                .filter(|f| !f.trim().is_empty())
        };
        self.store.update_connector(after)?;
        if after.cursor.is_some() && (before.url != after.url || filter(before) != filter(after)) {
            self.store.clear_cursor(after.id)?;
            after.cursor = None;
        }
        Ok(())
    }

    /// Takes a connector out of Scheduled once nothing schedules it (its schedule was
    /// removed, or it cannot have one): it shows how its last run ended again, or
    /// Registered, instead of a "next run" that will never come. So does a connector
    /// Errored for a schedule the scheduler refused (it stayed so, until a `serve` ran).
    pub fn unschedule(&self, c: &Connector) -> Result<(), RunnerError> {
        if c.state != ConnectorState::Scheduled && !refused_for_its_schedule(c) {
            return Ok(());
        }
        self.show_last_run(c)
    }

    /// Sets a connector's state to how its last run ended (Registered before any): what
    /// it shows once no schedule speaks for it.
    pub fn show_last_run(&self, c: &Connector) -> Result<(), RunnerError> {
        let (state, reason) = match self.store.last_run(c.id)? {
            Some(run) => (ConnectorState::after(run.state), run.reason),
            None => (ConnectorState::Registered, None),
        };
        self.store
            .set_connector_state(c.id, state, reason.as_deref())?;
        Ok(())
    }

    /// Removes a connector with its runs, assets and findings; not while a run of it is
    /// under way (that run then failed on rows that were gone).
    pub fn remove_connector(&self, name: &str) -> Result<(), RunnerError> {
        if let Some(c) = self.store.connector(name)?
            && let Some(lock) = self.running_lock(c.id)?
        {
            return Err(RunnerError::Config(format!(
                "a sync of connector '{name}' is running (run {}, held by {}): stop it first, \
                 or remove the connector once it has ended",
                lock.run_id, lock.holder
            )));
        }
        if self.store.delete_connector(name)? {
            Ok(())
        } else {
            Err(RunnerError::NoSuchConnector(name.to_string()))
        }
    }

    /// Replaces a connector's key after proving the new key can log in; on failure the old
    /// key stays and the error says why: the server refused the new key (400 for a key of
    /// the wrong form, 401, 403), or the login could not be made (the server unreachable,
    /// another failure).
    pub async fn rotate_key(
        &self,
        name: &str,
        key_id: Option<String>,
        secret: SecretString,
    ) -> Result<Connector, RunnerError> {
        let mut c = self.connector(name)?;
        let settings = Settings::from_json(&c.settings).map_err(RunnerError::Config)?;
        let key_id = key_id.or(c.key_id.clone()).ok_or_else(|| {
            RunnerError::Config(format!("connector '{name}' has no key id; give --key-id"))
        })?;
        // Only the server's answer to the login judges the key (400, 401, 403: the
        // clients' `Auth` and `Forbidden`); a server that cannot be reached (or fails
        // otherwise) has not.
        let failed = |judged: bool, e: &dyn std::fmt::Display| {
            RunnerError::Config(if judged {
                format!("the new key was refused, the old key is kept: {e}")
            } else {
                format!("could not log in with the new key ({e}); the old key is kept")
            })
        };
        let url = || {
            c.url
                .clone()
                .ok_or_else(|| RunnerError::Config(format!("connector '{name}' has no URL")))
        };
        let ca_file = settings.ca_file.as_ref().map(Into::into);
        // The new key must log in before it replaces the old one (an XML connector has
        // no key to test).
        match c.kind.as_str() {
            "asoc" => {
                let mut cfg = asoc::ClientConfig::new(url()?, key_id.clone(), secret.clone());
                cfg.max_retries = 1;
                cfg.ca_file = ca_file;
                let client =
                    asoc::AsocClient::new(cfg).map_err(|e| RunnerError::Config(e.to_string()))?;
                client.login().await.map_err(|e| {
                    let judged = matches!(
                        e,
                        asoc::AsocError::Auth { .. } | asoc::AsocError::Forbidden { .. }
                    );
                    failed(judged, &e)
                })?;
                client.logout().await;
            }
            "ase" => {
                let mut cfg = ase::AseConfig::new(url()?, key_id.clone(), secret.clone());
                cfg.max_retries = 1;
                cfg.ca_file = ca_file;
                let client =
                    ase::AseClient::new(cfg).map_err(|e| RunnerError::Config(e.to_string()))?;
                client.login().await.map_err(|e| {
                    let judged = matches!(
                        e,
                        ase::AseError::Auth { .. } | ase::AseError::Forbidden { .. }
                    );
                    failed(judged, &e)
                })?;
                client.logout().await;
            }
            _ => {}
        }
        c.key_id = Some(key_id);
        c.secret = Some(self.seal(&secret)?);
        self.store.update_connector(&c)?;
        Ok(c)
    }
}

/// Why a connector of `kind` cannot be synced, when it cannot: an xml connector is fed
/// by `import` and has nothing to fetch.
pub fn import_only(kind: &str, name: &str) -> Option<String> {
    (kind == "xml").then(|| {
        format!(
            "connector '{name}' reads AppScan XML reports: feed it with `appscan-bridge import FILE --connector {name}`"
        )
    })
}

/// A schedule only a connector that fetches can keep: an xml connector's would fail at
/// every slot while it showed Scheduled.
pub(crate) fn check_schedule(kind: &str, settings: &Settings) -> Result<(), String> {
    match (&settings.schedule, kind) {
        (Some(_), "xml") => Err(
            "an xml connector has no schedule: it runs when a report is imported (`import FILE`)"
                .into(),
        ),
        _ => Ok(()),
    }
}

/// A CA file that cannot be read or holds no certificate is refused where it is given
/// (`connector add/edit`, a config file), not found by the first sync.
pub(crate) fn check_ca_file(settings: &Settings) -> Result<(), String> {
    match &settings.ca_file {
        Some(ca) => apiclient::ca_file::read(std::path::Path::new(ca)).map(drop),
        None => Ok(()),
    }
}

/// Whether the connector is Errored because the scheduler refused its schedule (the
/// reasons `serve`'s schedule parser and scheduler give), not because of a run.
pub fn refused_for_its_schedule(c: &Connector) -> bool {
    c.state == ConnectorState::Errored
        && c.state_reason.as_deref().is_some_and(|r| {
            r.starts_with("invalid schedule '") || r.starts_with("not scheduled: ")
        })
}

/// A connector's name is a path segment of the API and the dashboard: `.` and `..` are
/// ones no browser or client sends as they are (they resolve them, encoded or not), and a
/// backslash is a `/` to browsers.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    // Invisible characters too: a bidirectional override or a zero-width space shows a
    // name as another one.
    let invisible = |c: char| {
        model::text::is_bidi_control(c)
            || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    };
    let refused =
        |c: char| c.is_whitespace() || c.is_control() || invisible(c) || c == '/' || c == '\\';
    if name.is_empty() || name == "." || name == ".." || name.chars().any(refused) {
        return Err(format!(
            "connector name '{}' must be non-empty, not '.' or '..', without spaces, \
             control or invisible characters, '/' or '\\'",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// An API connector's URL, checked as its client checks it when a run starts, so that a
/// typo fails the registration instead of the first sync. XML connectors have none.
pub(crate) fn check_url(kind: &str, url: Option<&str>) -> Result<(), String> {
    if kind == "xml" {
        return Ok(());
    }
    let url = url.ok_or_else(|| format!("an {kind} connector needs a URL"))?;
    apiclient::base_url::parse(url)
        .map(drop)
        .map_err(|why| format!("url {:?}: {why}", apiclient::base_url::shown(url)))
}

#[cfg(test)]
mod tests {
    use super::check_name;

    /// `.` and `..` were accepted, and the dashboard's link to them led elsewhere.
    #[test]
    fn names_that_are_no_path_segment_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "a b",
            "a/b",
            "a\\b",
            "a\u{7}b",
            "a\u{202E}b",
            "a\u{200B}b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in ["cloud", "a.b", "...", "my-cloud_2", "\u{e9}t\u{e9}"] {
            assert_eq!(check_name(good), Ok(()), "{good:?}");
        }
    }
}
