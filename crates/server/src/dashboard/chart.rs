//! The chart of open findings over time: inline SVG drawn on the server, so the page
//! needs no charting library and no script to show it.

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

/// The chart, or a line saying there is nothing to draw yet.
pub fn open_findings(points: &[OpenPoint]) -> Markup {
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
    let label = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
            role="img" aria-label="Open findings over time" {
            title { "Open findings after each run" }
            @for v in [0, top / 2, top] {
                line.gridline x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(v)) y2=(y(v)) {}
                text.axis x=(LEFT - 8.0) y=(y(v) + 4.0) text-anchor="end" { (v) }
            }
            polygon.area points=(area) {}
            polyline.line points=(line.join(" ")) {}
            @for p in points {
                circle.dot cx=(format!("{:.1}", x(p))) cy=(format!("{:.1}", y(p.open))) r="3.5" {
                    title { (p.open) " open after the run of " (label(p.at)) " UTC" }
                }
            }
            text.axis x=(LEFT) y=(HEIGHT - 8.0) text-anchor="start" { (label(first)) }
            @if points.len() > 1 {
                text.axis x=(WIDTH - RIGHT) y=(HEIGHT - 8.0) text-anchor="end" { (label(last)) }
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
        let svg = open_findings(&pts).into_string();
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("2026-11-01 00:00") && svg.contains("2026-11-01 18:00"));
        assert!(svg.contains(">200<"), "y axis top: {svg}");
        assert!(open_findings(&[]).into_string().contains("No runs"));
        assert_eq!(
            open_findings(&pts[..1])
                .into_string()
                .matches("<circle")
                .count(),
            1
        );
    }
}
