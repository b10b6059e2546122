//! The environment a measured child runs in: this user's appscan-bridge settings
//! removed, so that a benchmark never reads or writes the user's own store, key or
//! config, and logs, allocator tuning or a proxy set for everyday use do not change what
//! is measured. Every child reaches only the loopback simulator and the benchmark's own
//! files.

use std::ffi::OsString;
use std::process::Command;

/// Removes from `cmd`'s environment every variable [`stripped`] names that this process
/// has.
pub fn isolate(cmd: &mut Command) {
    isolate_from(cmd, std::env::vars_os().map(|(name, _)| name));
}

/// Removes the [`stripped`] variables among `names` from `cmd`'s environment.
fn isolate_from(cmd: &mut Command, names: impl IntoIterator<Item = OsString>) {
    for name in names {
        if name.to_str().is_some_and(stripped) {
            cmd.env_remove(name);
        }
    }
}

/// Variables a child must not inherit: every `APPSCAN_BRIDGE_*` (the store, the master
/// key, the config file, the data directory, connector overrides, the inactivity window),
/// the key secret (set explicitly where a child needs it), `RUST_LOG` (more logging is
/// slower), mimalloc's tuning (the CLI sets its own) and the proxy variables (the
/// simulator is on loopback; a proxy would measure itself).
fn stripped(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "APPSCAN_KEY_SECRET",
        "RUST_LOG",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ];
    name.starts_with("APPSCAN_BRIDGE_")
        || name.starts_with("MIMALLOC_")
        || EXACT.iter().any(|e| e.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_s_store_key_and_logging_are_not_inherited() {
        let mut cmd = Command::new("true");
        let names = [
            "APPSCAN_BRIDGE_STORE",
            "APPSCAN_BRIDGE_MASTER_KEY",
            "APPSCAN_BRIDGE_CONFIG",
            "APPSCAN_BRIDGE_DATA_DIR",
            "APPSCAN_BRIDGE_CONNECTOR_BENCH_PAGE_SIZE",
            "APPSCAN_KEY_SECRET",
            "RUST_LOG",
            "https_proxy",
            "PATH",
            "HOME",
        ];
        isolate_from(&mut cmd, names.map(OsString::from));
        let removed: Vec<String> = cmd
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        assert_eq!(removed.len(), names.len() - 2, "{removed:?}");
        assert!(!removed.iter().any(|n| n == "PATH" || n == "HOME"));
    }
}
