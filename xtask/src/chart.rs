//! Charts as SVG text, drawn with `plotters`' SVG backend (no browser, no font files:
//! text stays SVG `<text>` for the viewer to lay out): [`lines`] (a line per series,
//! linear or logarithmic axes) and [`bars`] (horizontal bars, grouped). `cargo xtask
//! bench` draws BENCHMARKS.md's charts with them (`bench/report/charts.rs` says which).

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{SegmentValue, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One line: its legend text and its `(x, y)` points, in x order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    pub(crate) label: String,
    pub(crate) points: Vec<(f64, f64)>,
}

/// A line chart.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Lines {
    pub(crate) title: String,
    pub(crate) x_label: String,
    pub(crate) y_label: String,
    /// Whether each axis is logarithmic (powers of ten equally spaced; every value
    /// must then be positive) rather than linear.
    pub(crate) x_log: bool,
    pub(crate) y_log: bool,
    pub(crate) series: Vec<Series>,
}

/// A horizontal bar chart: for each group (e.g. a library) one bar per series (e.g.
/// one thread, all cores), each labelled with its value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bars {
    pub(crate) title: String,
    /// What the bars measure, with the unit.
    pub(crate) value_label: String,
    pub(crate) groups: Vec<String>,
    pub(crate) series: Vec<BarSeries>,
}

/// One series of a [`Bars`] chart: a value per group, `None` where it has none.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BarSeries {
    pub(crate) label: String,
    pub(crate) values: Vec<Option<f64>>,
}

/// Colours for the series, in order: the Okabe–Ito palette, readable by colour-blind
/// readers.
const COLOURS: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xb2),
    RGBColor(0xe6, 0x9f, 0x00),
    RGBColor(0x00, 0x9e, 0x73),
    RGBColor(0xcc, 0x79, 0xa7),
    RGBColor(0x56, 0xb4, 0xe9),
    RGBColor(0xd5, 0x5e, 0x00),
    RGBColor(0xf0, 0xe4, 0x42),
    RGBColor(0x00, 0x00, 0x00),
];

fn colour(index: usize) -> RGBColor {
    COLOURS[index % COLOURS.len()]
}

const WIDTH: u32 = 800;
const FONT: &str = "sans-serif";

/// A drawing failure as text (the SVG backend writes into a `String`, so only
/// impossible geometry fails).
fn failed(error: impl std::fmt::Display) -> String {
    format!("could not draw the chart: {error}")
}

/// `min..max` of `values`, widened for the axis: a tenth of the span (a factor of 1.5
/// on a log axis) on each side, from 0 on a linear axis of positive values.
fn axis_range(values: impl Iterator<Item = f64>, log: bool) -> Result<Range<f64>, String> {
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !min.is_finite() || !max.is_finite() {
        return Err("a chart needs at least one finite value".to_owned());
    }
    Ok(if log {
        {
            if min <= 0.0 {
                return Err(format!("a logarithmic axis cannot show {min}"));
            }
            min / 1.5..max * 1.5
        }
    } else {
        let span = if max > min {
            max - min
        } else {
            max.abs().max(1.0)
        };
        let low = if min >= 0.0 { 0.0 } else { min - span / 10.0 };
        low..max + span / 10.0
    })
}

/// Draws `series` into `area` on the given axes.
fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Lines,
) -> Result<(), String> {
    let points = || chart.series.iter().flat_map(|s| s.points.iter());
    let x = axis_range(points().map(|p| p.0), chart.x_log)?;
    let y = axis_range(points().map(|p| p.1), chart.y_log)?;
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(&chart.title, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    // The four combinations are four coordinate types.
    match (chart.x_log, chart.y_log) {
        (false, false) => plot(builder.build_cartesian_2d(x, y).map_err(failed)?, chart),
        (true, false) => plot(
            builder
                .build_cartesian_2d(x.log_scale(), y)
                .map_err(failed)?,
            chart,
        ),
        (false, true) => plot(
            builder
                .build_cartesian_2d(x, y.log_scale())
                .map_err(failed)?,
            chart,
        ),
        (true, true) => plot(
            builder
                .build_cartesian_2d(x.log_scale(), y.log_scale())
                .map_err(failed)?,
            chart,
        ),
    }
}

/// The mesh, the lines with their points, and the legend.
fn plot<'a, DB, X, Y>(
    mut context: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    chart: &Lines,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    context
        .configure_mesh()
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .x_label_formatter(&|v| number(*v))
        .y_label_formatter(&|v| number(*v))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(failed)?;
    for (index, series) in chart.series.iter().enumerate() {
        let colour = colour(index);
        context
            .draw_series(LineSeries::new(
                series.points.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(failed)?
            .label(&series.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
            });
        // A marker per measured point where points are few (a benchmark's sizes); a
        // per-second series is a line alone.
        if series.points.len() <= MARKED_POINTS {
            context
                .draw_series(
                    series
                        .points
                        .iter()
                        .map(|&point| Circle::new(point, 3, colour.filled())),
                )
                .map_err(failed)?;
        }
    }
    context
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0x88, 0x88, 0x88))
        .label_font((FONT, 15))
        .draw()
        .map_err(failed)
}

/// Series of at most this many points get a marker on each.
const MARKED_POINTS: usize = 50;

/// A line chart, 800 × 480.
pub(crate) fn lines(chart: &Lines) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        draw_lines(&root, chart)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// A horizontal bar chart: a row per group and series (the group named on its first
/// row, the series told apart by colour and the legend), each bar labelled with its
/// value; 800 wide, 22 per row.
pub(crate) fn bars(chart: &Bars) -> Result<String, String> {
    let per_group = chart.series.len();
    let rows = chart.groups.len() * per_group;
    let max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |max, v| max.max(*v));
    if rows == 0 || max <= 0.0 || !max.is_finite() {
        return Err("a bar chart needs at least one positive value".to_owned());
    }
    let rows_i32 = i32::try_from(rows).map_err(failed)?;
    let height = 110 + 22 * u32::try_from(rows).map_err(failed)?;
    // Row `r` (from the top) is drawn at segment `rows - 1 - r`: plotters counts up.
    let segment = |row: usize| rows_i32 - 1 - i32::try_from(row).unwrap_or(0);
    let row_label = |value: &SegmentValue<i32>| {
        let (SegmentValue::CenterOf(s) | SegmentValue::Exact(s)) = *value else {
            return String::new();
        };
        let row = usize::try_from(rows_i32 - 1 - s).unwrap_or(usize::MAX);
        if row % per_group == 0 {
            chart
                .groups
                .get(row / per_group)
                .cloned()
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut context = ChartBuilder::on(&root)
            .caption(&chart.title, (FONT, 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..max * 1.25, (0..rows_i32).into_segmented())
            .map_err(failed)?;
        context
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(&chart.value_label)
            .x_label_formatter(&|v| number(*v))
            .y_labels(rows)
            .y_label_formatter(&row_label)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(failed)?;
        for (index, series) in chart.series.iter().enumerate() {
            let colour = colour(index);
            let bars: Vec<(i32, f64)> = series
                .values
                .iter()
                .enumerate()
                .filter_map(|(group, value)| Some((segment(group * per_group + index), (*value)?)))
                .collect();
            context
                .draw_series(bars.iter().map(|&(s, v)| {
                    let mut bar = Rectangle::new(
                        [
                            (0.0, SegmentValue::Exact(s)),
                            (v, SegmentValue::Exact(s + 1)),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(3, 3, 0, 0);
                    bar
                }))
                .map_err(failed)?
                .label(&series.label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled())
                });
            context
                .draw_series(bars.iter().map(|&(s, v)| {
                    Text::new(
                        format!(" {}", number(v)),
                        (v, SegmentValue::CenterOf(s)),
                        TextStyle::from((FONT, 14).into_font())
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    )
                }))
                .map_err(failed)?;
        }
        if per_group > 1 {
            context
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(0x88, 0x88, 0x88))
                .label_font((FONT, 15))
                .draw()
                .map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// An axis or bar value: at most three significant digits, no exponent.
pub(crate) fn number(value: f64) -> String {
    let magnitude = value.abs();
    let text = if magnitude >= 100.0 || magnitude == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        // Three significant digits below 1: 0.0123.
        let decimals = usize::try_from((-magnitude.log10().floor()) as i64 + 2).unwrap_or(2);
        format!("{value:.decimals$}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::{BarSeries, Bars, Lines, Series, bars, lines, number};

    fn series(label: &str, points: &[(f64, f64)]) -> Series {
        Series {
            label: label.to_owned(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(1234.0), "1234");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(0.01234), "0.0123");
        assert_eq!(number(0.0), "0");
    }

    #[test]
    fn a_log_log_chart_has_a_line_and_a_legend_entry_per_series() {
        let svg = lines(&Lines {
            title: "encode <time>".to_owned(),
            x_label: "series".to_owned(),
            y_label: "ms".to_owned(),
            x_log: true,
            y_log: true,
            series: vec![
                series("a", &[(100.0, 0.01), (100_000.0, 10.0)]),
                series("b", &[(100.0, 0.02), (100_000.0, 30.0)]),
            ],
        })
        .unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        // Each series is a line in its colour, and the legend's sample of it.
        for colour in ["#0072B2", "#E69F00"] {
            let line = format!(r#"stroke="{colour}" stroke-width="2""#);
            assert_eq!(svg.matches(&line).count(), 2, "{svg}");
        }
        assert!(svg.contains("encode &lt;time&gt;"), "{svg}");
        // Powers of ten label a log axis.
        assert!(
            svg.contains("\n1000\n") && svg.contains("\n10000\n"),
            "{svg}"
        );
    }

    #[test]
    fn a_log_axis_refuses_zero() {
        let error = lines(&Lines {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            x_log: true,
            y_log: false,
            series: vec![series("a", &[(0.0, 1.0)])],
        })
        .unwrap_err();
        assert!(error.contains("logarithmic"), "{error}");
    }

    #[test]
    fn bars_are_drawn_per_group_and_series_with_their_values() {
        let svg = bars(&Bars {
            title: "observe".to_owned(),
            value_label: "ns per call".to_owned(),
            groups: vec!["torchlight".to_owned(), "prometheus".to_owned()],
            series: vec![
                BarSeries {
                    label: "1 thread".to_owned(),
                    values: vec![Some(6.27), Some(13.3)],
                },
                BarSeries {
                    label: "2 threads".to_owned(),
                    values: vec![Some(6.49), None],
                },
            ],
        })
        .unwrap();
        for text in [
            "torchlight",
            "prometheus",
            "6.27",
            "13.3",
            "6.49",
            "2 threads",
        ] {
            assert!(svg.contains(text), "{text} missing: {svg}");
        }
        // Two bars and a legend swatch in the first series' colour, one and one in
        // the second's.
        assert_eq!(svg.matches(r##"fill="#0072B2""##).count(), 3, "{svg}");
        assert_eq!(svg.matches(r##"fill="#E69F00""##).count(), 2, "{svg}");
    }
}
