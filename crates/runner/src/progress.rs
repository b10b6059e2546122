//! How a run reports progress; the CLI draws it, `serve` and tests ignore it.

/// Receives progress of a run. Every method has a no-op default.
pub trait Progress: Send + Sync {
    /// The number of applications the run will go through.
    fn apps_total(&self, _n: u64) {}
    /// One application's records are all in.
    fn app_done(&self) {}
    /// `n` more records were fetched.
    fn records(&self, _n: u64) {}
    /// The number of records the run will go through, when known before it starts (a
    /// remap reads the stored ones).
    fn records_total(&self, _n: u64) {}
    /// A file source has read `read` of `total` bytes.
    fn bytes(&self, _read: u64, _total: u64) {}
    /// The source's HTTP counters at the end of the run (sources that keep them).
    fn client_stats(&self, _stats: &asoc::ClientStats) {}
}

/// Progress that goes nowhere.
pub struct Quiet;

impl Progress for Quiet {}
