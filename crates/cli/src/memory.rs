//! Allocator settings (see README, Benchmarks).
//!
//! mimalloc's defaults favour speed: freed memory goes back to the OS only after a
//! second (ten for whole arenas), and its regions are advised as transparent huge pages,
//! so one touched byte makes 2 MiB resident and the kernel zeroes all 2 MiB first.
//! Huge pages bought nothing here: a 1M-finding sync ran as fast without them (median
//! of three 23.9 s against 24.6 s) and peaked at 114 instead of 131 MiB, and its delta
//! sync, where zeroing fresh huge pages was 7 % of the CPU, ran within noise of it, so
//! every command goes without ([`without_huge_pages`]).
//! The quick return of freed memory is for the commands that promise a small, flat
//! footprint (`import`: under 100 MB whatever the report's size; a 100 MB report peaked
//! at 110 MiB with the defaults and at 78 MiB without, in the same time): a sync, whose
//! target is speed, ran 10 % slower with it.

use libmimalloc_sys::{mi_option_set, mi_option_t};

/// `mi_option_purge_delay` (milliseconds) in mimalloc v3's `mi_option_e`; libmimalloc-sys
/// does not name it. The test below checks the index against the option's default.
const PURGE_DELAY: mi_option_t = 15;
/// `mi_option_allow_thp` in mimalloc v3's `mi_option_e`.
const ALLOW_THP: mi_option_t = 43;

/// How long freed memory may stay with the process before it is given back.
const LOW_MEMORY_PURGE_DELAY_MS: i64 = 10;

/// Hands freed memory back to the OS promptly. Call it before the command allocates
/// much, and before other threads start (mimalloc's option setter is not thread safe).
pub fn favour_low_memory() {
    // SAFETY: a plain setter of mimalloc's global options, called from `main` before
    // the runtime starts other threads; the index is checked by the tests below.
    unsafe {
        mi_option_set(PURGE_DELAY, LOW_MEMORY_PURGE_DELAY_MS as _);
    }
}

/// Stops asking for transparent huge pages. Call it as [`favour_low_memory`].
pub fn without_huge_pages() {
    // SAFETY: a plain setter of mimalloc's global options, called as `favour_low_memory`.
    unsafe {
        mi_option_set(ALLOW_THP, 0);
    }
    // A kernel set to give every process huge pages (`always`) ignores the missing
    // advice; this opts the process out.
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Caps the C library's malloc arenas at two, for a long-running service. SQLite
/// allocates with it (its bundled build), not with mimalloc, and `serve` calls SQLite from
/// the blocking pool's many threads: glibc gave each its own arena, where the freed blocks
/// of page caches stayed resident between live ones. Two `serve` workers side by side on
/// one SQLite store, 180 connectors syncing every minute: with 16 arenas (two cores; more
/// on more cores) 567 MiB after 18 minutes and still rising, glibc holding 539 MB with
/// 7 MB in use; with two, 142–166 MiB from the third minute on. A `MALLOC_ARENA_MAX` set
/// to something is left to glibc. Call it as [`favour_low_memory`].
pub fn few_malloc_arenas() {
    if runner::paths::env_value("MALLOC_ARENA_MAX").is_none() {
        cap_malloc_arenas(2);
    }
}

#[cfg(target_env = "gnu")]
fn cap_malloc_arenas(n: std::ffi::c_int) {
    // SAFETY: a plain setter of glibc's malloc parameters, called from `main` before the
    // runtime starts other threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, n);
    }
}

#[cfg(not(target_env = "gnu"))]
fn cap_malloc_arenas(_: std::ffi::c_int) {}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::mi_option_get;

    fn option(o: mi_option_t) -> std::ffi::c_long {
        // SAFETY: a plain getter of mimalloc's global options.
        unsafe { mi_option_get(o) }
    }

    #[test]
    fn option_indexes_name_the_options_they_mean() {
        // mimalloc v3 defaults (unless overridden from the environment): purge delay
        // 1000 ms, huge pages allowed. A shifted index would read another option.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(option(PURGE_DELAY), 1000, "mi_option_purge_delay moved");
        }
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            assert_eq!(option(ALLOW_THP), 1, "mi_option_allow_thp moved");
        }
    }
}
