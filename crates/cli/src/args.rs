//! The command line, as clap types.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "appscan-bridge",
    version,
    about = "Pull HCL AppScan findings into one normalized store and hand them on"
)]
pub struct Cli {
    /// Where the store, the master key and maps live
    /// [default: $APPSCAN_BRIDGE_DATA_DIR, else ~/.local/share/appscan-bridge]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// No progress bars or chatter (errors still go to stderr)
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// More log output from appscan-bridge itself (-v info, -vv debug, -vvv trace);
    /// RUST_LOG overrides
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines as text, or as JSON objects one per line (for a log collector)
    /// [default: $APPSCAN_BRIDGE_LOG_FORMAT, else text]
    // The variable is read by `logging::format`, where an empty one is as unset.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// A TOML file declaring connectors [default: $APPSCAN_BRIDGE_CONFIG, else
    /// <data dir>/config.toml when it exists]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The store: sqlite://PATH, a path, postgres://USER@HOST/DB[?schema=NAME], or libpq's "host=H user=U dbname=D schema=NAME"
    /// [default: $APPSCAN_BRIDGE_STORE, else <data dir>/store.sqlite3]
    // The variable is read by `commands::run`, where an empty one is as unset (clap's
    // `env` took it for an empty URL).
    #[arg(long, global = true, value_name = "URL")]
    pub store: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Copy a whole store into another (e.g. SQLite into PostgreSQL): connectors with
    /// their sealed secrets, maps, runs, assets, findings with raw records and history
    Migrate(MigrateArgs),
    /// Start the simulator, sync it into a fresh SQLite store and print a summary
    Demo(DemoArgs),
    /// Run the AppScan on Cloud (or, with --ase, AppScan Enterprise) simulator as a server
    Sim(SimArgs),
    /// Register and list connectors
    #[command(subcommand)]
    Connector(ConnectorCommand),
    /// Sync a connector: a full sync the first time, a delta sync afterwards
    Sync(SyncArgs),
    /// Import an AppScan XML report (plain or gzip) as a full run of an xml connector
    Import(ImportArgs),
    /// Connector states with their last run
    Status(StatusArgs),
    /// A connector's run history
    Runs(RunsArgs),
    /// List stored assets (applications)
    // --after and --dedupe are findings' (refused here with why; not shown in the help).
    #[command(mut_arg("after", |a| a.hide(true)), mut_arg("dedupe", |a| a.hide(true)))]
    Assets(ListArgs),
    /// List stored findings
    Findings(ListArgs),
    /// Show one finding (with --history, its status changes)
    Finding(FindingArgs),
    /// The fields `--filter` and `--sort` take, with the operators and examples
    FilterHelp(FilterHelpArgs),
    /// Export findings as kdi, ocsf, sarif, csv or jsonl (streamed; --filter selects)
    Export(ExportArgs),
    /// The known-exploited CVE list the risk score uses (import it from a local file)
    #[command(subcommand)]
    Kev(KevCommand),
    /// Recompute every finding's and asset's risk score (scores rise with age)
    Rescore(JsonArg),
    /// Run as a service: sync on schedule, HTTP API, dashboard and metrics
    Serve(ServeArgs),
    /// Create, list and revoke the API tokens of `serve`'s write endpoints
    #[command(subcommand)]
    Token(TokenCommand),
    /// Test a connector: network, TLS, authentication, authorization, data fetch
    Check(CheckArgs),
    /// List, show, clone and edit maps
    #[command(subcommand)]
    Map(MapCommand),
    /// Map a connector's stored raw records again with its current map (no fetching)
    Remap(RemapArgs),
    /// Check the config file
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Benchmark sync, import, export and queries against the simulator and the peers
    Bench(BenchArgs),
}

#[derive(Args)]
pub struct BenchArgs {
    /// small: 10 apps × 100 issues; medium: 200 × 500 (100k); large: 1,000 × 1,000 (1M)
    #[arg(long, value_enum, default_value_t = crate::bench::Scale::Small)]
    pub scale: crate::bench::Scale,
    /// Where bench-<scale>.md and bench-<scale>.json go (and the peers' venv); a
    /// --scenarios subset writes bench-<scale>-<scenarios>.md and .json
    #[arg(long, default_value = "bench/results")]
    pub out: PathBuf,
    /// Runs of each scenario, 3 by default; queries run at least 5 times (median and
    /// spread are reported)
    #[arg(long)]
    pub runs: Option<usize>,
    /// Runs of each peer (they are slow)
    #[arg(long, default_value_t = 1)]
    pub peer_runs: usize,
    /// Only these scenarios (default: all)
    #[arg(long, value_enum, value_delimiter = ',')]
    pub scenarios: Vec<BenchScenario>,
    /// Records per request, for our sync, the raw bound and the Python peer alike
    #[arg(long, default_value_t = 500)]
    pub page_size: usize,
    /// Applications fetched at once (our sync and the raw bound)
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    // No doc comments: clap would list the values one per line and turn every command's
    // `--help` into its long form.
    Text,
    Json,
}

/// A benchmark scenario group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchScenario {
    /// Full sync, raw bound, delta sync
    Sync,
    /// XML import of generated reports
    Xml,
    /// KDI and CSV export of the synced findings
    Export,
    /// Filters over the synced findings
    Query,
    /// The Python sync script and the faraday-plugins parser
    Peers,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The connector to check
    pub name: String,
    /// Print the checks as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RemapArgs {
    /// The connector whose stored records are mapped again
    pub name: String,
    /// Print the run's report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum MapCommand {
    /// The maps there are
    List(JsonArg),
    /// Print a map as TOML
    Show {
        /// The map (`map list` lists them; `default` is built in)
        name: String,
    },
    /// Copy a map under a new name, to edit it
    Clone {
        /// The map to copy
        from: String,
        /// The new map's name
        to: String,
    },
    /// Set the source fields of target fields: map set NAME findingName=IssueType,IssueTypeId
    Set {
        /// A saved map (not `default`: clone it first)
        name: String,
        /// TARGET=SOURCE[,SOURCE...] (`map targets` lists the targets)
        #[arg(required = true)]
        assignments: Vec<String>,
    },
    /// Edit a map in $EDITOR; it is validated before it is saved
    Edit {
        /// A saved map (not `default`: clone it first)
        name: String,
    },
    /// Validate a map file, reporting every problem with its line
    Validate {
        /// A map file (TOML or JSON)
        file: PathBuf,
    },
    /// Save a map file under its name
    Import {
        /// A map file (TOML or JSON); its `name` is the name it is saved under
        file: PathBuf,
    },
    /// Delete a saved map
    Remove {
        /// A saved map no connector uses
        name: String,
    },
    /// The target fields a map can fill
    Targets(JsonArg),
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Report every problem in the config file with its line
    Validate {
        /// The file to check [default: $APPSCAN_BRIDGE_CONFIG, else <data
        /// dir>/config.toml]
        file: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct DemoArgs {
    /// Applications in the simulated account
    #[arg(long, default_value_t = 50)]
    pub apps: usize,
    /// Mean issues per application
    #[arg(long, default_value_t = 400)]
    pub issues_per_app: usize,
    /// Seed of the generated data
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Records per request
    #[arg(long, default_value_t = 500)]
    pub page_size: usize,
}

#[derive(Args)]
pub struct SimArgs {
    /// Simulate AppScan Enterprise (/ase/api) instead of AppScan on Cloud
    #[arg(long)]
    pub ase: bool,
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Applications the simulated tenant holds
    #[arg(long, default_value_t = 50)]
    pub apps: usize,
    /// Issues of each application
    #[arg(long, default_value_t = 400)]
    pub issues_per_app: usize,
    /// Seed of the generated data: the same seed gives the same tenant
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The API key id the simulator accepts
    #[arg(long)]
    pub key_id: Option<String>,
    /// The API key secret the simulator accepts
    #[arg(long)]
    pub key_secret: Option<String>,
    /// Token lifetime in seconds
    #[arg(long, default_value_t = 1800)]
    pub token_ttl: u64,
    /// Answer 429 past this many requests a minute per user, as ASoC does with 500
    /// (default: no limit)
    #[arg(long, value_name = "N", conflicts_with = "ase")]
    pub rate_limit: Option<u32>,
    /// Change this fraction of the issues (status changes, updates, new and removed
    /// apps) every --mutate-every seconds, for trying delta syncs by hand
    #[arg(long, value_parser = fraction)]
    pub mutate_rate: Option<f64>,
    /// Seconds between mutations
    #[arg(long, default_value_t = 60)]
    pub mutate_every: u64,
    /// ASE: the server locale's date-time format (strftime), e.g. '%d.%m.%y %H:%M'
    /// [default: %m/%d/%y %-I:%M %p]
    #[arg(long, value_name = "FORMAT", requires = "ase")]
    pub date_format: Option<String>,
    /// ASE: the zone the server runs in (IANA name, e.g. America/New_York); its dates are
    /// local times of it [default: UTC]
    #[arg(long, value_name = "ZONE", requires = "ase")]
    pub time_zone: Option<String>,
}

#[derive(Subcommand)]
pub enum ConnectorCommand {
    /// Register a connector; the key secret comes from $APPSCAN_KEY_SECRET, standard input
    /// (when it is not a terminal) or a prompt — never from the command line
    Add(Box<AddArgs>),
    /// List connectors
    List(JsonArg),
    /// Show one connector (secrets as ••••)
    Show {
        /// The connector
        name: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Change a connector's URL, key id or settings
    Edit(Box<EditArgs>),
    /// Remove a connector with its runs and data
    Remove {
        /// The connector
        name: String,
    },
    /// Replace the key id and secret (the secret from $APPSCAN_KEY_SECRET or standard
    /// input); the new key must log in before it is saved
    RotateKey {
        /// The connector
        name: String,
        /// The new key id (default: keep the current one)
        #[arg(long)]
        key_id: Option<String>,
    },
}

#[derive(Args)]
pub struct EditArgs {
    /// The connector
    pub name: String,
    /// Another server's URL (the next sync is then a full one)
    #[arg(long)]
    pub url: Option<String>,
    /// Another API key id (the secret stays; `connector rotate-key` replaces both)
    #[arg(long)]
    pub key_id: Option<String>,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Args)]
pub struct AddArgs {
    /// The kind of source: AppScan on Cloud, AppScan Enterprise or XML report files
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(runner::connectors::KINDS))]
    pub kind: String,
    /// The connector's name (no spaces, '/' or '\'): what `sync`, `runs` and the
    /// exports call it
    #[arg(long)]
    pub name: String,
    /// Base URL, e.g. https://cloud.appscan.com
    #[arg(long)]
    pub url: Option<String>,
    /// API key id
    #[arg(long)]
    pub key_id: Option<String>,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// Connector settings that `add` (and later `edit`) take.
#[derive(Args, Default)]
pub struct SettingsArgs {
    /// Free text, at most 164 characters
    #[arg(long)]
    pub description: Option<String>,
    /// Cron expression or interval (e.g. 6h) for `serve`; '' takes it away
    #[arg(long)]
    pub schedule: Option<String>,
    /// Records per request (1..=5000; the vendor documents 50)
    #[arg(long)]
    pub page_size: Option<usize>,
    /// Applications fetched at once
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Requests per minute (0 = no client-side limit)
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Fraction of records that may fail before the run is Errored (0.01 = 1 %)
    #[arg(long)]
    pub failure_threshold: Option<f64>,
    /// The map to use
    #[arg(long)]
    pub map: Option<String>,
    /// OData filter selecting applications, e.g. "Name eq 'Shop'" (an empty value removes
    /// it; changing it makes the next sync a full one)
    #[arg(long)]
    pub app_filter: Option<String>,
    /// Seconds subtracted from the delta cursor
    #[arg(long)]
    pub overlap: Option<i64>,
    /// Extra CA certificate (PEM) to trust (an empty value removes it)
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<String>,
    /// Retries of a failed request (or an unreadable page) after the first attempt
    #[arg(long)]
    pub max_retries: Option<usize>,
    /// First retry delay in milliseconds; later ones grow
    #[arg(long)]
    pub retry_base_ms: Option<u64>,
    /// Seconds a whole request may take
    #[arg(long)]
    pub timeout_seconds: Option<u64>,
    /// asoc: fetch each new or changed issue's detail document when the list has none
    /// (one request more per issue; true/false)
    #[arg(long, value_name = "BOOL")]
    pub fetch_details: Option<bool>,
    #[command(flatten)]
    pub full_run: FullRunArgs,
}

/// Options of the full-run sources (ase, xml); see README "Connector options".
#[derive(Args, Default)]
pub struct FullRunArgs {
    /// Leave out findings without CVE, CWE or WASC id (true/false)
    #[arg(long, value_name = "BOOL")]
    pub exclude_informational: Option<bool>,
    /// Store no tags (true/false)
    #[arg(long, value_name = "BOOL")]
    pub skip_tags: Option<bool>,
    /// Use the run's time as last-found time, not the scanner's (true/false)
    #[arg(long, value_name = "BOOL")]
    pub ignore_last_seen: Option<bool>,
    /// An asset's tags are the last run's only, instead of accumulating (true/false)
    #[arg(long, value_name = "BOOL")]
    pub reset_tags: Option<bool>,
    /// Ordered locators naming a finding's asset, e.g. url,application,host (also file)
    #[arg(long)]
    pub locators: Option<String>,
    /// Days unseen after which assets and their findings are marked inactive
    /// (0 = use the global $APPSCAN_BRIDGE_ASSET_INACTIVITY_DAYS)
    #[arg(long, value_name = "DAYS")]
    pub asset_inactivity_days: Option<u32>,
    /// Normalized severity for source severities the map does not know (kept verbatim)
    #[arg(long)]
    pub unknown_severity: Option<String>,
    /// ASE: the server's date-time format when it is not 11/18/24 6:09 PM, e.g.
    /// '%d.%m.%y %H:%M' (strftime; an empty value goes back to the default)
    #[arg(long, value_name = "FORMAT")]
    pub date_format: Option<String>,
    /// ASE: the time zone the server runs in, whose local times its dates are, e.g.
    /// Europe/Berlin (an IANA name; default UTC; an empty value goes back to UTC)
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
}

#[derive(Args, Clone)]
pub struct ImportArgs {
    /// The report: an AppScan Standard or AppScan on Cloud XML export, plain or gzip
    pub file: PathBuf,
    /// The xml connector to import into [default: `xml`, created on first use]
    #[arg(long)]
    pub connector: Option<String>,
    /// The application the report is about [default: the report's application name]
    #[arg(long)]
    pub app: Option<String>,
    /// Read and map the report, say what an import would store, and store nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Import a report older than the last one imported for its application (refused
    /// otherwise: it would close what the newer one found)
    #[arg(long)]
    pub allow_older: bool,
    /// Print the run's report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct JsonArg {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SyncArgs {
    /// The connector (`connector list` lists them)
    pub name: String,
    /// Fetch everything even when a cursor exists
    #[arg(long)]
    pub full: bool,
    /// Print the run's report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct StatusArgs {
    /// Only this connector
    pub name: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RunsArgs {
    /// The connector
    pub name: String,
    /// One run
    #[arg(long)]
    pub run: Option<i64>,
    /// With --run: list the run's record errors and warnings
    #[arg(long, requires = "run")]
    pub errors: bool,
    /// How many runs
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    /// Only this connector's records
    #[arg(long)]
    pub connector: Option<String>,
    /// At most this many rows
    #[arg(long)]
    pub limit: Option<u64>,
    /// Skip this many rows
    #[arg(long)]
    pub offset: Option<u64>,
    /// findings: start after the row a full page ended on (the cursor printed under it);
    /// as fast deep in a large store as on the first page, where --offset reads every
    /// row it skips
    #[arg(long, conflicts_with_all = ["offset", "dedupe"], value_name = "CURSOR")]
    pub after: Option<String>,
    /// Only rows matching this filter, e.g. 'severity>=high and status:open'
    /// (`filter-help` lists the fields)
    #[arg(long)]
    pub filter: Option<String>,
    /// Sort keys, e.g. risk, -lastFound, name:asc (several with commas)
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// The columns to show (field names, with commas); with --json, the keys
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// findings: one row per cross-source fingerprint, with the sources that saw it
    /// (with --filter: the groups holding a selected finding, each counted whole)
    #[arg(long)]
    pub dedupe: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct FilterHelpArgs {
    /// Only this entity's fields: findings or assets
    pub entity: Option<String>,
    /// Print the fields as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    /// kdi, ocsf, sarif, csv or jsonl
    #[arg(long, short)]
    pub format: String,
    /// Only findings matching this filter (see `filter-help`)
    #[arg(long)]
    pub filter: Option<String>,
    /// Only this connector's findings
    #[arg(long)]
    pub connector: Option<String>,
    /// The file to write (kdi: the directory) [default: standard output; kdi: .]
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// kdi: the largest file to write, e.g. 10MB, 512KiB (larger loads are split)
    /// [default: 100MB]
    #[arg(long, value_name = "SIZE")]
    pub max_file_size: Option<String>,
    /// kdi: the 0-10 scores of Informational,Low,Medium,High,Critical [default: 0,3,6,9,10]
    #[arg(long, value_name = "I,L,M,H,C")]
    pub kdi_scores: Option<String>,
    /// kdi: write version-1 `vulns` keyed by issue type instead of version-2 `findings`
    /// keyed by issue id (the issues of one type on an application are merged into one
    /// vuln, open when any is: the platform keeps one per asset and identifier)
    #[arg(long)]
    pub kdi_vulns: bool,
    /// kdi: version-2 `findings` (the default; kept for scripts that name it)
    #[arg(long, hide = true, conflicts_with = "kdi_vulns")]
    pub kdi_findings: bool,
    /// ocsf: 2002 (Vulnerability Finding) or 2007 (Application Security Posture Finding)
    /// [default: 2002]
    #[arg(long, value_name = "CLASS")]
    pub ocsf_class: Option<u32>,
    /// sarif: results per run before a new run starts (GitHub takes 25,000)
    /// [default: 25000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sarif_max_results: Option<u64>,
    /// csv: write cells that start with = + - @ as they are (by default they get a
    /// leading ' so that a spreadsheet does not run them as formulas)
    #[arg(long)]
    pub csv_keep_formulas: bool,
}

#[derive(Subcommand)]
pub enum KevCommand {
    /// Add the CVEs of a file (CISA's KEV catalog JSON, or CVE ids one per line) and
    /// rescore
    Import {
        /// CISA's known_exploited_vulnerabilities.json, or a text file of CVE ids
        file: PathBuf,
        /// The file becomes the whole list (CVEs not in it are dropped)
        #[arg(long)]
        replace: bool,
        /// Do not recompute risk scores now (run `rescore` later)
        #[arg(long)]
        no_rescore: bool,
        /// Print the import's counts as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct FindingArgs {
    /// The finding's id (the `id` column of `findings`)
    pub id: i64,
    /// Show the finding's status history
    #[arg(long)]
    pub history: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct MigrateArgs {
    /// The store to read [default: the --store store, else <data dir>/store.sqlite3]
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
    /// The store to write: postgres://..., sqlite://PATH or a path (created if needed)
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Replace the target's contents when it already holds data
    #[arg(long)]
    pub force: bool,
    /// Rows per transaction
    #[arg(long, default_value_t = 2000)]
    pub batch_size: usize,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; reads need no token)
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: std::net::SocketAddr,
    /// Serve the API and dashboard only; run no scheduled syncs
    #[arg(long)]
    pub no_scheduler: bool,
    /// Seconds to wait at shutdown for cancelled syncs to record their state, then for
    /// open HTTP connections; connections still open after it are closed
    #[arg(long, default_value_t = 60)]
    pub shutdown_grace: u64,
    /// HTTP connections open at once; more wait until one closes (lowered to fit the
    /// open-file limit)
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub max_connections: u64,
    /// Seconds a client may take to send a request's headers, and may keep a connection
    /// idle between requests, before it is closed
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout: u64,
    /// Seconds a claimed due run stays this worker's without renewal; another worker on
    /// the same store takes it over after that if this one dies (at most a day: a lease
    /// past what a date can hold panicked the scheduler on every tick)
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(3..=86_400))]
    pub lease: u64,
    /// Scheduled syncs this worker runs at once
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub max_running: u64,
    /// This worker's name in claimed due runs [default: host:pid:random]
    #[arg(long)]
    pub worker: Option<String>,
    /// A host name requests may give besides loopback's (a proxy in front that passes
    /// its own Host); repeat for several. On loopback only localhost and loopback
    /// addresses are answered, so that no web page can read the API through DNS
    /// rebinding; on another address names given here are the only ones answered
    #[arg(long, value_name = "NAME")]
    pub allowed_host: Vec<String>,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: only its hash is kept)
    Create {
        /// A name to tell it apart [default: token-<date>]
        #[arg(long)]
        name: Option<String>,
        /// Print the token as JSON
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never their secrets)
    List {
        /// Revoked tokens too
        #[arg(long)]
        all: bool,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id or name
    Revoke {
        /// The token's id or name (`token list` shows both)
        token: String,
    },
}

/// A number from 0 to 1 (5 was taken as a fraction of the issues).
fn fraction(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        Ok(_) => Err("a fraction from 0 to 1, e.g. 0.01 for 1 %".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// `assets --help` offered --after and --dedupe, which `assets` refuses.
    #[test]
    fn assets_help_shows_only_what_assets_take() {
        let mut cli = Cli::command();
        let help = |cli: &mut clap::Command, name: &str| {
            cli.find_subcommand_mut(name)
                .expect("subcommand")
                .render_long_help()
                .to_string()
        };
        let assets = help(&mut cli, "assets");
        assert!(
            !assets.contains("--after") && !assets.contains("--dedupe"),
            "{assets}"
        );
        let findings = help(&mut cli, "findings");
        assert!(findings.contains("--after") && findings.contains("--dedupe"));
    }

    /// Every argument of every command says what it is (`sim --apps`, `sync NAME`,
    /// `map show NAME` and a dozen more showed a bare name).
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, bare: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.get_help().is_none() && !matches!(id, "help" | "version") {
                    bare.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), bare);
            }
        }
        let mut bare = Vec::new();
        walk(&Cli::command(), "appscan-bridge", &mut bare);
        assert!(bare.is_empty(), "arguments without help: {bare:#?}");
    }

    #[test]
    fn a_mutate_rate_is_a_fraction() {
        use clap::Parser;
        for ok in ["0", "0.01", "1"] {
            assert!(
                Cli::try_parse_from(["ab", "sim", "--mutate-rate", ok]).is_ok(),
                "{ok}"
            );
        }
        for bad in ["5", "-0.1", "NaN", "x"] {
            assert!(
                Cli::try_parse_from(["ab", "sim", "--mutate-rate", bad]).is_err(),
                "{bad}"
            );
        }
    }

    /// A lease past what a date can hold panicked the scheduler on every tick (nothing
    /// ever ran); it is refused at the command line.
    #[test]
    fn a_lease_is_at_most_a_day() {
        use clap::Parser;
        assert!(Cli::try_parse_from(["ab", "serve", "--lease", "86400"]).is_ok());
        let Err(e) = Cli::try_parse_from(["ab", "serve", "--lease", "100000000000000"]) else {
            panic!("a lease of 3 million years was taken");
        };
        assert!(e.to_string().contains("--lease"), "{e}");
    }
}
