//! One module per source kind; [`build`] is the one place that picks the source for a
//! connector. Adding a source is a new file and one line here.
//!
//! - [`asoc`]: AppScan on Cloud (delta runs by `LastUpdated`).
//! - [`ase`]: AppScan Enterprise (every run full).
//! - [`xml`]: one AppScan XML report file (`import`), one transaction per file.
//! - [`records`]: the rules the two full-run sources share.

pub mod ase;
pub mod asoc;
pub mod records;
pub mod xml;

#[cfg(test)]
mod cross_source;

use crate::RunnerError;
use crate::import::ImportInput;
use crate::settings::Settings;
use crate::source::Source;
use secrecy::SecretString;
use store::Connector;

/// The source for a connector, built from its settings and its opened secret; an `xml`
/// connector reads the file of `import`.
pub fn build(
    connector: &Connector,
    settings: &Settings,
    secret: Option<SecretString>,
    import: Option<&ImportInput>,
) -> Result<Box<dyn Source>, RunnerError> {
    match connector.kind.as_str() {
        "asoc" => Ok(Box::new(asoc::AsocSource::new(
            connector, settings, secret,
        )?)),
        "ase" => Ok(Box::new(ase::AseSource::new(connector, settings, secret)?)),
        "xml" => Ok(Box::new(xml::XmlSource::new(
            &connector.name,
            settings,
            import,
        )?)),
        other => Err(RunnerError::Unsupported(format!(
            "connector '{}' has kind '{other}', which this build cannot sync",
            connector.name
        ))),
    }
}
