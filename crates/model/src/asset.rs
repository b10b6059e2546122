//! A normalized asset: for AppScan, an application (a web app with a URL and a name).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// The source's id of the application.
    pub external_id: String,
    /// `webAppName`.
    pub name: Option<String>,
    /// `webAppUrl`.
    pub url: Option<String>,
    pub description: Option<String>,
    pub business_unit: Option<String>,
    pub risk_rating: Option<String>,
    pub last_updated: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
}

impl Asset {
    /// What people call the asset: its name, else its URL, else its id.
    pub fn label(&self) -> &str {
        self.name
            .as_deref()
            .or(self.url.as_deref())
            .unwrap_or(&self.external_id)
    }
}
