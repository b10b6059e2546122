//! `import FILE`: one AppScan XML report into an `xml` connector, as one full run in one
//! store transaction.
//!
//! Without a connector name the report goes to the connector named [`DEFAULT_XML`],
//! created on first use with default settings; a named connector must exist and be of
//! kind `xml`. The run is an ordinary sync of that connector (same lock, counters,
//! history and threshold) whose source is the file: see [`crate::sources::xml`].

use crate::settings::Settings;
use crate::sync::{RunReport, SyncOptions};
use crate::{AddConnector, Progress, Runner, RunnerError};
use std::path::PathBuf;

/// The connector imports go to when none is named.
pub const DEFAULT_XML: &str = "xml";

/// Records per transaction of an import at most: a report's issues are large (their
/// texts and HTTP traffic), and the batches in the write pipeline are most of an
/// import's memory (peak RSS of a 1 GB report: 98 MiB with batches of 2,000).
const IMPORT_BATCH: usize = 1_000;

/// The file a run of an `xml` connector reads.
#[derive(Debug, Clone)]
pub struct ImportInput {
    /// The report (plain or gzip).
    pub path: PathBuf,
    /// The application the report is about (else the report's own application name).
    pub app: Option<String>,
}

impl Runner {
    /// The connector an import goes to: `name`, which must be of kind `xml`, or the
    /// default `xml` connector (created when missing).
    pub fn import_connector(&self, name: Option<&str>) -> Result<String, RunnerError> {
        let wanted = name.unwrap_or(DEFAULT_XML);
        match self.store.connector(wanted)? {
            Some(c) if c.kind == "xml" => Ok(c.name),
            Some(c) => Err(RunnerError::Config(format!(
                "connector '{}' is of kind '{}'; reports are imported into an xml connector",
                c.name, c.kind
            ))),
            None if name.is_some() => Err(RunnerError::NoSuchConnector(wanted.to_string())),
            None => {
                let c = self.add_connector(AddConnector {
                    name: DEFAULT_XML.into(),
                    kind: "xml".into(),
                    url: None,
                    key_id: None,
                    secret: None,
                    settings: Settings {
                        description: Some("AppScan XML reports imported from files".into()),
                        ..Settings::default()
                    },
                })?;
                Ok(c.name)
            }
        }
    }

    /// Imports one report: a full run of the connector over the file, stored in one
    /// transaction (a bad file or a failed run stores nothing).
    pub async fn import(
        &self,
        connector: Option<&str>,
        input: ImportInput,
        mut opts: SyncOptions,
        progress: &dyn Progress,
    ) -> Result<RunReport, RunnerError> {
        if !input.path.is_file() {
            return Err(RunnerError::Config(format!(
                "{} is not a readable file",
                input.path.display()
            )));
        }
        let name = self.import_connector(connector)?;
        self.store.favour_low_memory().map_err(RunnerError::Store)?;
        opts.import = Some(input);
        opts.full = true;
        opts.batch_size = opts.batch_size.min(IMPORT_BATCH);
        self.sync(&name, opts, progress).await
    }
}
