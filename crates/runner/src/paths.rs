//! Where appscan-bridge keeps its files.

use std::path::PathBuf;

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "APPSCAN_BRIDGE_DATA_DIR";

/// The environment variable that names the store when `--store` does not.
pub const STORE_ENV: &str = "APPSCAN_BRIDGE_STORE";

/// The value of the environment variable `name` when it is set to something: an empty
/// value (`VAR=` in a unit file or a script) is as unset, as most tools take it (an
/// empty data directory was the current one, an empty config file a file named "").
pub fn env_value(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The data directory: the flag if given, else `APPSCAN_BRIDGE_DATA_DIR` (when not empty),
/// else the user's data directory (`~/.local/share/appscan-bridge` on Linux).
pub fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| env_value(DATA_DIR_ENV).map(PathBuf::from))
        .map(home_relative)
        .or_else(|| dirs::data_dir().map(|d| d.join("appscan-bridge")))
        .unwrap_or_else(|| PathBuf::from(".appscan-bridge"))
}

/// `~/x` as the home directory's `x`. A shell does that to a word it sees unquoted, not
/// to `--data-dir="~/x"`, a service unit's `Environment=` or a variable set in a file:
/// those made a directory named `~` in the current directory, a store nobody found again.
/// Such a `./~/x` left by an older version is used (with a warning) while the home
/// directory has no `x`.
pub fn home_relative(path: PathBuf) -> PathBuf {
    let rest = match path.to_str() {
        Some("~") => "",
        Some(p) if p.starts_with("~/") => &p[2..],
        _ => return path,
    };
    match dirs::home_dir() {
        Some(home) => {
            let expanded = home.join(rest);
            // Versions before this reading left their data in `./~/x`: it stays in use
            // (a command that writes would otherwise start an empty store beside it)
            // until it is moved.
            if path.exists() && !expanded.exists() {
                tracing::warn!(
                    "'{}' means {} now; ./{} here was made by an older version and is used until it is moved there (mv './{}' '{}')",
                    path.display(),
                    expanded.display(),
                    path.display(),
                    path.display(),
                    expanded.display()
                );
                return path;
            }
            expanded
        }
        None => path,
    }
}

/// The SQLite database file inside a data directory.
pub fn store_file(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("store.sqlite3")
}

/// Creates a directory (and missing parents) readable by its owner only (`0700` on Unix):
/// the data directory holds the store and the master key. An existing directory is left
/// as it is.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// A store named by a path (`~/x.sqlite3`, `sqlite://~/x.sqlite3`) with a leading `~/`
/// as the home directory ([`home_relative`]); other store URLs as they are.
pub fn home_relative_store(url: String) -> String {
    let (scheme, path) = match url.strip_prefix("sqlite://") {
        Some(path) => ("sqlite://", path),
        None => ("", url.as_str()),
    };
    if path != "~" && !path.starts_with("~/") {
        return url;
    }
    let expanded = home_relative(PathBuf::from(path));
    format!("{scheme}{}", expanded.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let home = dirs::home_dir().expect("a home directory");
        assert_eq!(home_relative("~/data".into()), home.join("data"));
        assert_eq!(home_relative("~".into()), home);
        assert_eq!(home_relative("/srv/~x".into()), PathBuf::from("/srv/~x"));
        assert_eq!(home_relative("~other/x".into()), PathBuf::from("~other/x"));
        let at_home = |p: &str| home.join(p).display().to_string();
        assert_eq!(home_relative_store("~/s.db".into()), at_home("s.db"));
        assert_eq!(
            home_relative_store("sqlite://~/s.db".into()),
            format!("sqlite://{}", at_home("s.db"))
        );
        let pg = "postgres://u@h/db?schema=~x".to_string();
        assert_eq!(home_relative_store(pg.clone()), pg);
    }
}
