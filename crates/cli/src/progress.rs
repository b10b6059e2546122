//! The terminal progress bar of a sync; hidden when stderr is not a terminal or with --quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Bar {
    bar: ProgressBar,
    records: AtomicU64,
}

impl Bar {
    pub fn new(quiet: bool, label: &str) -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if quiet || !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} {spinner} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} apps  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar {
            bar,
            records: AtomicU64::new(0),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl runner::Progress for Bar {
    fn apps_total(&self, n: u64) {
        self.bar.set_length(n);
    }
    fn app_done(&self) {
        self.bar.inc(1);
    }
    fn records(&self, n: u64) {
        let total = self.records.fetch_add(n, Ordering::Relaxed) + n;
        let secs = self.bar.elapsed().as_secs_f64().max(1e-3);
        self.bar
            .set_message(format!("{total} records ({:.0}/s)", total as f64 / secs));
    }
}
