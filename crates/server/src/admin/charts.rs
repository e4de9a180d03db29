//! The dashboard's pictures: SVG charts made on the server, so they need no script, no
//! chart library and no third-party request, and print and scale like text.
//!
//! Each chart is an `<svg role="img">` named by its `<title>` and summed up by its
//! `<desc>` (what a screen reader announces); every bar carries its own `<title>` with
//! its exact value, which browsers show as a tooltip. Sizes live in the `viewBox` only,
//! so CSS sets the width and the chart scales with it. Colours come from CSS classes
//! (`chart-bar`, `chart-axis`, ...), so the admin stylesheet themes them.
//!
//! Everything here is a pure function of its input; text is escaped on the way in.

use std::fmt::Write;

use chrono::NaiveDate;

use crate::xml::escape;

/// The inner drawing size of a daily chart, in viewBox units.
const DAILY_WIDTH: f64 = 440.0;
const DAILY_HEIGHT: f64 = 180.0;
/// Room for the value labels left of the plot and the dates below it.
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;
/// Share of a day's slot its bar fills; the rest is the gap between bars.
const BAR_FILL: f64 = 0.72;

/// The rows of a horizontal bar chart, in viewBox units.
const ROW_HEIGHT: f64 = 30.0;
const MIX_WIDTH: f64 = 400.0;
/// Room for the labels left of the bars and the values right of them.
const LABEL_WIDTH: f64 = 130.0;
const VALUE_WIDTH: f64 = 100.0;

/// What a chart counts, singular and plural ("view", "views").
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    pub one: &'static str,
    pub many: &'static str,
}

impl Unit {
    /// "1 view", "12 views".
    fn count(self, n: u64) -> String {
        format!("{n} {}", if n == 1 { self.one } else { self.many })
    }
}

/// A bar chart of one value per day, oldest day first.
///
/// `id` must be unique on the page: the chart's title and description are referred to
/// by id. With nothing to show (no days, or all zeros) the chart says so in words.
pub fn daily_bars(id: &str, title: &str, unit: Unit, days: &[(NaiveDate, u64)]) -> String {
    let id = escape(id);
    let total: u64 = days.iter().map(|(_, n)| n).sum();
    let peak = days.iter().map(|&(_, n)| n).max().unwrap_or(0);
    let span = match (days.first(), days.last()) {
        (Some((first, _)), Some((last, _))) => {
            format!(
                "{} to {}",
                first.format("%-d %B %Y"),
                last.format("%-d %B %Y")
            )
        }
        _ => "no days".to_owned(),
    };
    let desc = format!(
        "{} in total from {span}; the busiest day had {}.",
        unit.count(total),
        unit.count(peak)
    );
    let height = TOP + DAILY_HEIGHT + BOTTOM;
    let width = LEFT + DAILY_WIDTH;
    let mut svg = open_svg(&id, title, &desc, width, height, "chart chart-daily");
    let baseline = TOP + DAILY_HEIGHT;
    if total == 0 {
        axis_line(&mut svg, LEFT, baseline, width, baseline);
        empty_state(&mut svg, width / 2.0, TOP + DAILY_HEIGHT / 2.0, unit);
        svg.push_str("</svg>");
        return svg;
    }
    let scale = nice_ceiling(peak);
    // Grid lines and their values: zero, half (when it is a whole number) and the top.
    let mut ticks = vec![0, scale];
    if scale.is_multiple_of(2) {
        ticks.insert(1, scale / 2);
    }
    for tick in ticks {
        let y = baseline - DAILY_HEIGHT * tick as f64 / scale as f64;
        let _ = write!(
            svg,
            r#"<line class="chart-grid" x1="{LEFT}" y1="{y:.1}" x2="{width}" y2="{y:.1}"/><text class="chart-axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + 4.0,
            compact(tick)
        );
    }
    let slot = DAILY_WIDTH / days.len() as f64;
    let bar_width = slot * BAR_FILL;
    for (i, &(day, n)) in days.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_width) / 2.0;
        let bar_height = DAILY_HEIGHT * n as f64 / scale as f64;
        let _ = write!(
            svg,
            r#"<rect class="chart-bar" x="{x:.2}" y="{:.2}" width="{bar_width:.2}" height="{bar_height:.2}" data-value="{n}"><title>{}: {}</title></rect>"#,
            baseline - bar_height,
            day.format("%a %-d %b %Y"),
            unit.count(n)
        );
    }
    // Dates under the first, middle and last bars: enough to read the axis by. The
    // outer two align with the plot's edges so that they are not cut off.
    let last = days.len() - 1;
    let labelled = [(0, "start"), (last / 2, "middle"), (last, "end")];
    for (k, &(i, anchor)) in labelled.iter().enumerate() {
        if k > 0 && labelled[k - 1].0 == i {
            continue;
        }
        let x = match anchor {
            "start" => LEFT + slot * i as f64,
            "end" => LEFT + slot * (i + 1) as f64,
            _ => LEFT + slot * (i as f64 + 0.5),
        };
        let _ = write!(
            svg,
            r#"<text class="chart-axis" x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            baseline + 18.0,
            days[i].0.format("%-d %b")
        );
    }
    axis_line(&mut svg, LEFT, baseline, width, baseline);
    svg.push_str("</svg>");
    svg
}

/// One row of a horizontal bar chart.
#[derive(Debug, Clone)]
pub struct Share {
    pub label: String,
    pub count: u64,
    pub percent: u32,
}

/// A horizontal bar chart of shares (the reaction mix): one labelled row each, bars as
/// long as their count relative to the largest, each with its count and percentage.
pub fn share_bars(id: &str, title: &str, unit: Unit, rows: &[Share]) -> String {
    let id = escape(id);
    let total: u64 = rows.iter().map(|r| r.count).sum();
    let peak = rows.iter().map(|r| r.count).max().unwrap_or(0);
    let desc = if total == 0 {
        format!("No {} yet.", unit.many)
    } else {
        let parts: Vec<String> = rows
            .iter()
            .map(|r| format!("{} {} ({}%)", r.label, r.count, r.percent))
            .collect();
        format!("{} in all: {}.", unit.count(total), parts.join(", "))
    };
    let height = ROW_HEIGHT * rows.len().max(1) as f64 + 8.0;
    let mut svg = open_svg(&id, title, &desc, MIX_WIDTH, height, "chart chart-shares");
    if total == 0 {
        empty_state(&mut svg, MIX_WIDTH / 2.0, height / 2.0, unit);
        svg.push_str("</svg>");
        return svg;
    }
    let room = MIX_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    for (i, row) in rows.iter().enumerate() {
        let y = 4.0 + ROW_HEIGHT * i as f64;
        let bar_width = room * row.count as f64 / peak as f64;
        let label = escape(&row.label);
        let value = format!("{} ({}%)", row.count, row.percent);
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="{:.1}" y="{:.1}" text-anchor="end">{label}</text><rect class="chart-bar" x="{LABEL_WIDTH}" y="{:.1}" width="{bar_width:.2}" height="{:.1}" data-value="{}"><title>{label}: {}, {}%</title></rect><text class="chart-value" x="{:.1}" y="{:.1}">{value}</text>"#,
            LABEL_WIDTH - 8.0,
            y + ROW_HEIGHT / 2.0 + 4.0,
            y + 4.0,
            ROW_HEIGHT - 8.0,
            row.count,
            unit.count(row.count),
            row.percent,
            LABEL_WIDTH + bar_width + 6.0,
            y + ROW_HEIGHT / 2.0 + 4.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The opening of a chart: the accessible name and description, and the viewBox.
fn open_svg(id: &str, title: &str, desc: &str, width: f64, height: f64, class: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="{class}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-title {id}-desc" preserveAspectRatio="xMidYMid meet"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(desc)
    )
}

fn axis_line(svg: &mut String, x1: f64, y1: f64, x2: f64, y2: f64) {
    let _ = write!(
        svg,
        r#"<line class="chart-axis-line" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>"#
    );
}

fn empty_state(svg: &mut String, x: f64, y: f64, unit: Unit) {
    let _ = write!(
        svg,
        r#"<text class="chart-empty" x="{x}" y="{y}" text-anchor="middle">No {} yet</text>"#,
        unit.many
    );
}

/// The smallest of 1, 2 or 5 times a power of ten that is at least `n` (and 1 at
/// least): a top for the value axis that reads as a round number.
fn nice_ceiling(n: u64) -> u64 {
    let mut power: u64 = 1;
    loop {
        for step in [1, 2, 5] {
            let candidate = power.saturating_mul(step);
            if candidate >= n {
                return candidate;
            }
        }
        if power > u64::MAX / 10 {
            return n;
        }
        power *= 10;
    }
}

/// An axis value in few characters: the values are round (see [`nice_ceiling`]), so
/// thousands and millions shorten without rounding ("20k", "5M").
fn compact(n: u64) -> String {
    match n {
        1_000_000.. if n.is_multiple_of(1_000_000) => format!("{}M", n / 1_000_000),
        1_000.. if n.is_multiple_of(1_000) => format!("{}k", n / 1_000),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    const VIEWS: Unit = Unit {
        one: "view",
        many: "views",
    };

    fn parse(svg: &str) -> Html {
        Html::parse_fragment(svg)
    }

    fn all(doc: &Html, css: &str) -> Vec<String> {
        let selector = Selector::parse(css).unwrap();
        doc.select(&selector)
            .map(|e| e.text().collect::<String>())
            .collect()
    }

    fn attrs(doc: &Html, css: &str, name: &str) -> Vec<f64> {
        let selector = Selector::parse(css).unwrap();
        doc.select(&selector)
            .map(|e| e.value().attr(name).unwrap().parse().unwrap())
            .collect()
    }

    fn days(values: &[u64]) -> Vec<(NaiveDate, u64)> {
        let first = NaiveDate::from_ymd_opt(2026, 10, 30).unwrap();
        first.iter_days().zip(values.iter().copied()).collect()
    }

    #[test]
    fn a_daily_chart_has_a_bar_per_day_heights_in_proportion() {
        let values = [4, 0, 8, 2, 6];
        let svg = daily_bars("views", "Views per day", VIEWS, &days(&values));
        let doc = parse(&svg);
        let root = doc.select(&Selector::parse("svg").unwrap()).next().unwrap();
        assert_eq!(root.value().attr("role"), Some("img"));
        assert_eq!(
            root.value().attr("aria-labelledby"),
            Some("views-title views-desc")
        );
        let size = format!("0 0 {} {}", LEFT + DAILY_WIDTH, TOP + DAILY_HEIGHT + BOTTOM);
        assert_eq!(root.value().attr("viewBox"), Some(size.as_str()));
        assert!(root.value().attr("width").is_none(), "CSS sizes the chart");
        assert_eq!(all(&doc, "svg > title"), ["Views per day"]);
        assert_eq!(
            all(&doc, "svg > desc"),
            [
                "20 views in total from 30 October 2026 to 3 November 2026; the busiest day had 8 views."
            ]
        );

        let heights = attrs(&doc, "rect.chart-bar", "height");
        assert_eq!(heights.len(), values.len());
        // The axis tops out at 10: each bar is value/10 of the plot.
        for (h, v) in heights.iter().zip(values) {
            assert!(
                (h - DAILY_HEIGHT * v as f64 / 10.0).abs() < 0.01,
                "{h} for {v}"
            );
        }
        // Bars stand on one baseline.
        let ys = attrs(&doc, "rect.chart-bar", "y");
        for (y, h) in ys.iter().zip(&heights) {
            assert!((y + h - (TOP + DAILY_HEIGHT)).abs() < 0.02);
        }
        assert_eq!(
            all(&doc, "rect.chart-bar > title"),
            [
                "Fri 30 Oct 2026: 4 views",
                "Sat 31 Oct 2026: 0 views",
                "Sun 1 Nov 2026: 8 views",
                "Mon 2 Nov 2026: 2 views",
                "Tue 3 Nov 2026: 6 views"
            ]
        );
        assert_eq!(
            all(&doc, "text.chart-axis"),
            ["0", "5", "10", "30 Oct", "1 Nov", "3 Nov"]
        );
    }

    #[test]
    fn one_view_is_singular_and_one_day_is_labelled_once() {
        let svg = daily_bars("v", "Views", VIEWS, &days(&[1]));
        let doc = parse(&svg);
        assert_eq!(all(&doc, "rect > title"), ["Fri 30 Oct 2026: 1 view"]);
        assert_eq!(all(&doc, "text.chart-axis"), ["0", "1", "30 Oct"]);
        let heights = attrs(&doc, "rect.chart-bar", "height");
        assert!((heights[0] - DAILY_HEIGHT).abs() < 0.01);
    }

    #[test]
    fn no_activity_shows_an_empty_state_and_no_bars() {
        for data in [days(&[0, 0, 0]), Vec::new()] {
            let svg = daily_bars("c", "Comments per day", VIEWS, &data);
            let doc = parse(&svg);
            assert!(all(&doc, "rect").is_empty(), "{svg}");
            assert_eq!(all(&doc, "text.chart-empty"), ["No views yet"]);
        }
        let svg = share_bars("m", "Reaction mix", VIEWS, &[]);
        assert_eq!(all(&parse(&svg), "text.chart-empty"), ["No views yet"]);
    }

    #[test]
    fn text_is_escaped() {
        let svg = daily_bars(
            r#"a"b"#,
            "<script>alert(1)</script> & co",
            VIEWS,
            &days(&[1]),
        );
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
        assert!(svg.contains(r#"id="a&quot;b-title""#));
        let rows = [Share {
            label: "<b>Bold</b>".into(),
            count: 1,
            percent: 100,
        }];
        let svg = share_bars("m", "Mix", VIEWS, &rows);
        assert!(!svg.contains("<b>"), "{svg}");
        assert_eq!(all(&parse(&svg), "text.chart-label"), ["<b>Bold</b>"]);
    }

    #[test]
    fn share_bars_scale_to_the_largest_and_label_each_row() {
        let rows: Vec<Share> = [
            ("😀 Happy", 6, 60),
            ("😢 Sad", 3, 30),
            ("😮 Surprise", 1, 10),
            ("😴 Sleepy", 0, 0),
        ]
        .into_iter()
        .map(|(label, count, percent)| Share {
            label: label.into(),
            count,
            percent,
        })
        .collect();
        let reactions = Unit {
            one: "reaction",
            many: "reactions",
        };
        let svg = share_bars("mix", "Reaction mix", reactions, &rows);
        let doc = parse(&svg);
        let widths = attrs(&doc, "rect.chart-bar", "width");
        let room = MIX_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        let expected = [room, room / 2.0, room / 6.0, 0.0];
        for (w, e) in widths.iter().zip(expected) {
            assert!((w - e).abs() < 0.01, "{w} vs {e}");
        }
        assert_eq!(
            all(&doc, "text.chart-value"),
            ["6 (60%)", "3 (30%)", "1 (10%)", "0 (0%)"]
        );
        assert_eq!(all(&doc, "rect > title")[1], "😢 Sad: 3 reactions, 30%");
        assert_eq!(
            all(&doc, "svg > desc"),
            [
                "10 reactions in all: 😀 Happy 6 (60%), 😢 Sad 3 (30%), 😮 Surprise 1 (10%), 😴 Sleepy 0 (0%)."
            ]
        );
    }

    #[test]
    fn large_axis_values_are_shortened_and_bar_values_are_not() {
        let svg = daily_bars("v", "Views", VIEWS, &days(&[12_345, 2_500_000]));
        let doc = parse(&svg);
        assert_eq!(all(&doc, "text.chart-axis")[..3], ["0", "2500k", "5M"]);
        assert_eq!(all(&doc, "rect > title")[0], "Fri 30 Oct 2026: 12345 views");
        assert_eq!(compact(999), "999");
        assert_eq!(compact(1_500), "1500");
        assert_eq!(compact(20_000), "20k");
    }

    #[test]
    fn the_value_axis_tops_out_at_a_round_number() {
        let tops: Vec<u64> = [0, 1, 2, 3, 6, 10, 11, 49, 51, 999, 1001]
            .into_iter()
            .map(nice_ceiling)
            .collect();
        assert_eq!(tops, [1, 1, 2, 5, 10, 10, 20, 50, 100, 1000, 2000]);
        assert_eq!(nice_ceiling(u64::MAX), u64::MAX);
    }
}
