//! Runs one measured child process: wall time from spawn to exit, and the child's own
//! peak resident memory (`ru_maxrss` from `wait4`), so the number is the syncing
//! process's alone and not the simulator's that lives in the benchmark process.

use anyhow::{Context, bail};
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let (status, max_rss_kib) =
        wait_with_rusage(child.id()).with_context(|| format!("cannot wait for {shown}"))?;
    let wall = start.elapsed();
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
        peak_rss_mib: max_rss_kib as f64 / 1024.0,
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
