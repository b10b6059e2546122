//! Ctrl-C and SIGTERM during a benchmark: the running child gets the same signal and
//! the benchmark waits for it, no child starts after it, and an in-process measurement
//! (the raw bound) is cancelled; the benchmark then stops the simulator and exits 130
//! or 143. Without this, a child (a sync, an import) outlived the benchmark and retried
//! the vanished simulator for half a minute.
//!
//! The signal itself is caught by the CLI's watch (`commands::on_stop_signal`, which also
//! quits at once on a second signal); this is what the watch calls. Each child is
//! besides started with `PR_SET_PDEATHSIG` = SIGTERM ([`die_with_parent`]): should the
//! benchmark die without winding down (SIGKILL), its child gets SIGTERM.

use server::StopSignal;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex, PoisonError};
use tokio_util::sync::CancellationToken;

/// Shared between the signal watch and the thread running the scenarios. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Stopper {
    state: Arc<Mutex<State>>,
    /// Cancelled at the signal, for work done in this process.
    cancel: CancellationToken,
}

#[derive(Debug, Default)]
struct State {
    caught: Option<StopSignal>,
    /// The running child, until it has exited (not yet reaped: its id cannot be reused).
    running: Option<libc::pid_t>,
}

impl Stopper {
    /// Records `signal` and forwards it to the running child, if any.
    pub fn stop(&self, signal: StopSignal) {
        let mut state = self.lock();
        state.caught.get_or_insert(signal);
        if let Some(pid) = state.running {
            // SAFETY: `kill` has no memory effects; `pid` is a child that has not been
            // reaped yet (see `exited`), so it names no other process.
            unsafe { libc::kill(pid, number(signal)) };
        }
        self.cancel.cancel();
    }

    /// The signal that stopped the benchmark, if one did.
    pub fn caught(&self) -> Option<StopSignal> {
        self.lock().caught
    }

    /// Cancelled when a signal arrives.
    pub fn cancelled(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Starts `cmd` as the running child, unless a signal came first.
    pub fn spawn(&self, cmd: &mut Command) -> anyhow::Result<Child> {
        let mut state = self.lock();
        if let Some(signal) = state.caught {
            anyhow::bail!("not started: the benchmark was {}", signal.reason());
        }
        die_with_parent(cmd);
        let child = cmd.spawn()?;
        state.running = libc::pid_t::try_from(child.id()).ok();
        Ok(child)
    }

    /// The running child has exited (call before reaping it): no signal goes to its id
    /// any more.
    pub fn exited(&self) {
        self.lock().running = None;
    }

    /// A child is running.
    #[cfg(test)]
    pub fn has_running_child(&self) -> bool {
        self.lock().running.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The signal's number.
fn number(signal: StopSignal) -> libc::c_int {
    match signal {
        StopSignal::Interrupt => libc::SIGINT,
        StopSignal::Terminate => libc::SIGTERM,
    }
}

/// Has the child get SIGTERM when the thread that started it ends — the benchmark's
/// scenario thread, which waits for each child it starts, so in effect when the
/// benchmark dies — and quit at once if the benchmark is already gone.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe functions (prctl, getppid, _exit); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                libc::_exit(143);
            }
            Ok(())
        });
    }
}

/// Elsewhere the children are left to the signal forwarding alone.
#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_child_starts_after_a_signal() {
        let stopper = Stopper::default();
        stopper.stop(StopSignal::Interrupt);
        assert_eq!(stopper.caught(), Some(StopSignal::Interrupt));
        assert!(stopper.cancelled().is_cancelled());
        let e = stopper
            .spawn(&mut Command::new("true"))
            .expect_err("started after the signal");
        assert!(e.to_string().contains("interrupted (Ctrl-C)"), "{e}");
        // The first signal is the one kept.
        stopper.stop(StopSignal::Terminate);
        assert_eq!(stopper.caught(), Some(StopSignal::Interrupt));
    }
}
