//! Where appscan-bridge keeps its files.

use std::path::PathBuf;

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "APPSCAN_BRIDGE_DATA_DIR";

/// The data directory: the flag if given, else `APPSCAN_BRIDGE_DATA_DIR`, else the user's
/// data directory (`~/.local/share/appscan-bridge` on Linux).
pub fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os(DATA_DIR_ENV).map(PathBuf::from))
        .or_else(|| dirs::data_dir().map(|d| d.join("appscan-bridge")))
        .unwrap_or_else(|| PathBuf::from(".appscan-bridge"))
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
