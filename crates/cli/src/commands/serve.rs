//! `serve`: the scheduler, HTTP API, dashboard and metrics until Ctrl-C or SIGTERM.

use super::Ctx;
use crate::args::ServeArgs;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(ctx: &Ctx, a: ServeArgs) -> anyhow::Result<ExitCode> {
    // A scheduler without the store's key (none, or another) claims due runs it cannot
    // do: each failed before it began, recorded nowhere but the due-run table, and the
    // slot was lost for every worker until the next one.
    if !a.no_scheduler {
        ctx.runner.check_key().map_err(|e| {
            anyhow::anyhow!("{e} (serve --no-scheduler serves the API and dashboard without it)")
        })?;
    }
    let config = server::ServeConfig {
        listen: a.listen,
        scheduler: (!a.no_scheduler).then(|| {
            let defaults = server::SchedulerConfig::default();
            server::SchedulerConfig {
                worker: a.worker.clone().unwrap_or(defaults.worker),
                lease: std::time::Duration::from_secs(a.lease),
                max_running: a.max_running as usize,
                ..server::SchedulerConfig::default()
            }
        }),
        shutdown_grace: std::time::Duration::from_secs(a.shutdown_grace),
        allowed_hosts: a.allowed_host.clone(),
    };
    let config_worker = config.scheduler.as_ref().map(|s| s.worker.clone());
    if !a.listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {} — reads (findings, dashboard) need no token; put it behind a proxy with authentication",
            a.listen
        );
    }
    let limits = server::ConnectionLimits {
        max_connections: a.max_connections as usize,
        header_timeout: std::time::Duration::from_secs(a.header_timeout),
        ..server::ConnectionLimits::default()
    };
    let server = server::start_with_limits(
        ctx.runner.clone(),
        config,
        limits,
        Arc::new(server::SystemClock),
    )
    .await?;
    let addr = server.addr();
    if !ctx.quiet {
        say(&format!("appscan-bridge serving on http://{addr}"));
        say(&format!("  dashboard  http://{addr}/"));
        say(&format!(
            "  API        http://{addr}/api  (OpenAPI: /api/openapi.json)"
        ));
        say(&format!("  metrics    http://{addr}/metrics"));
        match &config_worker {
            Some(w) => say(&format!("  scheduler  on, worker {w}")),
            None => say("  scheduler  off"),
        }
        say("Ctrl-C or SIGTERM stops it; running syncs keep what they read.");
    }
    server::shutdown_signal().await;
    if !ctx.quiet {
        say("stopping: cancelling running syncs… (Ctrl-C again quits at once)");
    }
    tokio::spawn(super::quit_on_second_signal());
    server.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}

/// A line on standard output that cannot panic: a service's stdout may close at any time
/// (`serve | head -1`, a log collector that restarted), and println! would then take the
/// service down, at its start or as it stops.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
