//! The charts of `BENCHMARKS.md`, drawn from the same merged results as the tables
//! (so `--report` redraws them from saved outputs): encode time against series per
//! library (case 6, log–log), per-call time per library on one thread and on every
//! core (cases 1–3), scrapes per second (case 7), and the cases added with the push,
//! OTLP and tower work (13, 14, 15). Each is an SVG file in [`DIR`], linked from the
//! end of its case's generated section; a chart without results is not drawn.

use super::{BARE, MEDIAN_NS, Merged, ordered, ordered_parameters, threads};
use crate::chart::{self, BarSeries, Bars, Lines, Series};

/// Where the SVG files go, relative to the repository root (and to `BENCHMARKS.md`).
pub(crate) const DIR: &str = "bench/charts";

/// One chart: the case whose section links it, its file name and what it shows.
pub(crate) struct Chart {
    pub(crate) case: &'static str,
    pub(crate) file: String,
    alt: String,
    drawing: Drawing,
}

enum Drawing {
    Lines(Lines),
    Bars(Bars),
}

impl Chart {
    /// The SVG text.
    pub(crate) fn svg(&self) -> Result<String, String> {
        match &self.drawing {
            Drawing::Lines(lines) => chart::lines(lines),
            Drawing::Bars(bars) => chart::bars(bars),
        }
    }

    /// The Markdown image that embeds it.
    pub(crate) fn link(&self) -> String {
        format!("![{}]({DIR}/{})", self.alt, self.file)
    }
}

/// Every chart the results can draw, in document order.
pub(crate) fn all(merged: &Merged<'_>) -> Vec<Chart> {
    let mut charts = Vec::new();
    for (case, variant, what) in [
        ("case1_counter", "inc", "counter increment"),
        ("case2_gauge", "add", "gauge add"),
        ("case3_histogram", "observe", "histogram observe"),
    ] {
        charts.extend(per_call(merged, case, variant, what));
    }
    charts.extend(encode(merged));
    charts.extend(http(merged));
    charts.extend(tower(merged));
    charts.extend(push(merged));
    charts.extend(otel(merged));
    charts
}

/// The charts of one case.
pub(crate) fn of_case<'c>(charts: &'c [Chart], case: &str) -> impl Iterator<Item = &'c Chart> {
    charts.iter().filter(move |chart| chart.case == case)
}

/// The variants, parameters and libraries of `case`'s timings.
fn timings<'m>(merged: &'m Merged<'_>, case: &str) -> Vec<(&'m str, &'m str, &'m str)> {
    merged
        .of_case(case)
        .filter(|(key, _)| key.metric == MEDIAN_NS)
        .map(|(key, _)| {
            (
                key.variant.as_str(),
                key.parameter.as_str(),
                key.library.as_str(),
            )
        })
        .collect()
}

/// Nanoseconds per call of each library, on one thread and on all cores.
fn per_call(merged: &Merged<'_>, case: &'static str, variant: &str, what: &str) -> Option<Chart> {
    let keys = timings(merged, case);
    let keys: Vec<_> = keys.iter().filter(|(v, _, _)| *v == variant).collect();
    let libraries = ordered(keys.iter().map(|(_, _, library)| *library));
    let parameters = ordered_parameters(keys.iter().map(|(_, parameter, _)| *parameter));
    let series: Vec<BarSeries> = parameters
        .iter()
        .map(|parameter| BarSeries {
            label: match threads(parameter) {
                Some(1) => "1 thread".to_owned(),
                Some(n) => format!("{n} threads on one metric (per thread)"),
                None => (*parameter).to_owned(),
            },
            values: libraries
                .iter()
                .map(|library| merged.get(case, variant, parameter, library, MEDIAN_NS))
                .collect(),
        })
        .collect();
    (!libraries.is_empty()).then(|| Chart {
        case,
        file: format!("{case}.svg"),
        alt: format!("{what}: nanoseconds per call per library, one thread and all cores"),
        drawing: Drawing::Bars(Bars {
            title: format!("{what} ({variant}), time per call"),
            value_label: "nanoseconds per call (median)".to_owned(),
            groups: libraries
                .iter()
                .map(|library| (*library).to_owned())
                .collect(),
            series,
        }),
    })
}

/// Case 6: milliseconds per scrape against series, one line per library and format.
fn encode(merged: &Merged<'_>) -> Option<Chart> {
    const CASE: &str = "case6_encode";
    let keys = timings(merged, CASE);
    let mut rows: Vec<(&str, &str)> = Vec::new();
    for (variant, _, library) in &keys {
        if !rows.contains(&(*variant, *library)) {
            rows.push((variant, library));
        }
    }
    // `text` rows in library order first, then torchlight's other formats.
    let library_order = ordered(keys.iter().map(|(_, _, library)| *library));
    rows.sort_by_key(|(variant, library)| {
        let rank = library_order.iter().position(|l| l == library);
        (*variant != "text", *variant, rank)
    });
    let series: Vec<Series> = rows
        .iter()
        .map(|(variant, library)| {
            let parameters = ordered_parameters(
                keys.iter()
                    .filter(|k| k.0 == *variant && k.2 == *library)
                    .map(|k| k.1),
            );
            Series {
                label: match variant.strip_prefix("text_") {
                    _ if *variant == "text" => (*library).to_owned(),
                    Some(format) => format!("{library}, {}", format.replace('_', " ")),
                    None => format!("{library}, {variant}"),
                },
                points: parameters
                    .iter()
                    .filter_map(|parameter| {
                        let series: f64 = parameter.parse().ok()?;
                        let ns = merged.get(CASE, variant, parameter, library, MEDIAN_NS)?;
                        Some((series, ns / 1e6))
                    })
                    .collect(),
            }
        })
        .filter(|series| !series.points.is_empty())
        .collect();
    (!series.is_empty()).then(|| Chart {
        case: CASE,
        file: format!("{CASE}.svg"),
        alt: "encode time against series per library and format, log-log".to_owned(),
        drawing: Drawing::Lines(Lines {
            title: "One scrape: encode time against series".to_owned(),
            x_label: "series in the registry".to_owned(),
            y_label: "milliseconds per scrape (median)".to_owned(),
            x_log: true,
            y_log: true,
            series,
        }),
    })
}

/// Case 7: scrapes per second of each server and label kind, per registry size.
fn http(merged: &Merged<'_>) -> Option<Chart> {
    const CASE: &str = "case7_http";
    const RATE: &str = "requests_per_second";
    let keys: Vec<(&str, &str, &str)> = merged
        .of_case(CASE)
        .filter(|(key, _)| key.metric == RATE)
        .map(|(key, _)| {
            (
                key.variant.as_str(),
                key.parameter.as_str(),
                key.library.as_str(),
            )
        })
        .collect();
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for library in ordered(keys.iter().map(|k| k.2)) {
        for (variant, _, l) in &keys {
            if *l == library && !groups.contains(&(library, *variant)) {
                groups.push((library, variant));
            }
        }
    }
    let parameters = ordered_parameters(keys.iter().map(|k| k.1));
    let series: Vec<BarSeries> = parameters
        .iter()
        .map(|parameter| BarSeries {
            label: format!("{parameter} series"),
            values: groups
                .iter()
                .map(|(library, variant)| merged.get(CASE, variant, parameter, library, RATE))
                .collect(),
        })
        .collect();
    (!groups.is_empty()).then(|| Chart {
        case: CASE,
        file: format!("{CASE}.svg"),
        alt: "scrapes per second over HTTP per server".to_owned(),
        drawing: Drawing::Bars(Bars {
            title: "/metrics over HTTP: scrapes per second".to_owned(),
            value_label: "scrapes per second (higher is better)".to_owned(),
            groups: groups
                .iter()
                .map(|(library, variant)| format!("{library}, {}", variant.replace('_', " ")))
                .collect(),
            series,
        }),
    })
}

/// Case 13: what each tower layer adds to a request over bare axum.
fn tower(merged: &Merged<'_>) -> Option<Chart> {
    const CASE: &str = "case13_tower";
    let keys = timings(merged, CASE);
    let (variant, parameter) = keys.first().map(|(v, p, _)| (*v, *p))?;
    let bare = merged.get(CASE, variant, parameter, BARE, MEDIAN_NS)?;
    let libraries: Vec<&str> = ordered(
        keys.iter()
            .filter(|k| k.0 == variant && k.1 == parameter && k.2 != BARE)
            .map(|k| k.2),
    );
    Some(Chart {
        case: CASE,
        file: format!("{CASE}.svg"),
        alt: "nanoseconds each tower layer adds to a request over bare axum".to_owned(),
        drawing: Drawing::Bars(Bars {
            title: "HTTP request metrics: cost added to one request".to_owned(),
            value_label: "nanoseconds over bare axum (median)".to_owned(),
            groups: libraries.iter().map(|l| (*l).to_owned()).collect(),
            series: vec![BarSeries {
                label: "overhead".to_owned(),
                values: libraries
                    .iter()
                    .map(|library| {
                        merged
                            .get(CASE, variant, parameter, library, MEDIAN_NS)
                            .map(|ns| ns - bare)
                    })
                    .collect(),
            }],
        }),
    })
}

/// Case 14: milliseconds per body (remote write, text, text gzip'd) per registry size.
fn push(merged: &Merged<'_>) -> Option<Chart> {
    const CASE: &str = "case14_push";
    let keys = timings(merged, CASE);
    let bodies: Vec<&str> = super::PUSH_BODIES
        .iter()
        .copied()
        .filter(|body| keys.iter().any(|k| k.0 == *body))
        .collect();
    let parameters = ordered_parameters(keys.iter().map(|k| k.1));
    (!bodies.is_empty()).then(|| Chart {
        case: CASE,
        file: format!("{CASE}.svg"),
        alt: "milliseconds to encode a remote-write push against a text scrape".to_owned(),
        drawing: Drawing::Bars(Bars {
            title: "A push against a scrape: encode time".to_owned(),
            value_label: "milliseconds per body (median)".to_owned(),
            groups: bodies.iter().map(|body| body.replace('_', " ")).collect(),
            series: parameters
                .iter()
                .map(|parameter| BarSeries {
                    label: format!("{parameter} series"),
                    values: bodies
                        .iter()
                        .map(|body| {
                            merged
                                .get(CASE, body, parameter, "torchlight", MEDIAN_NS)
                                .map(|ns| ns / 1e6)
                        })
                        .collect(),
                })
                .collect(),
        }),
    })
}

/// Case 15: torchlight against the OpenTelemetry SDK, per call on one thread, and one
/// OTLP export.
fn otel(merged: &Merged<'_>) -> Vec<Chart> {
    let mut charts = Vec::new();
    let mut groups = Vec::new();
    let mut rows: Vec<(&str, &str)> = Vec::new();
    for case in ["case15_counter", "case15_histogram"] {
        for (variant, parameter, _) in timings(merged, case) {
            if threads(parameter) == Some(1) && !rows.contains(&(case, variant)) {
                rows.push((case, variant));
            }
        }
    }
    let libraries = ordered(
        rows.iter()
            .flat_map(|(case, _)| timings(merged, case))
            .map(|(_, _, library)| library),
    );
    for (case, variant) in &rows {
        let instrument = case.trim_start_matches("case15_");
        groups.push(format!("{instrument} {}", variant.replace('_', " ")));
    }
    if !rows.is_empty() {
        charts.push(Chart {
            case: "case15_histogram",
            file: "case15_instruments.svg".to_owned(),
            alt: "nanoseconds per call: torchlight against the OpenTelemetry SDK".to_owned(),
            drawing: Drawing::Bars(Bars {
                title: "Instruments on one thread: torchlight and the OpenTelemetry SDK".to_owned(),
                value_label: "nanoseconds per call (median)".to_owned(),
                groups,
                series: libraries
                    .iter()
                    .map(|library| BarSeries {
                        label: (*library).to_owned(),
                        values: rows
                            .iter()
                            .map(|(case, variant)| {
                                merged.get(case, variant, "t=1", library, MEDIAN_NS)
                            })
                            .collect(),
                    })
                    .collect(),
            }),
        });
    }
    const EXPORT: &str = "case15_export";
    let keys = timings(merged, EXPORT);
    if let Some((variant, parameter, _)) = keys.first().copied() {
        let libraries = ordered(keys.iter().map(|k| k.2));
        charts.push(Chart {
            case: EXPORT,
            file: format!("{EXPORT}.svg"),
            alt: "milliseconds per OTLP export of 10 000 series".to_owned(),
            drawing: Drawing::Bars(Bars {
                title: "One OTLP export of 10 000 series".to_owned(),
                value_label: "milliseconds per export (median)".to_owned(),
                groups: libraries.iter().map(|l| (*l).to_owned()).collect(),
                series: vec![BarSeries {
                    label: variant.replace('_', " "),
                    values: libraries
                        .iter()
                        .map(|library| {
                            merged
                                .get(EXPORT, variant, parameter, library, MEDIAN_NS)
                                .map(|ns| ns / 1e6)
                        })
                        .collect(),
                }],
            }),
        });
    }
    charts
}
