//! The log on standard error: its level (from `-v`, `RUST_LOG` or the command) and its
//! format (text for a person, JSON lines for a log collector).

use crate::args::{Command, LogFormat};

/// Where `--log-format` is read from when the flag is not given.
pub const FORMAT_ENV: &str = "APPSCAN_BRIDGE_LOG_FORMAT";

/// What `serve` logs without `-v`: its own and its runs' start, end and problems. A
/// service that logged only warnings showed nothing of the runs that went well, so an
/// operator could not tell a quiet service from a stuck one.
const SERVICE_DEFAULT: &str = "warn,server=info,runner=info";

/// The format asked for: the flag, else [`FORMAT_ENV`] when set to something, else text.
/// A value of the variable that names no format is refused, naming the variable.
pub fn format(flag: Option<LogFormat>) -> Result<LogFormat, String> {
    if let Some(f) = flag {
        return Ok(f);
    }
    let Some(value) = runner::paths::env_value(FORMAT_ENV) else {
        return Ok(LogFormat::Text);
    };
    let text = value.to_string_lossy();
    clap::ValueEnum::from_str(text.trim(), true)
        .map_err(|_| format!("${FORMAT_ENV} is '{text}': expected text or json"))
}

/// The crates whose log `-v` turns up (their targets): the libraries' own debug and trace
/// lines (a PostgreSQL driver's every statement with its values, a TLS library's
/// multi-line dumps) buried ours and put stored findings into the log.
const OURS: [&str; 12] = [
    "appscan_bridge",
    "apiclient",
    "asoc",
    "ase",
    "export",
    "model",
    "query",
    "runner",
    "server",
    "sim",
    "store",
    "xml_report",
];

/// The level filter: `RUST_LOG` when it is set and reads, else the one `-v` asks for
/// (info, debug, trace for this program's crates; libraries stay at warnings), else the
/// command's default (info for `serve`, warnings for the rest).
fn filter(verbose: u8, command: &Command) -> tracing_subscriber::EnvFilter {
    let level = match verbose {
        0 if matches!(command, Command::Serve(_)) => return directives(SERVICE_DEFAULT),
        0 => return directives("warn"),
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let ours: Vec<String> = OURS.iter().map(|c| format!("{c}={level}")).collect();
    directives(&format!("warn,{}", ours.join(",")))
}

/// `RUST_LOG` when set and valid, else `default`.
fn directives(default: &str) -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
}

/// Starts the log on standard error.
pub fn init(verbose: u8, format: LogFormat, command: &Command) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(verbose, command))
        .with_writer(std::io::stderr)
        // A log line that cannot be written is dropped. By default the subscriber reports
        // the failure with `eprintln!`, which panics when stderr is a closed pipe (`sync
        // -v 2>&1 | head`, a log collector that restarted): the panic, inside the HTTP
        // client's connection pool, killed a sync in the middle of its run.
        .log_internal_errors(false);
    let _ = match format {
        // Colours only for a person at a terminal: a file, journald or a log collector got
        // the escape codes as text.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        // One object per line, the event's fields beside `message` at the top level
        // (`{"timestamp":…,"level":"INFO","message":"sync ended","connector":"cloud",…}`),
        // a request's span (method, path) under `span`.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Says the error that ended the command, on standard error: `error: …` in text, a log
/// line of level ERROR in JSON (a collector reading JSON lines took the text for junk).
pub fn fatal(format: LogFormat, said: &str) {
    match format {
        LogFormat::Text => eprintln!("error: {}", crate::output::text(said)),
        LogFormat::Json => eprintln!(
            "{}",
            serde_json::json!({
                "timestamp": chrono::Utc::now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "level": "ERROR",
                "message": said,
                "target": "appscan_bridge",
            })
        ),
    }
}
