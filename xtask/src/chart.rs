//! Line charts as hand-written SVG (no plotting library: xtask uses the standard
//! library alone): stacked panels sharing an x axis, one polyline per series, a legend.

use std::fmt::Write as _;

/// One series: its label and its points.
pub(crate) struct Series {
    /// The legend's text.
    pub(crate) label: String,
    /// `(x, y)` points, in x order.
    pub(crate) points: Vec<(f64, f64)>,
}

/// One panel: a title (with its unit) and its series.
pub(crate) struct Panel {
    /// What is plotted, with its unit.
    pub(crate) title: String,
    /// The series, drawn in the same colours in every panel.
    pub(crate) series: Vec<Series>,
}

/// Colours for the series, in order (the Okabe–Ito palette, readable by colour-blind
/// readers).
const COLOURS: [&str; 8] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
];

const WIDTH: f64 = 900.0;
const PANEL_HEIGHT: f64 = 200.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const GAP: f64 = 50.0;

/// A "nice" upper bound for an axis, at least `max`: 1, 1.2, 1.6, 2, 3, 4, 6 or 8 times
/// a power of ten (each divides into four round ticks).
fn nice(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 1.2, 1.6, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|step| step * power)
        .find(|bound| *bound >= max)
        .unwrap_or(10.0 * power)
}

/// Escapes text for SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart: `title` over `panels`, x labelled `x_label`.
pub(crate) fn render(title: &str, x_label: &str, panels: &[Panel]) -> String {
    #[allow(clippy::cast_precision_loss)]
    let height = TOP + panels.len() as f64 * (PANEL_HEIGHT + GAP) + 40.0;
    let plot_width = WIDTH - LEFT - RIGHT;
    let x_max = nice(
        panels
            .iter()
            .flat_map(|panel| &panel.series)
            .flat_map(|series| series.points.last())
            .map(|point| point.0)
            .fold(0.0, f64::max),
    );
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    for (index, panel) in panels.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let top = TOP + index as f64 * (PANEL_HEIGHT + GAP);
        let bottom = top + PANEL_HEIGHT;
        let y_max = nice(
            panel
                .series
                .iter()
                .flat_map(|series| &series.points)
                .map(|point| point.1)
                .fold(0.0, f64::max),
        );
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"#,
            top - 8.0,
            escape(&panel.title)
        );
        for tick in 0..=4 {
            let fraction = f64::from(tick) / 4.0;
            let y = bottom - fraction * PANEL_HEIGHT;
            let x = LEFT + fraction * plot_width;
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
                WIDTH - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                y_max * fraction
            );
            let _ = writeln!(
                svg,
                r#"<text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                bottom + 16.0,
                x_max * fraction
            );
        }
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{top}" width="{plot_width}" height="{PANEL_HEIGHT}" fill="none" stroke="#888"/>"##
        );
        for (n, series) in panel.series.iter().enumerate() {
            let colour = COLOURS[n % COLOURS.len()];
            let mut points = String::new();
            for (x, y) in &series.points {
                let _ = write!(
                    points,
                    "{:.1},{:.1} ",
                    LEFT + x / x_max * plot_width,
                    bottom - (y / y_max).min(1.0) * PANEL_HEIGHT
                );
            }
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{}"/>"#,
                points.trim_end()
            );
        }
    }
    // The legend, once, under the last panel.
    #[allow(clippy::cast_precision_loss)]
    let legend_y = TOP + panels.len() as f64 * (PANEL_HEIGHT + GAP) - 10.0;
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        LEFT + plot_width / 2.0,
        legend_y - 12.0,
        escape(x_label)
    );
    if let Some(panel) = panels.first() {
        for (n, series) in panel.series.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let x = LEFT + n as f64 * 130.0;
            let colour = COLOURS[n % COLOURS.len()];
            let _ = writeln!(
                svg,
                r#"<rect x="{x}" y="{}" width="14" height="4" fill="{colour}"/><text x="{}" y="{}">{}</text>"#,
                legend_y + 8.0,
                x + 18.0,
                legend_y + 13.0,
                escape(&series.label)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::{Panel, Series, nice, render};

    #[test]
    fn axes_end_at_round_multiples_of_a_power_of_ten() {
        assert!((nice(0.7) - 0.8).abs() < 1e-9);
        assert!((nice(1.5) - 1.6).abs() < 1e-9);
        assert!((nice(37.0) - 40.0).abs() < 1e-9);
        assert!((nice(301.0) - 400.0).abs() < 1e-9);
        assert!((nice(300.0) - 300.0).abs() < 1e-9);
        assert!((nice(0.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn every_series_is_a_polyline_inside_its_panel() {
        let panels = [Panel {
            title: "RSS (MiB)".to_owned(),
            series: vec![
                Series {
                    label: "a <b>".to_owned(),
                    points: vec![(0.0, 1.0), (10.0, 2.0)],
                },
                Series {
                    label: "c".to_owned(),
                    points: vec![(0.0, 0.5)],
                },
            ],
        }];
        let svg = render("t", "seconds", &panels);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("a &lt;b&gt;"));
        // x 10 of an axis to 10 is the plot's right edge (900 − 20); y 2 of 2 its top (40).
        assert!(svg.contains("880.0,40.0"), "{svg}");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }
}
