//! OData paging over the v4 list envelope `{"Items": [...], "Count": n}`.
//!
//! The API has no next-page link, so the client keeps the position itself:
//! [`Pager`] is that state machine (pure, no I/O), [`parse_envelope`] reads
//! one page body, and [`ListQuery`] / [`Page`] are what callers pass in and
//! get out. The stop rules, in order:
//! - `Count` known: stop once `$skip` reaches it. A short page with `Count`
//!   not reached goes on (the server may cap `$top` below what was asked).
//! - An empty page always ends the listing (defensive: `Count` may be stale).
//! - `Count` null or absent: go on until an empty page, as the API documents (a server
//!   that caps `$top` below the page size asked for gives short pages all the way, so
//!   a short page does not say the listing is over; this costs one request), or until a
//!   page repeats the one before (a server that ignores `$skip`).
//! - An unreadable page is skipped (`$skip += page size`) and reported; after
//!   [`MAX_CONSECUTIVE_BAD_PAGES`] in a row the listing ends, so a server that
//!   only answers garbage cannot keep the client paging forever.
//! - `max_pages` (e.g. 1 for a connection check) ends it early.

use serde::Deserialize;
use serde_json::Value;

/// Unreadable pages in a row after which a listing gives up.
pub const MAX_CONSECUTIVE_BAD_PAGES: usize = 3;

/// The `$orderby` of a listing that names none. `$skip` counts positions, so paging is
/// only sound over an order that stays put between requests; a server's default order
/// need not (a database may answer each page off a different plan), and a record moved
/// across a page boundary would be skipped or served twice. Ids are unique and do not
/// change.
pub const DEFAULT_ORDER: &str = "Id";

/// Options of one listing (all optional; `Default` lists everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// `$filter`, e.g. `LastUpdated ge 2024-11-18T18:09:14Z` (build literals
    /// with [`crate::odata_datetime`] and [`crate::odata_string`]).
    pub filter: Option<String>,
    /// `$orderby`, e.g. `LastUpdated asc, Id`; without one a listing is ordered by
    /// [`DEFAULT_ORDER`]. Name a unique field last: `$skip` paging over an order with
    /// ties may skip or repeat records.
    pub orderby: Option<String>,
    /// `$select`, e.g. `Id,Name`.
    pub select: Option<String>,
    /// Stop after this many pages (`Some(1)` for a quick check).
    pub max_pages: Option<usize>,
}

impl ListQuery {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// With a `$filter`.
    pub fn with_filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// With an `$orderby`.
    pub fn with_orderby(mut self, orderby: impl Into<String>) -> Self {
        self.orderby = Some(orderby.into());
        self
    }

    /// With a `$select`.
    pub fn with_select(mut self, select: impl Into<String>) -> Self {
        self.select = Some(select.into());
        self
    }

    /// At most `n` pages.
    pub fn with_max_pages(mut self, n: usize) -> Self {
        self.max_pages = Some(n);
        self
    }

    /// The query string of the page at `skip`: `$top`, `$skip`, `$count=true`,
    /// `$orderby` (else [`DEFAULT_ORDER`]) and the optional options.
    pub(crate) fn params(&self, top: usize, skip: usize) -> Vec<(&'static str, String)> {
        let mut p = vec![
            ("$top", top.to_string()),
            ("$skip", skip.to_string()),
            ("$count", "true".to_string()),
        ];
        if let Some(f) = &self.filter {
            p.push(("$filter", f.clone()));
        }
        let orderby = self.orderby.as_deref().unwrap_or(DEFAULT_ORDER);
        p.push(("$orderby", orderby.to_string()));
        if let Some(s) = &self.select {
            p.push(("$select", s.clone()));
        }
        p
    }
}

/// One page of a listing: raw items, every field kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The app whose issues these are (`None` for the app list).
    pub app_id: Option<String>,
    /// `$skip` of this page.
    pub skip: usize,
    /// `Count` as the server reported it on this page.
    pub count: Option<u64>,
    /// The records, as sent.
    pub items: Vec<Value>,
    /// Set once the listing's `Count` changed on the way (records added or removed
    /// while it was paged): `$skip` counts positions, so records moved across pages
    /// and some may have been skipped. Says from what to what.
    pub moved: Option<String>,
}

/// The list envelope. Unknown top-level fields are ignored; items are kept whole.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    #[serde(rename = "Items", alias = "items")]
    pub items: Option<Vec<Value>>,
    #[serde(rename = "Count", alias = "count", default)]
    pub count: Option<Value>,
}

/// Reads one page body into `(items, Count)`. The error says why the page
/// is unreadable (not JSON, not an object, no `Items` array). Public so the
/// fuzz target and the bad-input corpus can drive it without a server.
pub fn parse_envelope(body: &[u8]) -> Result<(Vec<Value>, Option<u64>), String> {
    let env: Envelope = apiclient::json::from_slice(body).map_err(|e| {
        if e.is_data() {
            format!("unexpected JSON shape: {e}")
        } else {
            format!("body is not JSON: {e}")
        }
    })?;
    let items = env
        .items
        .ok_or_else(|| "no \"Items\" array in the answer".to_string())?;
    let count = match env.count {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok((items, count))
}

/// Where a listing is, and whether it goes on.
#[derive(Debug, Clone)]
pub(crate) struct Pager {
    page_size: usize,
    skip: usize,
    count: Option<u64>,
    pages: usize,
    max_pages: Option<usize>,
    bad_in_a_row: usize,
    done: bool,
    moved: Option<String>,
}

impl Pager {
    pub(crate) fn new(page_size: usize, max_pages: Option<usize>) -> Self {
        Self {
            page_size,
            skip: 0,
            count: None,
            pages: 0,
            max_pages,
            bad_in_a_row: 0,
            done: false,
            moved: None,
        }
    }

    /// Why records may have moved between pages, once `Count` changed.
    pub(crate) fn moved(&self) -> Option<&str> {
        self.moved.as_deref()
    }

    /// Whether the listing gave up (unreadable pages in a row), and `Count` as last known.
    pub(crate) fn gave_up(&self) -> bool {
        self.bad_in_a_row >= MAX_CONSECUTIVE_BAD_PAGES
    }

    /// `Count` as last known.
    pub(crate) fn count(&self) -> Option<u64> {
        self.count
    }

    /// `$skip` of the next request, or `None` when the listing is over.
    pub(crate) fn next_skip(&self) -> Option<usize> {
        if self.done || self.max_pages.is_some_and(|m| self.pages >= m) {
            return None;
        }
        if let Some(c) = self.count
            && self.skip as u64 >= c
        {
            return None;
        }
        Some(self.skip)
    }

    pub(crate) fn page_size(&self) -> usize {
        self.page_size
    }

    /// A readable page with `n` items arrived.
    pub(crate) fn on_page(&mut self, n: usize, count: Option<u64>) {
        self.pages += 1;
        self.bad_in_a_row = 0;
        self.skip += n;
        if let (Some(was), Some(now)) = (self.count, count)
            && was != now
            && self.moved.is_none()
        {
            self.moved = Some(format!(
                "Count changed from {was} to {now} while the listing was paged"
            ));
        }
        if count.is_some() {
            self.count = count;
        }
        if n == 0 {
            self.done = true;
        }
    }

    /// The page asked for repeated the one before (a server that ignores `$skip`): the
    /// listing ends; `lost` says why some items may not have been read, when they may not.
    pub(crate) fn on_repeated_page(&mut self, lost: Option<String>) {
        self.pages += 1;
        self.done = true;
        if self.moved.is_none() {
            self.moved = lost;
        }
    }

    /// An unreadable page: skip past it.
    pub(crate) fn on_bad_page(&mut self) {
        self.pages += 1;
        self.bad_in_a_row += 1;
        self.skip += self.page_size;
        if self.bad_in_a_row >= MAX_CONSECUTIVE_BAD_PAGES {
            self.done = true;
        }
    }

    /// A request failed for good (HTTP error, retries exhausted): stop.
    pub(crate) fn on_error(&mut self) {
        self.done = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Drives a pager over a list of (items on the page, Count) answers and
    /// returns the `$skip`s it asked for.
    fn drive(page_size: usize, answers: &[(usize, Option<u64>)]) -> Vec<usize> {
        let mut p = Pager::new(page_size, None);
        let mut asked = Vec::new();
        for &(n, count) in answers {
            let Some(skip) = p.next_skip() else { break };
            asked.push(skip);
            p.on_page(n, count);
        }
        assert!(
            p.next_skip().is_none(),
            "pager wants more than the script has"
        );
        asked
    }

    #[test]
    fn stops_when_skip_reaches_count() {
        assert_eq!(
            drive(50, &[(50, Some(120)), (50, Some(120)), (20, Some(120))]),
            [0, 50, 100]
        );
    }

    #[test]
    fn exact_multiple_needs_no_extra_request() {
        assert_eq!(drive(50, &[(50, Some(100)), (50, Some(100))]), [0, 50]);
    }

    #[test]
    fn zero_items() {
        assert_eq!(drive(50, &[(0, Some(0))]), [0]);
        assert_eq!(drive(50, &[(0, None)]), [0]);
    }

    #[test]
    fn short_page_with_count_not_reached_goes_on() {
        // The server capped $top at 30 although 50 were asked.
        assert_eq!(
            drive(50, &[(30, Some(70)), (30, Some(70)), (10, Some(70))]),
            [0, 30, 60]
        );
    }

    #[test]
    fn empty_page_ends_even_if_count_says_more() {
        assert_eq!(drive(50, &[(50, Some(500)), (0, Some(500))]), [0, 50]);
    }

    #[test]
    fn null_count_goes_on_until_an_empty_page() {
        assert_eq!(
            drive(50, &[(50, None), (50, None), (7, None), (0, None)]),
            [0, 50, 100, 107]
        );
        // A server that caps $top at 30 without a Count: short pages all the way.
        assert_eq!(
            drive(50, &[(30, None), (30, None), (10, None), (0, None)]),
            [0, 30, 60, 70]
        );
        assert_eq!(drive(50, &[(50, None), (0, None)]), [0, 50]);
    }

    #[test]
    fn count_learnt_later_is_used() {
        assert_eq!(drive(10, &[(10, None), (10, Some(20))]), [0, 10]);
    }

    #[test]
    fn a_count_that_changes_on_the_way_is_said() {
        let mut p = Pager::new(50, None);
        p.on_page(50, Some(120));
        assert_eq!(p.moved(), None);
        p.on_page(50, Some(119));
        assert!(p.moved().is_some_and(|m| m.contains("from 120 to 119")));
        p.on_page(19, Some(119));
        assert_eq!(p.next_skip(), None);
        assert!(p.moved().is_some(), "it stays said");
    }

    #[test]
    fn bad_page_is_skipped_by_page_size() {
        let mut p = Pager::new(50, None);
        assert_eq!(p.next_skip(), Some(0));
        p.on_page(50, Some(150));
        assert_eq!(p.next_skip(), Some(50));
        p.on_bad_page();
        assert_eq!(p.next_skip(), Some(100));
        p.on_page(50, Some(150));
        assert_eq!(p.next_skip(), None);
    }

    #[test]
    fn bad_last_page_ends_at_count() {
        let mut p = Pager::new(50, None);
        p.on_page(50, Some(60));
        assert_eq!(p.next_skip(), Some(50));
        p.on_bad_page();
        assert_eq!(p.next_skip(), None);
    }

    #[test]
    fn too_many_bad_pages_in_a_row_give_up() {
        let mut p = Pager::new(50, None);
        for i in 0..MAX_CONSECUTIVE_BAD_PAGES {
            assert_eq!(p.next_skip(), Some(i * 50));
            p.on_bad_page();
        }
        assert_eq!(p.next_skip(), None);
        // A good page in between resets the run.
        let mut p = Pager::new(10, None);
        p.on_bad_page();
        p.on_bad_page();
        p.on_page(10, None);
        p.on_bad_page();
        assert!(p.next_skip().is_some());
    }

    #[test]
    fn max_pages_and_errors() {
        let mut p = Pager::new(10, Some(1));
        assert_eq!(p.next_skip(), Some(0));
        p.on_page(10, Some(1000));
        assert_eq!(p.next_skip(), None);
        let mut p = Pager::new(10, None);
        p.on_error();
        assert_eq!(p.next_skip(), None);
        assert_eq!(p.page_size(), 10);
    }

    #[test]
    fn envelope_parsing() {
        let (items, count) =
            parse_envelope(br#"{"Items":[{"Id":"a","X":{"deep":[1]}}],"Count":7,"Extra":1}"#)
                .unwrap();
        assert_eq!(items, vec![json!({"Id":"a","X":{"deep":[1]}})]);
        assert_eq!(count, Some(7));
        assert_eq!(
            parse_envelope(br#"{"Items":[],"Count":null}"#).unwrap().1,
            None
        );
        assert_eq!(parse_envelope(br#"{"Items":[]}"#).unwrap().1, None);
        assert_eq!(
            parse_envelope(br#"{"Items":[],"Count":"12"}"#).unwrap().1,
            Some(12)
        );
        assert_eq!(
            parse_envelope(br#"{"items":[1],"count":1}"#).unwrap(),
            (vec![json!(1)], Some(1))
        );
    }

    #[test]
    fn envelope_errors() {
        let e = parse_envelope(b"<html>oops</html>").unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        let e = parse_envelope(br#"{"Count":3}"#).unwrap_err();
        assert!(e.contains("Items"), "{e}");
        let e = parse_envelope(br#"{"Items":{"a":1}}"#).unwrap_err();
        assert!(e.contains("shape"), "{e}");
        let e = parse_envelope(br#"[1,2]"#).unwrap_err();
        assert!(e.contains("shape"), "{e}");
        assert!(parse_envelope(b"").is_err());
    }

    #[test]
    fn query_params() {
        let q = ListQuery::all()
            .with_filter("LastUpdated ge 2024-11-18T18:09:14Z")
            .with_orderby("LastUpdated")
            .with_select("Id");
        let p = q.params(50, 100);
        assert_eq!(
            p,
            vec![
                ("$top", "50".to_string()),
                ("$skip", "100".to_string()),
                ("$count", "true".to_string()),
                ("$filter", "LastUpdated ge 2024-11-18T18:09:14Z".to_string()),
                ("$orderby", "LastUpdated".to_string()),
                ("$select", "Id".to_string()),
            ]
        );
        assert_eq!(
            ListQuery::default().params(5, 0),
            vec![
                ("$top", "5".to_string()),
                ("$skip", "0".to_string()),
                ("$count", "true".to_string()),
                ("$orderby", "Id".to_string()),
            ]
        );
    }
}
