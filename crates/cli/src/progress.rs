//! The terminal progress bar of a sync (applications done) or a remap (records done);
//! hidden when stderr is not a terminal or with --quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub struct Bar {
    bar: ProgressBar,
    records: AtomicU64,
    /// The bar counts records instead of applications (their total was given).
    by_records: AtomicBool,
}

fn style(unit: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!(
        "{{prefix}} {{spinner}} [{{elapsed_precise}}] {{bar:30.cyan/blue}} {{pos}}/{{len}} {unit}  {{msg}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Bar {
    pub fn new(quiet: bool, label: &str) -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if quiet || !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(style("apps"));
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar {
            bar,
            records: AtomicU64::new(0),
            by_records: AtomicBool::new(false),
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
        let rate = total as f64 / self.bar.elapsed().as_secs_f64().max(1e-3);
        if self.by_records.load(Ordering::Relaxed) {
            self.bar.set_position(total);
            self.bar.set_message(format!("({rate:.0}/s)"));
        } else {
            self.bar
                .set_message(format!("{total} records ({rate:.0}/s)"));
        }
    }
    fn records_total(&self, n: u64) {
        self.by_records.store(true, Ordering::Relaxed);
        self.bar.set_style(style("records"));
        self.bar.set_length(n);
    }
}
