//! The server's clock, read off the `Date` header of its answers. A delta asks for what
//! changed since its cursor in the server's time (`LastUpdated` is stamped by the
//! server), so the runner keeps the cursor in that time: a host clock ahead of the
//! server's saved a cursor in the server's future (the next deltas asked for nothing
//! and moved past every change), and one behind by more than the overlap missed what
//! changed in between.

use chrono::{DateTime, Duration, Utc};
use reqwest::header::{DATE, HeaderMap};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};

/// How far the server's clock is ahead of this host's, as its last answer showed.
#[derive(Default)]
pub(crate) struct ServerClock {
    offset_ms: AtomicI64,
    known: AtomicBool,
}

impl ServerClock {
    /// Notes the time an answer's `Date` header gives, against this host's now. The
    /// header has whole seconds and the answer took a while to arrive, so the offset
    /// errs on the early side (a cursor a second earlier asks for a little more).
    pub(crate) fn saw(&self, headers: &HeaderMap) {
        if let Some(date) = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date)
        {
            self.offset_ms
                .store((date - Utc::now()).num_milliseconds(), Relaxed);
            self.known.store(true, Relaxed);
        }
    }

    /// The server's clock minus this host's, once an answer had a readable `Date`.
    pub(crate) fn offset(&self) -> Option<Duration> {
        self.known
            .load(Relaxed)
            .then(|| Duration::milliseconds(self.offset_ms.load(Relaxed)))
    }
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110's IMF-fixdate, which RFC 2822
/// reads).
fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn the_offset_follows_the_date_header() {
        let clock = ServerClock::default();
        assert_eq!(clock.offset(), None);
        let mut headers = HeaderMap::new();
        headers.insert(DATE, HeaderValue::from_static("not a date"));
        clock.saw(&headers);
        assert_eq!(clock.offset(), None, "an unreadable date is no clock");
        let ahead = Utc::now() + Duration::hours(1);
        let text = ahead.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        headers.insert(DATE, HeaderValue::from_str(&text).expect("header"));
        clock.saw(&headers);
        let offset = clock.offset().expect("known");
        assert!(
            offset > Duration::minutes(59) && offset <= Duration::hours(1),
            "{offset}"
        );
    }
}
