//! Paging with `Range: items=<first>-<last>` (inclusive, 0-based) and the answer's
//! `Content-Range: items <first>-<last>/<total>`.
//!
//! [`Pager`] is the state machine (no I/O). Stop rules, in order:
//! - an empty page ends the listing;
//! - with a total in `Content-Range`: stop once the items received reach it, however
//!   few a page holds (a server may send fewer than asked: the listing stopped at the
//!   pages the asked size allowed, and the run closed the findings it had not read);
//! - without one (no header, or `/*`): stop on a page longer than asked for (the server
//!   ignored `Range` and sent everything), not on a short one: a server may cap pages
//!   below what was asked, and with no total to say so, the listing stopped at the first
//!   capped page and a full run closed every finding after it. The page after a short
//!   one tells (empty, `416`, or the first page again from a server that ignores
//!   `Range`): one request more per listing, from servers without `Content-Range` only;
//! - a listing never takes more pages than its first total has items (plus one), so a
//!   server whose `Content-Range` does not add up cannot keep the client paging forever;
//! - a page whose `Content-Range` starts elsewhere than asked ends the listing, incomplete
//!   (a proxy that drops `Range` gets the first page every time).
//!
//! A listing that ended before its total, or whose total changed on the way (issues
//! added or removed mid-listing shift the items between pages, so some were never
//! sent), is [`Pager::incomplete`]: a full run must not close what it did not see.

use serde_json::Value;

/// One page of a listing: raw items, every field kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The application whose issues these are (`None` for the application list).
    pub app: Option<String>,
    /// Index of the first item of the page.
    pub first: u64,
    /// Total items, when the server said (`Content-Range`).
    pub total: Option<u64>,
    /// The records, as sent.
    pub items: Vec<Value>,
    /// On a listing's last page: why the listing did not deliver every item the server
    /// counted (see [`Pager::incomplete`]), if it did not.
    pub incomplete: Option<String>,
}

/// `items=<first>-<last>`.
pub fn range_header(first: u64, last: u64) -> String {
    format!("items={first}-{last}")
}

/// A parsed `Content-Range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// First item of the page (`None` for `items */total`).
    pub first: Option<u64>,
    /// Last item of the page.
    pub last: Option<u64>,
    /// Total items, if known.
    pub total: Option<u64>,
}

/// Parses `items 0-99/250`, `items 0-99/*` or `items */250` (`items` may be any unit).
pub fn parse_content_range(v: &str) -> Option<ContentRange> {
    let v = v.trim();
    let (_, rest) = v.split_once(' ')?;
    let (range, total) = rest.trim().split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    let (first, last) = match range.trim() {
        "*" => (None, None),
        r => {
            let (a, b) = r.split_once('-')?;
            (Some(a.trim().parse().ok()?), Some(b.trim().parse().ok()?))
        }
    };
    Some(ContentRange { first, last, total })
}

/// Where a page starts when its `Content-Range` says it starts elsewhere than `asked`:
/// not the page asked for, so none of its items count as the next ones.
pub(crate) fn starts_elsewhere(cr: Option<ContentRange>, asked: u64) -> Option<u64> {
    cr.and_then(|c| c.first).filter(|&f| f != asked)
}

/// Where a listing is.
#[derive(Debug, Clone)]
pub(crate) struct Pager {
    next: u64,
    size: u64,
    pages: u64,
    done: bool,
    /// The total the first page gave.
    first_total: Option<u64>,
    /// Why the listing did not deliver every item, once known.
    incomplete: Option<String>,
}

impl Pager {
    pub(crate) fn new(size: usize) -> Pager {
        Pager {
            next: 0,
            size: size.max(1) as u64,
            pages: 0,
            done: false,
            first_total: None,
            incomplete: None,
        }
    }

    /// The inclusive range of the next page, or `None` when the listing is over.
    pub(crate) fn next_range(&self) -> Option<(u64, u64)> {
        (!self.done).then(|| (self.next, self.next + self.size - 1))
    }

    /// Records a page of `n` items; returns the total when known.
    pub(crate) fn on_page(&mut self, n: usize, cr: Option<ContentRange>) -> Option<u64> {
        let n = n as u64;
        let asked = self.next;
        self.pages += 1;
        self.next += n;
        let total = cr.and_then(|c| c.total);
        // A page that is not the one asked for (a proxy that drops `Range` gets the
        // server's first page every time): counting its items as the next ones read the
        // first page over and over up to the total, and a full run closed the rest.
        if let Some(sent) = starts_elsewhere(cr, asked) {
            self.done = true;
            self.short_of(format!(
                "the server sent items from {sent} when asked for items from {asked}: it, or \
                 a proxy in front of it, does not honour the Range header"
            ));
            return total;
        }
        if let (Some(first), Some(now)) = (self.first_total, total)
            && first != now
        {
            self.short_of(format!(
                "the server's total changed from {first} to {now} during the listing, so \
                 items moved between pages"
            ));
        }
        self.first_total = self.first_total.or(total);
        self.done = n == 0
            || match total {
                Some(t) => self.next >= t,
                None => n > self.size,
            };
        if !self.done && self.first_total.is_some_and(|t| self.pages > t + 1) {
            self.done = true;
            self.short_of(format!(
                "the listing did not end after {} pages of its {} items",
                self.pages,
                self.first_total.unwrap_or_default()
            ));
        }
        // Measured against the first total too: an empty page without `Content-Range`
        // ended the listing as if it were whole.
        if let Some(t) = total
            .or(self.first_total)
            .filter(|&t| self.done && self.next < t)
        {
            self.short_of(format!(
                "the server sent no more items after {} of {t}",
                self.next
            ));
        }
        total
    }

    /// A `416 Range Not Satisfiable`, or a listing ended by an error: the range starts
    /// past the end.
    pub(crate) fn on_unsatisfiable(&mut self) {
        self.done = true;
        if let Some(t) = self.first_total.filter(|&t| self.next < t) {
            self.short_of(format!(
                "the server refused the range at {} of {t} items",
                self.next
            ));
        }
    }

    /// Why the listing did not deliver every item the server counted, if it did not.
    pub(crate) fn incomplete(&self) -> Option<&str> {
        self.incomplete.as_deref()
    }

    fn short_of(&mut self, why: String) {
        self.incomplete.get_or_insert(why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Content-Range` that gives only the total.
    fn total(t: u64) -> Option<ContentRange> {
        Some(ContentRange {
            first: None,
            last: None,
            total: Some(t),
        })
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_content_range("items 0-99/250"),
            Some(ContentRange {
                first: Some(0),
                last: Some(99),
                total: Some(250)
            })
        );
        assert_eq!(
            parse_content_range("items 0-9/*").and_then(|c| c.total),
            None
        );
        assert_eq!(
            parse_content_range("items */0").and_then(|c| c.total),
            Some(0)
        );
        for bad in ["", "items", "items 0-9", "items a-b/3", "items 0-9/x"] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn stops_at_the_total_even_after_a_short_page() {
        let mut p = Pager::new(10);
        assert_eq!(p.next_range(), Some((0, 9)));
        p.on_page(10, total(25));
        assert_eq!(p.next_range(), Some((10, 19)));
        // The server capped the page: go on from where it stopped.
        p.on_page(7, total(25));
        assert_eq!(p.next_range(), Some((17, 26)));
        p.on_page(8, total(25));
        assert_eq!(p.next_range(), None);
    }

    #[test]
    fn without_a_total_an_empty_or_long_page_ends_it() {
        let mut p = Pager::new(10);
        p.on_page(10, None);
        assert!(p.next_range().is_some());
        // Short: the last page, or one the server capped; the next one tells.
        p.on_page(3, None);
        assert_eq!(p.next_range(), Some((13, 22)));
        p.on_page(0, None);
        assert!(p.next_range().is_none());
        assert_eq!(p.incomplete(), None);
        let mut p = Pager::new(10);
        p.on_page(40, None);
        assert!(
            p.next_range().is_none(),
            "Range ignored: everything came at once"
        );
        let mut p = Pager::new(10);
        p.on_page(0, total(50));
        assert!(p.next_range().is_none(), "an empty page ends it");
    }

    #[test]
    fn pages_shorter_than_asked_go_on_to_the_total() {
        // The server sends one item where ten were asked: every item still comes (the
        // listing stopped after three pages, and a full run closed the other 22).
        let mut p = Pager::new(10);
        let mut received = 0;
        while p.next_range().is_some() {
            p.on_page(1, total(25));
            received += 1;
        }
        assert_eq!((received, p.incomplete()), (25, None));
        // A total that grows as fast as the items come is bounded, and said.
        let mut p = Pager::new(10);
        let mut pages = 0;
        while p.next_range().is_some() {
            p.on_page(1, total(25 + pages));
            pages += 1;
            assert!(pages < 100, "paged forever");
        }
        assert!(p.incomplete().is_some());
    }

    #[test]
    fn a_listing_short_of_its_total_says_why() {
        // Issues removed between two pages: the total changed, items moved.
        let mut p = Pager::new(10);
        p.on_page(10, total(30));
        p.on_page(10, total(25));
        p.on_page(5, total(25));
        assert!(p.next_range().is_none());
        assert!(p.incomplete().is_some_and(|w| w.contains("from 30 to 25")));
        // An empty page before the total.
        let mut p = Pager::new(10);
        p.on_page(10, total(30));
        p.on_page(0, total(30));
        assert!(p.incomplete().is_some_and(|w| w.contains("after 10 of 30")));
        // A 416 before the total.
        let mut p = Pager::new(10);
        p.on_page(10, total(30));
        p.on_unsatisfiable();
        assert!(p.incomplete().is_some_and(|w| w.contains("at 10 of 30")));
        // An empty page without `Content-Range` after a first page that gave the total.
        let mut p = Pager::new(10);
        p.on_page(10, total(30));
        p.on_page(0, None);
        assert!(p.next_range().is_none());
        assert!(p.incomplete().is_some_and(|w| w.contains("after 10 of 30")));
        // A page other than the one asked for (the first one again, from a server whose
        // `Range` a proxy dropped): the listing ends there, incomplete.
        let at = |first, last, t| {
            Some(ContentRange {
                first: Some(first),
                last: Some(last),
                total: Some(t),
            })
        };
        let mut p = Pager::new(10);
        p.on_page(10, at(0, 9, 25));
        p.on_page(10, at(0, 9, 25));
        assert!(p.next_range().is_none());
        assert!(
            p.incomplete()
                .is_some_and(|w| w.contains("from 0 when asked for items from 10")),
            "{:?}",
            p.incomplete()
        );
        // Whole listings are complete, with or without a total.
        let mut p = Pager::new(10);
        p.on_page(10, total(12));
        p.on_page(2, total(12));
        assert_eq!(p.incomplete(), None);
        let mut p = Pager::new(10);
        p.on_page(3, None);
        assert_eq!(p.incomplete(), None);
    }
}
