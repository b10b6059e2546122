//! Runs one measured child process: wall time from spawn to exit, and the child's own
//! peak resident memory, so the number is the measured program's alone and not the
//! simulator's that lives in the benchmark process.
//!
//! The peak is the program's `VmHWM` (high-water mark of its address space) polled from
//! `/proc/<pid>/status` while it runs. `ru_maxrss` from `wait4` is no good here: Linux
//! carries the parent's RSS at spawn time into the child's `ru_maxrss` across `exec`, so
//! every child of a benchmark process holding a million simulated issues "peaked" at the
//! benchmark's own size. It is only the fallback for a child too short to be polled.

use anyhow::{Context, bail};
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the child's high-water mark is read: often at first, so that a short child
/// is read at all, then every [`POLL`].
const POLL: Duration = Duration::from_millis(20);
const FIRST_POLLS: u32 = 50;
const FIRST_POLL: Duration = Duration::from_millis(2);

/// What one child run measured.
#[derive(Debug, Clone)]
pub struct ChildRun {
    pub wall: Duration,
    /// Peak RSS in MiB.
    pub peak_rss_mib: f64,
    /// Everything the child wrote on standard output.
    pub stdout: String,
}

/// Runs `cmd` to completion with its standard output captured in `scratch` (a file, so
/// a large output cannot block the child) and standard error inherited. A non-zero
/// exit is an error quoting the command's last output lines.
pub fn measure(mut cmd: Command, scratch: &Path) -> anyhow::Result<ChildRun> {
    let out =
        File::create(scratch).with_context(|| format!("cannot create {}", scratch.display()))?;
    let err_path = scratch.with_extension("stderr");
    let err =
        File::create(&err_path).with_context(|| format!("cannot create {}", err_path.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {shown}"))?;
    let poller = HighWater::watch(child.id());
    let waited = wait_with_rusage(child.id());
    // Taken as the child is reaped: stopping the poller (a join that may wait out its
    // 20 ms sleep) is the benchmark's time, not the child's.
    let wall = start.elapsed();
    let polled_kib = poller.stop();
    let (status, max_rss_kib) = waited.with_context(|| format!("cannot wait for {shown}"))?;
    let peak_kib = match polled_kib {
        0 => u64::try_from(max_rss_kib).unwrap_or(0),
        kib => kib,
    };
    let stdout = std::fs::read_to_string(scratch).unwrap_or_default();
    if status != 0 {
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "{shown} failed (wait status {status}):\n{}",
            tail.join("\n")
        );
    }
    Ok(ChildRun {
        wall,
        peak_rss_mib: peak_kib as f64 / 1024.0,
        stdout,
    })
}

/// Waits for process `pid` and returns its raw wait status (0 = exited with code 0)
/// and its peak RSS in KiB. `std::process::Child::wait` does not expose the resource
/// usage, hence `wait4(2)`.
fn wait_with_rusage(pid: u32) -> std::io::Result<(i32, i64)> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("process id out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value that wait4 overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers point at live, writable locals for the whole call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage.ru_maxrss));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A thread reading a process's `VmHWM` until stopped.
struct HighWater {
    done: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl HighWater {
    fn watch(pid: u32) -> HighWater {
        let done = Arc::new(AtomicBool::new(false));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let (d, p) = (done.clone(), peak_kib.clone());
        let path = format!("/proc/{pid}/status");
        let thread = std::thread::spawn(move || {
            let mut polls = 0u32;
            while !d.load(Ordering::Relaxed) {
                if let Some(kib) = std::fs::read_to_string(&path)
                    .ok()
                    .as_deref()
                    .and_then(vm_hwm_kib)
                {
                    p.fetch_max(kib, Ordering::Relaxed);
                }
                polls += 1;
                std::thread::sleep(if polls < FIRST_POLLS {
                    FIRST_POLL
                } else {
                    POLL
                });
            }
        });
        HighWater {
            done,
            peak_kib,
            thread,
        }
    }

    /// Stops polling; the highest mark read (0 when none was).
    fn stop(self) -> u64 {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak_kib.load(Ordering::Relaxed)
    }
}

/// `VmHWM` in KiB from the text of `/proc/<pid>/status`.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_high_water_mark() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(vm_hwm_kib(status), Some(1234));
        assert_eq!(vm_hwm_kib("Name:\tx\n"), None);
    }

    #[test]
    fn a_child_s_peak_is_its_own() {
        let run = measure(
            Command::new("true"),
            &std::env::temp_dir().join(format!("hwm-{}", std::process::id())),
        )
        .expect("true runs");
        assert!(run.peak_rss_mib < 64.0, "{run:?}");
    }
}
