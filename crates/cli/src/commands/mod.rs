//! One module per command family; [`run`] dispatches.

mod check;
mod columns;
mod config;
mod connector;
mod dedupe;
mod demo;
mod export;
mod filter_help;
mod import;
mod list;
mod maps;
mod migrate;
mod risk;
mod serve;
mod sim;
mod status;
mod sync;
mod token;

use crate::args::{Cli, Command, ConfigCommand, ConnectorCommand, MapCommand, TokenCommand};
use anyhow::{Context, bail};
use runner::{MasterKey, Runner, paths};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// What every command that touches the store shares.
pub struct Ctx {
    pub data_dir: PathBuf,
    pub quiet: bool,
    pub runner: Runner,
}

impl Ctx {
    /// Opens the store and the master key in the data directory.
    pub fn open(data_dir: PathBuf, quiet: bool) -> anyhow::Result<Ctx> {
        Ctx::open_with(data_dir, quiet, None)
    }

    /// Opens the store `store_url` names (`--store`), else the SQLite file in the data
    /// directory, and the master key in the data directory.
    pub fn open_with(
        data_dir: PathBuf,
        quiet: bool,
        store_url: Option<&str>,
    ) -> anyhow::Result<Ctx> {
        paths::create_private_dir(&data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let sqlite_file = match store_url {
            Some(url) => store::open::backend(url)
                .ok()
                .and_then(|(_, path)| path.map(std::path::PathBuf::from)),
            None => Some(paths::store_file(&data_dir)),
        };
        if let Some(file) = sqlite_file
            && !quiet
        {
            announce_upgrade(&file);
        }
        let store = open_store(&data_dir, store_url)?;
        // No new key for a store whose secrets are sealed with one this machine lacks.
        let sealed = store.connectors()?.iter().any(|c| c.secret.is_some());
        let key = MasterKey::for_store(&data_dir, sealed)?;
        Ok(Ctx {
            data_dir,
            quiet,
            runner: Runner::new(store, key),
        })
    }

    /// Prints a confirmation ("Map 'x' saved."), which `--quiet` drops.
    pub fn confirm(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            println!("{line}");
        }
    }
}

/// Says (on stderr, a service's log included) that opening the SQLite store at `file`
/// upgrades its schema first: a rebuild of a million findings takes the better part of a
/// minute, during which other commands wait for the store.
fn announce_upgrade(file: &std::path::Path) {
    if let Ok(Some((from, to))) = store::SqliteStore::pending_upgrade(file) {
        eprintln!(
            "Upgrading the store {} from schema {from} to {to} (a large store can take a minute)...",
            file.display()
        );
    }
}

/// The store `--store` names, else `<data dir>/store.sqlite3`.
pub fn open_store(
    data_dir: &std::path::Path,
    store_url: Option<&str>,
) -> anyhow::Result<Arc<dyn store::Store>> {
    Ok(match store_url {
        Some(url) => store::open(url)?,
        None => Arc::new(store::SqliteStore::open(&paths::store_file(data_dir))?),
    })
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let quiet = cli.quiet;
    let data_dir = paths::data_dir(cli.data_dir);
    // Store paths are text (URLs, the store's own records): one that is not was written
    // to by some commands and read as "no store here" by others.
    if data_dir.to_str().is_none() {
        bail!(
            "the data directory {} is not valid UTF-8: give one whose name is (--data-dir or ${})",
            data_dir.display(),
            paths::DATA_DIR_ENV
        );
    }
    let config_file = config::locate(cli.config, &data_dir);
    // --store (or $APPSCAN_BRIDGE_STORE), else the config file's `store`.
    let store_url = match cli.store {
        Some(flag) => Some(flag),
        None => store_from_env()?,
    }
    .or_else(|| config_file.as_deref().and_then(runner::config::store_of))
    .map(paths::home_relative_store);
    match cli.command {
        Command::Migrate(a) => migrate::run(a, &data_dir, store_url.as_deref(), quiet).await,
        Command::Demo(a) => demo::run(a, &data_dir, quiet).await,
        Command::Sim(a) => sim::run(a).await,
        Command::Bench(a) => crate::bench::run(a, quiet).await,
        Command::Config(ConfigCommand::Validate { file }) => config::validate(file.or(config_file)),
        Command::FilterHelp(a) => filter_help::run(a),
        // They read a file or the built-in targets, not the store.
        Command::Map(MapCommand::Validate { file }) => maps::validate(&file),
        Command::Map(MapCommand::Targets(a)) => maps::targets(a.json),
        other => {
            let store = match &store_url {
                Some(url) => store::postgres::url::redact(url),
                None => paths::store_file(&data_dir).display().to_string(),
            };
            with_store(other, data_dir, quiet, store_url.as_deref(), config_file)
                .await
                .map_err(|e| on_store_failure(e, &store))
        }
    }
}

/// `$APPSCAN_BRIDGE_STORE`, when it is set to something (an empty one is as unset).
fn store_from_env() -> anyhow::Result<Option<String>> {
    paths::env_value(paths::STORE_ENV)
        .map(|v| {
            v.into_string()
                .map_err(|_| anyhow::anyhow!("${} is not valid UTF-8", paths::STORE_ENV))
        })
        .transpose()
}

/// A watch for Ctrl-C and SIGTERM while a command works: the signal it caught, if any.
/// Abort it once the work is over.
pub(crate) struct SignalWatch {
    task: tokio::task::JoinHandle<()>,
    caught: Arc<std::sync::OnceLock<server::StopSignal>>,
}

impl SignalWatch {
    pub(crate) fn abort(&self) {
        self.task.abort();
    }

    /// The signal that asked the work to stop, if one did.
    fn caught(&self) -> Option<server::StopSignal> {
        self.caught.get().copied()
    }
}

/// Calls `on_first` at the first Ctrl-C or SIGTERM (a service manager stopping the job,
/// `timeout`) and keeps which it was; a second signal quits at once, for a wind-down
/// that hangs (a store that does not answer).
pub(crate) fn on_stop_signal(
    on_first: impl FnOnce(server::StopSignal) + Send + 'static,
) -> SignalWatch {
    let caught = Arc::new(std::sync::OnceLock::new());
    let seen = caught.clone();
    let task = tokio::spawn(async move {
        let first = server::shutdown_signal().await;
        let _ = seen.set(first);
        on_first(first);
        quit_on_second_signal().await
    });
    SignalWatch { task, caught }
}

/// Stops `stop`'s run on Ctrl-C or SIGTERM, saying which, so that the run ends cleanly:
/// what it read is written, it is recorded Cancelled with that reason and its lock is
/// released. After a second signal what was written stays, and `status` shows the run
/// interrupted.
fn cancel_on_stop_signal(stop: runner::Stop) -> SignalWatch {
    on_stop_signal(move |first| stop.stop(first.reason()))
}

/// The exit status of a run: 0 when it ended Processed (or Aborted: there was nothing to
/// do), 130 or 143 when Ctrl-C or SIGTERM stopped it — as a shell reports a process the
/// signal ended, so that a script tells a stop from a failure (both were 1) — else 1.
fn run_exit_code(state: store::RunState, signal: Option<server::StopSignal>) -> ExitCode {
    match (state, signal) {
        (store::RunState::Processed | store::RunState::Aborted, _) => ExitCode::SUCCESS,
        (store::RunState::Cancelled, Some(s)) => ExitCode::from(s.exit_code() as u8),
        _ => ExitCode::FAILURE,
    }
}

/// A signal this soon after the first is the same request: GNU `timeout` sends SIGTERM to
/// the command and then to its process group, so one stop arrives twice at once.
const SAME_STOP: std::time::Duration = std::time::Duration::from_secs(1);

/// Waits for another Ctrl-C or SIGTERM — one that comes later than [`SAME_STOP`] after
/// the first — and ends the process at once, with the status a shell gives a process the
/// signal killed.
async fn quit_on_second_signal() -> ! {
    let first = tokio::time::Instant::now();
    let signal = loop {
        let signal = server::shutdown_signal().await;
        if first.elapsed() >= SAME_STOP {
            break signal;
        }
    };
    let _ = writeln!(
        std::io::stderr(),
        "{} again: quitting at once (a run that had not recorded its end shows as interrupted)",
        signal.reason()
    );
    std::process::exit(signal.exit_code())
}

/// A failure of the store met after it was opened says which store and what to do.
fn on_store_failure(e: anyhow::Error, store: &str) -> anyhow::Error {
    on_read_only(
        on_corrupt(on_busy(on_full_disk(e, store), store), store),
        store,
    )
}

/// A write refused because this process may only read the store file says so: SQLite
/// opened it read-only without a word and said "attempt to write a readonly database".
fn on_read_only(e: anyhow::Error, store: &str) -> anyhow::Error {
    if !store::error::is_read_only(e.as_ref()) {
        return e;
    }
    e.context(format!(
        "the store file {store} can only be read by this process (its permissions, another \
         user's file, or a read-only mount): nothing was changed; run the command as the \
         file's owner, or make the file and its directory writable"
    ))
}

/// A failure whose cause is a full disk under the store says which store, what to do
/// and that nothing stored was lost: SQLite rolls the open transaction back, and a sync
/// that stops moves no cursor, so the next one fetches what this one missed.
fn on_full_disk(e: anyhow::Error, store: &str) -> anyhow::Error {
    if !store::error::is_disk_full(e.as_ref()) {
        return e;
    }
    e.context(format!(
        "the disk under the store {store} is full; free space and run the command again \
         (what was stored is kept, and `status` shows how the last run ended: one that did \
         not finish moved no cursor; a first sync can also fill the disk when its indexes \
         are built after it finished)"
    ))
}

/// A failure because another process held the store's write lock past the 30 s wait (a
/// long import or sync, `migrate`, a `sqlite3` session) says which store and that nothing
/// was lost: the write that waited was rolled back, and a sync that stops moves no cursor.
fn on_busy(e: anyhow::Error, store: &str) -> anyhow::Error {
    if !store::error::is_busy(e.as_ref()) {
        return e;
    }
    e.context(format!(
        "the store {store} is locked: another process (a sync, an import, `migrate`, a \
         sqlite3 session) held it for the whole 30 s wait; nothing was lost (what this \
         command was writing was rolled back, and a sync that stops moves no cursor): run \
         the command again when that process is done"
    ))
}

/// A failure because the store file is damaged (a page SQLite cannot read) says which
/// file and what to do.
fn on_corrupt(e: anyhow::Error, store: &str) -> anyhow::Error {
    if !store::error::is_corrupt(e.as_ref()) {
        return e;
    }
    e.context(format!(
        "the store file {store} is damaged: stop every process that uses it, then restore \
         it from a backup (or salvage what SQLite can read with `sqlite3 {store} .recover`)"
    ))
}

/// Whether a command needs what is already stored (it lists, or works on a connector):
/// run where nothing was ever stored (a mistyped `--data-dir`), it says so instead of
/// creating an empty store and a master key to list nothing or report "connector 'x'
/// does not exist" of a store nobody meant.
fn needs_a_store(command: &Command) -> bool {
    matches!(
        command,
        Command::Status(_)
            | Command::Runs(_)
            | Command::Assets(_)
            | Command::Findings(_)
            | Command::Finding(_)
            | Command::Export(_)
            | Command::Sync(_)
            | Command::Check(_)
            | Command::Remap(_)
            | Command::Rescore(_)
            | Command::Connector(
                ConnectorCommand::List(_)
                    | ConnectorCommand::Show { .. }
                    | ConnectorCommand::Edit(_)
                    | ConnectorCommand::Remove { .. }
                    | ConnectorCommand::RotateKey { .. }
            )
            | Command::Token(TokenCommand::List { .. } | TokenCommand::Revoke { .. })
    )
}

/// Whether a command applies the config file to the store before it works: the commands
/// that run connectors or change them. Every other command leaves the stored connectors
/// as they are: a listing in a shell without a service's override variables wrote the
/// file's plain values back (another tenant's URL and key id, the cursor cleared) under
/// the running service, and made a store and a master key in a mistyped data directory.
fn applies_config(command: &Command) -> bool {
    matches!(
        command,
        Command::Sync(_)
            | Command::Serve(_)
            | Command::Check(_)
            | Command::Import(_)
            | Command::Remap(_)
            | Command::Connector(
                ConnectorCommand::Add(_)
                    | ConnectorCommand::Edit(_)
                    | ConnectorCommand::Remove { .. }
                    | ConnectorCommand::RotateKey { .. }
            )
    )
}

/// Whether a command that does not apply the config file shows connectors, and so reads
/// the file to say where the stored ones differ from it.
fn compares_config(command: &Command) -> bool {
    matches!(
        command,
        Command::Status(_)
            | Command::Connector(ConnectorCommand::List(_) | ConnectorCommand::Show { .. })
    )
}

/// The connector a command changes the stored declaration of (its URL, key, settings),
/// or removes.
fn changes_connector(command: &Command) -> Option<&str> {
    match command {
        Command::Connector(ConnectorCommand::Edit(a)) => Some(&a.name),
        Command::Connector(
            ConnectorCommand::Remove { name } | ConnectorCommand::RotateKey { name, .. },
        ) => Some(name),
        _ => None,
    }
}

/// Where no store is, a command that needs one says so (a mistyped `--data-dir` or
/// `schema=` is not an empty store).
fn no_store(url: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "there is no store at {}: nothing was synced into it (add a connector with \
         `appscan-bridge connector add`, or give the --data-dir or --store that holds one)",
        store::postgres::url::redact(url)
    )
}

/// Whether `url` names a SQLite file that is empty (0 bytes). SQLite takes one for a new
/// database, so a command that only reads would make a store of it (and a master key),
/// where the file is more likely a copy that failed.
fn empty_store_file(url: &str) -> bool {
    matches!(store::open::backend(url), Ok((store::open::Backend::Sqlite, Some(path)))
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0))
}

/// `import --dry-run` where there is no store yet: the report is read and mapped against
/// an empty store in a temporary directory (with the config file's connectors), removed
/// afterwards, and the preview says there was nothing to compare with. Nothing is created
/// where the store would be: a dry run stores nothing, and a mistyped `--data-dir` must
/// not become a store and a master key. An import into a named connector needs the store
/// that holds it.
async fn dry_run_without_store(
    a: &crate::args::ImportArgs,
    url: &str,
    quiet: bool,
    config: Option<&runner::config::Config>,
) -> anyhow::Result<ExitCode> {
    let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
    let ctx = Ctx::open_with(scratch.path().to_path_buf(), quiet, None)?;
    let declared = config::apply(&ctx, config)?;
    if let Some(name) = &a.connector
        && !declared.contains(name)
    {
        return Err(no_store(url));
    }
    let shown = store::postgres::url::redact(url);
    import::run(&ctx, a.clone(), Some(&shown)).await
}

/// The commands that open the store.
async fn with_store(
    command: Command,
    data_dir: PathBuf,
    quiet: bool,
    store_url: Option<&str>,
    config_file: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let map_command = match &command {
        Command::Map(m) => Some(m),
        _ => None,
    };
    let applies = applies_config(&command);
    // Read and checked before anything is opened or created.
    let config = match applies || compares_config(&command) {
        true => config::load(config_file.as_deref())?,
        false => None,
    };
    // A command that applies the file may make the store its connectors go into.
    if !(applies && config.is_some()) && (needs_a_store(&command) || map_command.is_some()) {
        let default_file;
        let url = match store_url {
            Some(url) => url,
            None => {
                default_file = paths::store_file(&data_dir).display().to_string();
                &default_file
            }
        };
        // A new map makes the store; a listing shows the built-in map without one; a
        // change needs a stored map.
        let makes_one = map_command
            .is_some_and(|m| matches!(m, MapCommand::Clone { .. } | MapCommand::Import { .. }));
        let empty = empty_store_file(url);
        if !makes_one && (empty || !store::open::exists(url)?) {
            if let Some(m) = map_command
                && let Some(code) = maps::without_a_store(m)?
            {
                return Ok(code);
            }
            if empty {
                anyhow::bail!(
                    "the store file {url} is empty (0 bytes): it holds no store (a copy that \
                     failed?); restore the store there, or remove the file to start a new one"
                );
            }
            return Err(no_store(url));
        }
    }
    let kev = match &command {
        Command::Kev(k) => risk::read_kev(k)?,
        _ => Vec::new(),
    };
    if let Command::Import(a) = &command
        && a.dry_run
    {
        let url = match store_url {
            Some(url) => url.to_string(),
            None => paths::store_file(&data_dir).display().to_string(),
        };
        if !store::open::exists(&url)? {
            return dry_run_without_store(a, &url, quiet, config.as_ref()).await;
        }
    }
    let ctx = Ctx::open_with(data_dir, quiet, store_url)?;
    let declared = match applies {
        true => config::apply(&ctx, config.as_ref())?,
        false => config::compare(&ctx, config.as_ref())?,
    };
    if matches!(command, Command::Serve(_) | Command::Status(_)) {
        config::warn_undeclared(&ctx, config.as_ref())?;
    }
    if let (Some(name), Some(file)) = (changes_connector(&command), &config_file)
        && declared.iter().any(|d| d == name)
    {
        anyhow::bail!(
            "connector '{name}' is declared in the config file {}: change it there (the file \
             is applied before every command that runs or changes connectors, so a change made here would be undone by the next)",
            file.display()
        );
    }
    match command {
        Command::Connector(ConnectorCommand::Add(a)) => connector::add(&ctx, *a),
        Command::Connector(ConnectorCommand::List(a)) => connector::list(&ctx, a.json),
        Command::Sync(a) => sync::run(&ctx, a).await,
        Command::Import(a) => import::run(&ctx, a, None).await,
        Command::Status(a) => status::status(&ctx, a),
        Command::Runs(a) => status::runs(&ctx, a),
        Command::Assets(a) => list::assets(&ctx, a),
        Command::Findings(a) => list::findings(&ctx, a),
        Command::Finding(a) => list::finding(&ctx, a),
        Command::Export(a) => export::run(&ctx, a),
        Command::Kev(k) => risk::kev(&ctx, k, kev),
        Command::Rescore(a) => risk::rescore(&ctx, a.json),
        Command::Serve(a) => serve::run(&ctx, a).await,
        Command::Token(t) => token::run(&ctx, t),
        Command::Connector(ConnectorCommand::Show { name, json }) => {
            connector::show(&ctx, &name, json)
        }
        Command::Connector(ConnectorCommand::Edit(a)) => connector::edit(&ctx, *a),
        Command::Connector(ConnectorCommand::Remove { name }) => connector::remove(&ctx, &name),
        Command::Connector(ConnectorCommand::RotateKey { name, key_id }) => {
            connector::rotate_key(&ctx, &name, key_id).await
        }
        Command::Check(a) => check::check(&ctx, a).await,
        Command::Remap(a) => check::remap(&ctx, a).await,
        Command::Map(MapCommand::List(a)) => maps::list(&ctx, a.json),
        Command::Map(MapCommand::Show { name }) => maps::show(&ctx, &name),
        Command::Map(MapCommand::Clone { from, to }) => maps::clone(&ctx, &from, &to),
        Command::Map(MapCommand::Set { name, assignments }) => maps::set(&ctx, &name, &assignments),
        Command::Map(MapCommand::Edit { name }) => maps::edit(&ctx, &name),
        Command::Map(MapCommand::Import { file }) => maps::import(&ctx, &file),
        Command::Map(MapCommand::Remove { name }) => maps::remove(&ctx, &name),
        Command::Map(MapCommand::Validate { .. } | MapCommand::Targets(_))
        | Command::Config(ConfigCommand::Validate { .. }) => unreachable!("handled above"),
        Command::Migrate(_) | Command::FilterHelp(_) => unreachable!("handled above"),
        Command::Demo(_) | Command::Sim(_) | Command::Bench(_) => {
            unreachable!("handled above")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{on_busy, on_full_disk, on_store_failure};

    /// A real SQLITE_FULL: a database capped at a few pages, filled.
    fn full_disk() -> store::StoreError {
        let conn = rusqlite::Connection::open_in_memory().expect("memory");
        conn.execute_batch("PRAGMA max_page_count = 8; CREATE TABLE t (v BLOB)")
            .expect("schema");
        loop {
            if let Err(e) = conn.execute("INSERT INTO t VALUES (zeroblob(2000))", []) {
                return store::StoreError::from(e);
            }
        }
    }

    #[test]
    fn a_full_disk_names_the_store_and_what_to_do() {
        let e = anyhow::Error::from(full_disk()).context("writing run 3");
        let told = on_full_disk(e, "/data/store.sqlite3");
        let text = apiclient::text::error_chain(told.as_ref());
        assert!(
            text.starts_with("the disk under the store /data/store.sqlite3 is full; free space"),
            "{text}"
        );
        assert!(text.contains("writing run 3"), "{text}");
        assert!(text.ends_with("database or disk is full"), "{text}");

        let other = on_full_disk(anyhow::anyhow!("connector 'x' does not exist"), "/data");
        assert_eq!(other.to_string(), "connector 'x' does not exist");
    }

    /// A real SQLITE_BUSY: a write while another connection holds the write lock.
    #[test]
    fn a_locked_store_names_the_store_and_says_nothing_was_lost() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("store.sqlite3");
        let holder = rusqlite::Connection::open(&file).expect("open");
        holder
            .execute_batch("CREATE TABLE t (v INTEGER); BEGIN IMMEDIATE")
            .expect("the write lock");
        let waiter = rusqlite::Connection::open(&file).expect("open");
        waiter
            .busy_timeout(std::time::Duration::ZERO)
            .expect("no wait");
        let busy = waiter
            .execute("INSERT INTO t VALUES (1)", [])
            .expect_err("locked");
        let e = anyhow::Error::from(store::StoreError::from(busy)).context("writing run 3");
        let told = on_busy(e, "/data/store.sqlite3");
        let text = apiclient::text::error_chain(told.as_ref());
        assert!(
            text.starts_with("the store /data/store.sqlite3 is locked: another process"),
            "{text}"
        );
        assert!(text.contains("nothing was lost"), "{text}");
        assert!(text.ends_with("database is locked"), "{text}");

        let other = on_busy(anyhow::anyhow!("connector 'x' does not exist"), "/data");
        assert_eq!(other.to_string(), "connector 'x' does not exist");
    }

    /// A real SQLITE_READONLY: a write on a file SQLite opened read-only, as it does
    /// without a word when this process may only read it (another user's 0644 store).
    #[test]
    fn a_store_this_process_may_only_read_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("store.sqlite3");
        rusqlite::Connection::open(&file)
            .expect("open")
            .execute_batch("CREATE TABLE t (v INTEGER)")
            .expect("schema");
        let reader = rusqlite::Connection::open_with_flags(
            &file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open read-only");
        let refused = reader
            .execute("INSERT INTO t VALUES (1)", [])
            .expect_err("read-only");
        let e = anyhow::Error::from(store::StoreError::from(refused)).context("writing run 3");
        let told = on_store_failure(e, "/data/store.sqlite3");
        let text = apiclient::text::error_chain(told.as_ref());
        assert!(
            text.starts_with("the store file /data/store.sqlite3 can only be read by this process"),
            "{text}"
        );
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(
            text.ends_with("attempt to write a readonly database"),
            "{text}"
        );
    }
}
