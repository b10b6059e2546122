//! Runs one measured child process: wall time from spawn to exit, and the child's own
//! peak resident memory, so the number is the measured program's alone and not the
//! simulator's that lives in the benchmark process.
//!
//! The peak is the program's `VmHWM` (high-water mark of its address space) polled from
//! `/proc/<pid>/status` while it runs. `ru_maxrss` from `wait4` is no good here: Linux
//! carries the parent's RSS at spawn time into the child's `ru_maxrss` across `exec`, so
//! every child of a benchmark process holding a million simulated issues "peaked" at the
//! benchmark's own size. It is only the fallback for a child too short to be polled.

use super::interrupt::Stopper;
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
    /// CPU time the child used, user and system (from `wait4`'s resource usage).
    pub cpu: Duration,
    /// Peak RSS in MiB.
    pub peak_rss_mib: f64,
    /// Everything the child wrote on standard output.
    pub stdout: String,
}

/// Runs `cmd` to completion with its standard output captured in `scratch` (a file, so
/// a large output cannot block the child) and standard error in `scratch.stderr`. A
/// non-zero exit is an error saying how it ended and quoting the command's last error
/// lines. The child is `stopper`'s running child: a Ctrl-C or SIGTERM is forwarded to it.
pub fn measure(mut cmd: Command, scratch: &Path, stopper: &Stopper) -> anyhow::Result<ChildRun> {
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
    let child = stopper
        .spawn(&mut cmd)
        .with_context(|| format!("cannot start {shown}"))?;
    let poller = HighWater::watch(child.id());
    let exited = wait_for_exit(child.id());
    // Taken as the child exits: stopping the poller (a join that may wait out its 20 ms
    // sleep) is the benchmark's time, not the child's.
    let wall = start.elapsed();
    stopper.exited();
    let waited = exited.and_then(|()| wait_with_rusage(child.id()));
    let polled_kib = poller.stop();
    let (status, usage) = waited.with_context(|| format!("cannot wait for {shown}"))?;
    let peak_kib = match polled_kib {
        0 => u64::try_from(usage.ru_maxrss).unwrap_or(0),
        kib => kib,
    };
    let stdout = std::fs::read_to_string(scratch).unwrap_or_default();
    if status != 0 {
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{shown} {}:\n{}", ended(status), tail.join("\n"));
    }
    Ok(ChildRun {
        wall,
        cpu: cpu_time(&usage),
        peak_rss_mib: peak_kib as f64 / 1024.0,
        stdout,
    })
}

/// Waits until process `pid` has exited, without reaping it: until it is reaped its id
/// names no other process, so a signal forwarded meanwhile cannot reach one.
fn wait_for_exit(pid: u32) -> std::io::Result<()> {
    let pid = libc::id_t::from(pid);
    loop {
        // SAFETY: siginfo_t is plain old data; all-zero is a valid value that waitid fills.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a live, writable local for the whole call.
        let r = unsafe { libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// How a child whose raw wait status is `status` ended, in words: "exited with code 2",
/// "killed by SIGINT".
pub fn ended(status: i32) -> String {
    if libc::WIFEXITED(status) {
        let code = libc::WEXITSTATUS(status);
        let why = match code {
            130 => " (as a program stopped by SIGINT exits)",
            143 => " (as a program stopped by SIGTERM exits)",
            _ => "",
        };
        format!("exited with code {code}{why}")
    } else if libc::WIFSIGNALED(status) {
        let core = if libc::WCOREDUMP(status) {
            " (core dumped)"
        } else {
            ""
        };
        format!("killed by {}{core}", signal_name(libc::WTERMSIG(status)))
    } else {
        format!("ended with wait status {status}")
    }
}

/// The name of signal `n`: "SIGTERM", or "signal 42".
fn signal_name(n: libc::c_int) -> String {
    let named = [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGXCPU, "SIGXCPU"),
    ];
    named
        .iter()
        .find(|(number, _)| *number == n)
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| format!("signal {n}"))
}

/// User plus system CPU time of a resource usage.
fn cpu_time(usage: &libc::rusage) -> Duration {
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Waits for process `pid` and returns its raw wait status (0 = exited with code 0)
/// and its resource usage (CPU times, peak RSS in KiB). `std::process::Child::wait` does not expose the resource
/// usage, hence `wait4(2)`.
fn wait_with_rusage(pid: u32) -> std::io::Result<(i32, libc::rusage)> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("process id out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value that wait4 overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers point at live, writable locals for the whole call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
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

    /// A scratch file in a directory of its own, removed with it (in the system's temp
    /// directory they were left behind, two files per test and run).
    fn scratch(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        (dir, path)
    }

    #[test]
    fn a_child_s_peak_is_its_own() {
        let (_dir, out) = scratch("hwm");
        let run = measure(Command::new("true"), &out, &Stopper::default()).expect("true runs");
        assert!(run.peak_rss_mib < 64.0, "{run:?}");
    }

    #[test]
    fn a_child_s_cpu_time_is_counted() {
        let mut busy = Command::new("sh");
        busy.args(["-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"]);
        let (_dir, out) = scratch("cpu");
        let run = measure(busy, &out, &Stopper::default()).expect("sh runs");
        assert!(run.cpu > Duration::ZERO, "{run:?}");
    }

    #[test]
    fn wait_statuses_in_words() {
        // 33280 was reported as "failed (wait status 33280)": exit code 130.
        assert_eq!(
            ended(33280),
            "exited with code 130 (as a program stopped by SIGINT exits)"
        );
        assert_eq!(ended(2 << 8), "exited with code 2");
        assert_eq!(ended(libc::SIGINT), "killed by SIGINT");
        assert_eq!(ended(libc::SIGTERM), "killed by SIGTERM");
        assert_eq!(
            ended(libc::SIGSEGV | 0x80),
            "killed by SIGSEGV (core dumped)"
        );
        assert_eq!(ended(42), "killed by signal 42");
    }

    #[test]
    fn a_signal_reaches_the_running_child() {
        let stopper = Stopper::default();
        let forward = stopper.clone();
        let signaller = std::thread::spawn(move || {
            // Once the child runs (a signal before would keep it from starting).
            while !forward.has_running_child() {
                std::thread::sleep(Duration::from_millis(5));
            }
            forward.stop(server::StopSignal::Terminate);
        });
        let mut sleep = Command::new("sleep");
        sleep.arg("30");
        let (_dir, out) = scratch("forward");
        let e = measure(sleep, &out, &stopper).expect_err("sleep was stopped");
        let _ = signaller.join();
        let e = format!("{e:#}");
        assert!(e.contains("killed by SIGTERM"), "{e}");
    }
}
