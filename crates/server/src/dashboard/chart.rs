//! The chart of open findings over time: inline SVG drawn on the server, so the page
//! needs no charting library and no script to show it.
//!
//! Its date labels are written in UTC and say so; each carries its time in
//! `data-datetime`, which the page script shows in the reader's zone as it does every
//! `<time>` (the footer names that zone). A dot's tooltip stays UTC, as every hover does.

use chrono::{DateTime, SecondsFormat, Utc};
use maud::{Markup, html};
use store::OpenPoint;

/// Size of the drawing, in SVG user units (it scales with the page).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
/// Room for the axis labels.
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 30.0;

/// A round number at or above `max`, for the top of the y axis.
fn nice_ceiling(max: u64) -> u64 {
    if max <= 5 {
        return 5;
    }
    let magnitude = 10u64.pow((max as f64).log10().floor() as u32);
    for step in [1, 2, 5, 10] {
        let top = step * magnitude;
        if top >= max {
            return top;
        }
    }
    10 * magnitude
}

/// `2026-11-01 00:00 UTC`, what a label says before the script turns it local.
fn utc_label(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A date label under the x axis, at `x`, anchored `anchor`.
fn date_label(t: DateTime<Utc>, x: f64, anchor: &str) -> Markup {
    html! {
        text.axis.date x=(x) y=(HEIGHT - 8.0) text-anchor=(anchor)
            data-datetime=(t.to_rfc3339_opts(SecondsFormat::Millis, true)) { (utc_label(t)) }
    }
}

/// The chart's title: what it draws, and whose findings when the page is limited to one
/// connector (its name shown as [`super::pages::shown`] shows scanned text).
fn chart_title(scope: Option<&str>) -> String {
    match scope {
        Some(name) => format!(
            "Open findings of connector {} after each run",
            super::pages::shown(name)
        ),
        None => "Open findings after each run".into(),
    }
}

/// The chart, or a line saying there is nothing to draw yet; `scope` is the connector
/// the page is limited to.
pub fn open_findings(points: &[OpenPoint], scope: Option<&str>) -> Markup {
    if points.is_empty() {
        return html! { p.empty { "No runs have changed a finding yet." } };
    }
    let top = nice_ceiling(points.iter().map(|p| p.open).max().unwrap_or(0));
    let (first, last) = (points[0].at, points[points.len() - 1].at);
    let span = (last - first).num_seconds().max(1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |p: &OpenPoint| {
        if points.len() == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * (p.at - first).num_seconds() as f64 / span
        }
    };
    let y = |v: u64| TOP + plot_h * (1.0 - v as f64 / top as f64);
    let line: Vec<String> = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p), y(p.open)))
        .collect();
    let area = format!(
        "{:.1},{:.1} {} {:.1},{:.1}",
        x(&points[0]),
        y(0),
        line.join(" "),
        x(&points[points.len() - 1]),
        y(0)
    );
    let title = chart_title(scope);
    html! {
        // Too narrow a screen scrolls the chart in this box rather than shrink its labels.
        div.chart-scroll {
            svg.chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
                role="img" aria-label=(title) {
                title { (title) }
                @for v in [0, top / 2, top] {
                    line.gridline x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(v)) y2=(y(v)) {}
                    text.axis x=(LEFT - 8.0) y=(y(v) + 4.0) text-anchor="end" { (v) }
                }
                polygon.area points=(area) {}
                polyline.line points=(line.join(" ")) {}
                @for p in points {
                    circle.dot cx=(format!("{:.1}", x(p))) cy=(format!("{:.1}", y(p.open))) r="3.5" {
                        title { (p.open) " open after the run of " (utc_label(p.at)) }
                    }
                }
                (date_label(first, LEFT, "start"))
                @if points.len() > 1 {
                    (date_label(last, WIDTH - RIGHT, "end"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn draws_one_dot_per_point_and_round_axis() {
        assert_eq!(nice_ceiling(0), 5);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(120), 200);
        assert_eq!(nice_ceiling(1000), 1000);
        let t0 = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .expect("time");
        let pts: Vec<OpenPoint> = (0..4)
            .map(|i| OpenPoint {
                at: t0 + Duration::hours(6 * i),
                open: 100 + i as u64 * 10,
            })
            .collect();
        let svg = open_findings(&pts, None).into_string();
        assert_eq!(svg.matches("<circle").count(), 4);
        // The labels say they are UTC, and carry the time the script shows locally.
        assert!(
            svg.contains("data-datetime=\"2026-11-01T00:00:00.000Z\">2026-11-01 00:00 UTC</text>")
        );
        assert!(
            svg.contains("data-datetime=\"2026-11-01T18:00:00.000Z\">2026-11-01 18:00 UTC</text>")
        );
        assert!(svg.contains(">200<"), "y axis top: {svg}");
        assert!(open_findings(&[], None).into_string().contains("No runs"));
        assert_eq!(
            open_findings(&pts[..1], None)
                .into_string()
                .matches("<circle")
                .count(),
            1
        );
    }

    #[test]
    fn the_title_names_the_connector_as_the_page_shows_scanned_text() {
        let t0 = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .expect("time");
        let pts = [OpenPoint { at: t0, open: 3 }];
        let svg = open_findings(&pts, Some("cl\u{202E}oud")).into_string();
        assert!(
            svg.contains(
                "<title>Open findings of connector cl&lt;U+202E&gt;oud after each run</title>"
            ),
            "{svg}"
        );
        assert!(!svg.contains('\u{202E}'));
    }
}
