//! How the simulated ASE server writes its dates: in its locale's format and as
//! wall-clock times of the zone it runs in, with no offset, as a real server does. The
//! data keeps its times in UTC; only what is served is local.

use chrono::{TimeZone, Utc};
pub use chrono_tz::Tz;

/// The locale form ASE writes dates in.
pub const DATE_FORMAT: &str = "%m/%d/%y %-I:%M %p";

/// The server's date format (strftime) and time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedDates {
    pub format: String,
    pub zone: Tz,
}

impl Default for ServedDates {
    /// `11/18/24 6:09 PM` ([`DATE_FORMAT`]) on a server running on UTC.
    fn default() -> Self {
        ServedDates {
            format: DATE_FORMAT.into(),
            zone: Tz::UTC,
        }
    }
}

impl ServedDates {
    /// The instant `ms` (milliseconds since the epoch, UTC) as the server writes it.
    pub fn write(&self, ms: i64) -> String {
        Utc.timestamp_millis_opt(ms)
            .single()
            .unwrap_or_default()
            .with_timezone(&self.zone)
            .format(&self.format)
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_of_the_servers_zone() {
        // 2024-11-18 23:09 UTC.
        let ms = 1_731_971_340_000;
        assert_eq!(ServedDates::default().write(ms), "11/18/24 11:09 PM");
        let ny = ServedDates {
            zone: Tz::America__New_York,
            ..ServedDates::default()
        };
        assert_eq!(ny.write(ms), "11/18/24 6:09 PM");
        let berlin = ServedDates {
            format: "%d.%m.%y %H:%M".into(),
            zone: Tz::Europe__Berlin,
        };
        assert_eq!(berlin.write(ms), "19.11.24 00:09");
    }
}
