//! Behaving like a Unix filter when standard output is a pipe that closes early
//! (`appscan-bridge findings | head`).
//!
//! Rust ignores SIGPIPE, so a closed pipe turns into a write error and `println!`
//! panics with "Broken pipe". Commands that only print restore the default action, so the
//! process ends quietly the way `cat` does. Long-running commands (`serve`, `sim`,
//! `bench`, `demo`, `sync`, `import` but its dry run) keep ignoring it: they talk to sockets and child
//! processes, and a closed pipe there is an error to report, not a reason to die. Once
//! their work is stored and only their report is left to print, those that end (`sync`,
//! `import`, `remap`, `check`, `migrate`, `demo`) restore it too ([`only_printing_remains`]).

use crate::args::{Command, ConnectorCommand};

/// Restores SIGPIPE's default action for commands whose job is to print.
pub fn die_quietly_on_closed_stdout(command: &Command) {
    if prints_only(command) {
        // SAFETY: called at the start of `main`, before any thread exists; `signal` with
        // SIG_DFL installs no handler code.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

/// Restores SIGPIPE's default action once a command's work is done and only its report
/// is left to print: `sync | head -1` then ends the way a listing does, instead of
/// panicking with "Broken pipe" (exit 101) after a run that was stored and succeeded.
pub fn only_printing_remains() {
    // SAFETY: `sigaction` is thread-safe and installs SIG_DFL, no handler code; the
    // struct is zeroed (an empty mask, no flags) before its one field is set.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(libc::SIGPIPE, &default, std::ptr::null_mut());
    }
}

fn prints_only(command: &Command) -> bool {
    match command {
        // A dry run reads a file and prints what it found.
        Command::Import(a) => return a.dry_run,
        // Listing and showing connectors only print; the other connector commands write.
        Command::Connector(c) => {
            return matches!(c, ConnectorCommand::List(_) | ConnectorCommand::Show { .. });
        }
        _ => {}
    }
    !matches!(
        command,
        Command::Serve(_)
            | Command::Sim(_)
            | Command::Bench(_)
            | Command::Demo(_)
            | Command::Sync(_)
            | Command::Migrate(_)
            | Command::Check(_)
            | Command::Remap(_)
    )
}

#[cfg(test)]
mod tests {
    use super::prints_only;
    use crate::args::Cli;
    use clap::Parser;

    fn command(args: &[&str]) -> crate::args::Command {
        Cli::parse_from(std::iter::once("appscan-bridge").chain(args.iter().copied())).command
    }

    #[test]
    fn an_import_keeps_sigpipe_ignored_but_its_dry_run_prints_only() {
        assert!(!prints_only(&command(&["import", "r.xml"])));
        assert!(prints_only(&command(&["import", "--dry-run", "r.xml"])));
        assert!(prints_only(&command(&["findings"])));
        assert!(!prints_only(&command(&["sync", "c"])));
        // `connector list | head -1` panicked on the closed pipe.
        assert!(prints_only(&command(&["connector", "list"])));
        assert!(prints_only(&command(&["connector", "show", "c"])));
        assert!(!prints_only(&command(&["connector", "remove", "c"])));
    }
}
