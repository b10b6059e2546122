//! `appscan-bridge`: argument parsing and output only; the work is done by the library
//! crates (runner, store, sim).
//!
//! # Layout
//! - `args`: the command line.
//! - `commands`: one module per command family.
//! - `output`, `progress`, `secret_input`: printing, the progress bar, reading secrets.
//! - `pipe`: ending quietly when a listing's reader closes the pipe.
//! - `logging`: the log's level and format.
//! - `memory`: allocator settings of the commands that favour low memory.

mod args;
mod bench;
mod commands;
mod logging;
mod memory;
mod output;
mod pipe;
mod progress;
mod secret_input;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of glibc's allocator: a sync or an import allocates and frees
/// millions of short-lived records from several threads, where glibc spends a fifth of
/// the time and keeps freed memory in per-thread arenas (see README, Benchmarks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    pipe::die_quietly_on_closed_stdout(&cli.command);
    let log_format = match logging::format(cli.log_format) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    logging::init(cli.verbose, log_format, &cli.command);
    memory::without_huge_pages();
    if matches!(cli.command, args::Command::Import(_)) {
        memory::favour_low_memory();
    }
    if matches!(cli.command, args::Command::Serve(_)) {
        memory::few_malloc_arenas();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = rt.block_on(commands::run(cli));
    // A store call still waiting on a lock in a blocking thread (a scheduler pass that
    // `serve` gave up on at shutdown) would hold the exit for as long as it waits: the
    // runtime drops without waiting for it.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(code) => code,
        Err(e) => {
            // Each cause once: wrappers that print their source (thiserror's `{0}`)
            // would otherwise say it twice, SQLite's three times.
            // Errors quote servers and files (an error page's title, a record's value).
            let said = apiclient::text::error_chain(e.as_ref());
            logging::fatal(log_format, &said);
            ExitCode::FAILURE
        }
    }
}
