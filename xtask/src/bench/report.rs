//! Turning run sets into the tables of `BENCHMARKS.md`.
//!
//! Each case's tables replace what sits between `<!-- bench:<case>:begin -->` and
//! `<!-- bench:<case>:end -->`; everything else in the file (how to run, the slots for
//! cases not measured yet, the hand-written reading under each table) is left alone,
//! and so is a case with no results. When several run sets are given, each result
//! comes from the last set that has it, so a filtered run replaces only its own rows.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::results::{Key, MEDIAN_NS, RunSet, median};
use crate::markers;

pub(crate) mod charts;

/// The peers; "× best peer" divides by the fastest of these. `axum_prometheus` is
/// case 13's only peer (a tower layer over `metrics-exporter-prometheus`),
/// `opentelemetry` (the OpenTelemetry SDK) case 15's.
const PEERS: [&str; 6] = [
    "prometheus",
    "prometheus_client",
    "metrics",
    "measured",
    "axum_prometheus",
    "opentelemetry",
];
/// Row order; other libraries follow alphabetically.
const ORDER: [&str; 6] = [
    "torchlight",
    "prometheus",
    "prometheus_client",
    "metrics",
    "measured",
    "floor",
];

/// How a case's results are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Median time per operation, ratios to the best peer and to the floor.
    Timing,
    /// Cases 5 and 13: median time per call and its overhead over the `bare` row
    /// (`over` names what that row is), compared with the best peer's and the
    /// floor's overhead.
    Overhead { over: &'static str },
    /// Case 6: time per scrape, throughput, allocations per scrape.
    Encode,
    /// Case 7: scrapes per second and latency over HTTP.
    Http,
    /// Case 8: allocations and bytes per new label child.
    Memory,
    /// Case 10: CPU time and latency of simultaneous scrapes against one.
    Burst,
    /// Case 14: a push's encode time and body against a text scrape's.
    Push,
}

/// Case 14's bodies (its variants), in table order: the push, then what it is
/// compared with.
const PUSH_BODIES: [&str; 3] = ["remote_write", "text", "text_gzip"];

/// The generated sections: the marker name (the case's bench module) and its layout.
const CASES: [(&str, Layout); 18] = [
    ("case1_counter", Layout::Timing),
    ("case2_gauge", Layout::Timing),
    ("case3_histogram", Layout::Timing),
    // Native (exponential) histogram observe: torchlight against prometheus-client.
    ("case3_native_histogram", Layout::Timing),
    ("case4_labelled", Layout::Timing),
    (
        "case5_future",
        Layout::Overhead {
            over: "the bare future",
        },
    ),
    ("case6_encode", Layout::Encode),
    ("case7_http", Layout::Http),
    ("case8_memory", Layout::Memory),
    // The `metrics` facade: torchlight-metrics (row `torchlight`) against
    // metrics-exporter-prometheus (row `metrics`), recording and scraping.
    ("case9_facade", Layout::Timing),
    ("case10_burst", Layout::Burst),
    // One scrape of the process metrics alone (`torchlight::process`).
    ("case11_process", Layout::Timing),
    // The same server and load over HTTP and HTTPS (rows by variant, no peer).
    ("case12_tls", Layout::Http),
    // HTTP request metrics: torchlight-tower's layer against axum-prometheus's, per
    // request of a minimal axum app (`bench/benches/tower.rs`).
    ("case13_tower", Layout::Overhead { over: "bare axum" }),
    // A remote-write push against a text scrape of the same registry.
    ("case14_push", Layout::Push),
    // torchlight against the OpenTelemetry SDK: instruments, then one OTLP export.
    ("case15_counter", Layout::Timing),
    ("case15_histogram", Layout::Timing),
    ("case15_export", Layout::Timing),
];

/// The row of an overhead table that every other row's overhead is taken over.
const BARE: &str = "bare";

/// Every result's median within its run set, from the last set that has it.
pub(crate) struct Merged<'a> {
    sets: &'a [RunSet],
    /// Median and the index of the set it came from.
    values: BTreeMap<Key, (f64, usize)>,
}

impl<'a> Merged<'a> {
    pub(crate) fn new(sets: &'a [RunSet]) -> Self {
        let mut values = BTreeMap::new();
        for (index, set) in sets.iter().enumerate() {
            for (key, samples) in &set.values {
                if let Some(value) = median(samples) {
                    values.insert(key.clone(), (value, index));
                }
            }
        }
        Self { sets, values }
    }

    fn of_case(&self, case: &str) -> impl Iterator<Item = (&Key, &(f64, usize))> {
        self.values.iter().filter(move |(key, _)| key.case == case)
    }

    fn get(
        &self,
        case: &str,
        variant: &str,
        parameter: &str,
        library: &str,
        metric: &str,
    ) -> Option<f64> {
        self.values
            .iter()
            .find(|(k, _)| {
                k.case == case
                    && k.variant == variant
                    && k.parameter == parameter
                    && k.library == library
                    && k.metric == metric
            })
            .map(|(_, (value, _))| *value)
    }

    /// The sets a case's results came from.
    fn sets_of(&self, case: &str) -> BTreeSet<usize> {
        self.of_case(case).map(|(_, (_, set))| *set).collect()
    }
}

/// Replaces every generated section of `document` that has results.
pub(crate) fn update(document: &str, merged: &Merged<'_>) -> Result<String, String> {
    let mut document = document.to_owned();
    let used: BTreeSet<usize> = merged.values.values().map(|(_, set)| *set).collect();
    let charts = charts::all(merged);
    if !used.is_empty() {
        document = replace_section(&document, "machine", &machine(merged, &used))?;
    }
    for (case, layout) in CASES {
        if merged.of_case(case).next().is_none() {
            continue;
        }
        let mut body = match layout {
            Layout::Timing => timing(merged, case),
            Layout::Overhead { over } => overhead(merged, case, over),
            Layout::Encode => encode(merged, case),
            Layout::Http => http(merged, case),
            Layout::Memory => memory(merged, case),
            Layout::Burst => burst(merged, case),
            Layout::Push => push(merged, case),
        };
        for chart in charts::of_case(&charts, case) {
            let _ = writeln!(body, "\n{}", chart.link());
        }
        let names: Vec<String> = merged
            .sets_of(case)
            .into_iter()
            .map(|set| {
                let set = &merged.sets[set];
                format!(
                    "`{}` ({} CPUs, {}, {})",
                    set.name,
                    set.machine("cpus"),
                    set.machine("cpu_model"),
                    set.machine("rustc")
                )
            })
            .collect();
        let _ = writeln!(body, "\n_Run set: {}._", names.join(", "));
        document = replace_section(&document, case, &body)?;
    }
    Ok(document)
}

/// Replaces the text between the `bench:name` markers with `body`.
fn replace_section(document: &str, name: &str, body: &str) -> Result<String, String> {
    let section = format!("bench:{name}");
    markers::replace(document, &section, body).ok_or_else(|| {
        format!(
            "BENCHMARKS.md lacks the markers `{}` … `{}`; put them back around the {name} tables",
            markers::begin(&section),
            markers::end(&section)
        )
    })
}

fn machine(merged: &Merged<'_>, used: &BTreeSet<usize>) -> String {
    let mut body = String::new();
    for &index in used {
        let set = &merged.sets[index];
        let _ = writeln!(
            body,
            "- `{}`: {} CPUs, {}; {}; load average (1, 5, 15 min) at each program's start: {}",
            set.name,
            set.machine("cpus"),
            set.machine("cpu_model"),
            set.machine("rustc"),
            set.machine("load_average"),
        );
    }
    body
}

/// Libraries in table order.
fn ordered<'k>(libraries: impl IntoIterator<Item = &'k str>) -> Vec<&'k str> {
    let mut libraries: Vec<&str> = libraries
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    libraries.sort_by_key(|library| {
        (
            ORDER
                .iter()
                .position(|known| known == library)
                .unwrap_or(ORDER.len()),
            *library,
        )
    });
    libraries
}

/// Parameters in a readable order: `-` first, then by the number they hold.
fn ordered_parameters<'k>(parameters: impl IntoIterator<Item = &'k str>) -> Vec<&'k str> {
    let mut parameters: Vec<&str> = parameters
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    parameters.sort_by_key(|parameter| {
        (
            threads(parameter).or_else(|| parameter.parse().ok()),
            *parameter,
        )
    });
    parameters
}

/// The thread count of a `t=N` parameter.
fn threads(parameter: &str) -> Option<u64> {
    parameter.strip_prefix("t=")?.parse().ok()
}

fn timing(merged: &Merged<'_>, case: &str) -> String {
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for (key, _) in merged
        .of_case(case)
        .filter(|(key, _)| key.metric == MEDIAN_NS)
    {
        if !groups.contains(&(key.variant.as_str(), key.parameter.as_str())) {
            groups.push((&key.variant, &key.parameter));
        }
    }
    let variants: Vec<&str> = groups
        .iter()
        .map(|(v, _)| *v)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut body = String::new();
    for variant in variants {
        let parameters = ordered_parameters(
            groups
                .iter()
                .filter(|(v, _)| *v == variant)
                .map(|(_, p)| *p),
        );
        for parameter in parameters {
            let threads = threads(parameter);
            let contended = threads.is_some_and(|n| n > 1);
            let title = match threads {
                Some(1) => format!("**{variant}**, 1 thread"),
                Some(n) => format!("**{variant}**, {n} threads on one shared metric (contended)"),
                None => format!("**{variant}**"),
            };
            let libraries = ordered(
                merged
                    .of_case(case)
                    .filter(|(k, _)| {
                        k.variant == variant && k.parameter == parameter && k.metric == MEDIAN_NS
                    })
                    .map(|(k, _)| k.library.as_str()),
            );
            let value = |library: &str| merged.get(case, variant, parameter, library, MEDIAN_NS);
            let best_peer = PEERS
                .iter()
                .filter_map(|peer| value(peer))
                .min_by(f64::total_cmp);
            let floor = value("floor");
            let _ = writeln!(body, "\n{title}\n");
            if contended {
                body.push_str("| library | median per call, per thread | calls/s, all threads | × best peer | × floor |\n|---|---:|---:|---:|---:|\n");
            } else {
                body.push_str(
                    "| library | median per call | × best peer | × floor |\n|---|---:|---:|---:|\n",
                );
            }
            for library in libraries {
                let Some(ns) = value(library) else { continue };
                let peer_ratio = if library == "floor" {
                    "—".to_owned()
                } else {
                    ratio(ns, best_peer)
                };
                let floor_ratio = ratio(ns, floor);
                if let (true, Some(n)) = (contended, threads) {
                    let per_second = n as f64 / ns * 1e9;
                    let _ = writeln!(
                        body,
                        "| {library} | {} | {} | {peer_ratio} | {floor_ratio} |",
                        duration(ns),
                        rate(per_second)
                    );
                } else {
                    let _ = writeln!(
                        body,
                        "| {library} | {} | {peer_ratio} | {floor_ratio} |",
                        duration(ns)
                    );
                }
            }
        }
    }
    body
}

fn overhead(merged: &Merged<'_>, case: &str, bare_name: &str) -> String {
    let groups: BTreeSet<(&str, &str)> = merged
        .of_case(case)
        .filter(|(key, _)| key.metric == MEDIAN_NS)
        .map(|(key, _)| (key.variant.as_str(), key.parameter.as_str()))
        .collect();
    let mut body = String::new();
    for (variant, parameter) in groups {
        let value = |library: &str| merged.get(case, variant, parameter, library, MEDIAN_NS);
        let bare = value(BARE);
        let over = |library: &str| Some(value(library)? - bare?);
        let best_peer = PEERS
            .iter()
            .filter_map(|peer| over(peer))
            .min_by(f64::total_cmp);
        let floor = over("floor");
        let libraries = ordered(
            merged
                .of_case(case)
                .filter(|(k, _)| {
                    k.variant == variant && k.parameter == parameter && k.metric == MEDIAN_NS
                })
                .map(|(k, _)| k.library.as_str()),
        );
        let title = if parameter == "-" {
            format!("**{variant}**")
        } else {
            format!("**{variant}**, {parameter}")
        };
        let _ = writeln!(body, "\n{title}\n");
        let _ = writeln!(
            body,
            "| library | median per call | overhead over {bare_name} | overhead × best peer's | overhead × floor's |\n|---|---:|---:|---:|---:|"
        );
        for library in libraries {
            let Some(ns) = value(library) else { continue };
            let own = over(library).filter(|_| library != BARE);
            let dash = || "—".to_owned();
            let peer_ratio = match own {
                Some(own) if library != "floor" => ratio(own, best_peer),
                _ => dash(),
            };
            let _ = writeln!(
                body,
                "| {library} | {} | {} | {peer_ratio} | {} |",
                duration(ns),
                own.map_or_else(dash, duration),
                own.map_or_else(dash, |own| ratio(own, floor)),
            );
        }
    }
    body
}

fn encode(merged: &Merged<'_>, case: &str) -> String {
    let parameters = ordered_parameters(merged.of_case(case).map(|(k, _)| k.parameter.as_str()));
    let mut body = String::new();
    for parameter in parameters {
        let rows: BTreeSet<(&str, &str)> = merged
            .of_case(case)
            .filter(|(k, _)| k.parameter == parameter)
            .map(|(k, _)| (k.variant.as_str(), k.library.as_str()))
            .collect();
        let get = |variant: &str, library: &str, metric: &str| {
            merged.get(case, variant, parameter, library, metric)
        };
        // The fastest peer at this size, whatever the variant.
        let best_peer = rows
            .iter()
            .filter(|(_, library)| PEERS.contains(library))
            .filter_map(|(variant, library)| get(variant, library, MEDIAN_NS))
            .min_by(f64::total_cmp);
        // One table per size: libraries in order, each library's variants together
        // (the plain `text` first), labelled `library` or `library, variant`.
        let ordered_rows = library_rows(&rows, "text");
        let _ = writeln!(body, "\n**text**, {parameter} series\n");
        body.push_str("| library | median per scrape | exposition | MB/s | × best peer (time) | allocations per scrape | bytes allocated per scrape |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (variant, library) in ordered_rows {
            let ns = get(variant, library, MEDIAN_NS);
            let bytes = get(variant, library, "exposition_bytes");
            let throughput = match (ns, bytes) {
                (Some(ns), Some(bytes)) => format!("{:.0}", bytes / ns * 1e3),
                _ => "—".to_owned(),
            };
            // `text` is the plain row; `text_family` reads "family", `protobuf` itself.
            let label = match variant {
                "text" => library.to_owned(),
                other => format!(
                    "{library}, {}",
                    other
                        .strip_prefix("text_")
                        .unwrap_or(other)
                        .replace('_', " ")
                ),
            };
            let _ = writeln!(
                body,
                "| {label} | {} | {} | {throughput} | {} | {} | {} |",
                ns.map_or_else(|| "—".to_owned(), duration),
                bytes.map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
                ns.map_or_else(|| "—".to_owned(), |ns| ratio(ns, best_peer)),
                count(get(variant, library, "allocations_per_scrape")),
                count(get(variant, library, "allocated_bytes_per_scrape")),
            );
        }
    }
    body
}

/// `(variant, library)` rows in table order: libraries in their usual order, each
/// library's variants together, `first` before the others.
fn library_rows<'a>(rows: &BTreeSet<(&'a str, &'a str)>, first: &str) -> Vec<(&'a str, &'a str)> {
    let mut ordered_rows = Vec::new();
    for library in ordered(rows.iter().map(|(_, l)| *l)) {
        let mut variants: Vec<&str> = rows
            .iter()
            .filter(|(_, l)| *l == library)
            .map(|(v, _)| *v)
            .collect();
        variants.sort_by_key(|variant| (*variant != first, *variant));
        ordered_rows.extend(variants.into_iter().map(|v| (v, library)));
    }
    ordered_rows
}

fn http(merged: &Merged<'_>, case: &str) -> String {
    const RATE: &str = "requests_per_second";
    let parameters = ordered_parameters(merged.of_case(case).map(|(k, _)| k.parameter.as_str()));
    let mut body = String::new();
    for parameter in parameters {
        let rows: BTreeSet<(&str, &str)> = merged
            .of_case(case)
            .filter(|(k, _)| k.parameter == parameter && k.metric == RATE)
            .map(|(k, _)| (k.variant.as_str(), k.library.as_str()))
            .collect();
        let get = |variant: &str, library: &str, metric: &str| {
            merged.get(case, variant, parameter, library, metric)
        };
        // The best peer's scrapes per second, whatever its labels.
        let best_peer = rows
            .iter()
            .filter(|(_, library)| PEERS.contains(library))
            .filter_map(|(variant, library)| get(variant, library, RATE))
            .max_by(f64::total_cmp);
        // Run-time labels first: that is the row compared like with like.
        let ordered_rows = library_rows(&rows, "run_time");
        let _ = writeln!(body, "\n**/metrics**, {parameter} series\n");
        body.push_str("| server | labels | clients | scrapes/s | × best peer (scrapes/s) | median latency | p99 latency | body |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (variant, library) in ordered_rows {
            let Some(rate) = get(variant, library, RATE) else {
                continue;
            };
            let peer_ratio = match best_peer {
                Some(peer) if peer > 0.0 => format!("{:.2}×", rate / peer),
                _ => "—".to_owned(),
            };
            let _ = writeln!(
                body,
                "| {library} | {} | {} | {rate:.0} | {peer_ratio} | {} | {} | {} |",
                variant.replace('_', " "),
                count(get(variant, library, "clients")),
                get(variant, library, "median_latency_ns").map_or_else(|| "—".to_owned(), duration),
                get(variant, library, "p99_latency_ns").map_or_else(|| "—".to_owned(), duration),
                get(variant, library, "body_bytes")
                    .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
            );
        }
    }
    body
}

fn memory(merged: &Merged<'_>, case: &str) -> String {
    let rows: Vec<(&str, &str, &str)> = merged
        .of_case(case)
        .map(|(k, _)| (k.variant.as_str(), k.parameter.as_str(), k.library.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut body = String::from(
        "\n| library | how the series is made | allocations per new series | bytes retained per series |\n|---|---|---:|---:|\n",
    );
    for variant in ["new_child", "compile_time"] {
        let libraries = ordered(
            rows.iter()
                .filter(|(v, _, _)| *v == variant)
                .map(|(_, _, l)| *l),
        );
        for library in libraries {
            let Some(&(_, parameter, _)) =
                rows.iter().find(|(v, _, l)| *v == variant && *l == library)
            else {
                continue;
            };
            let how = match variant {
                "new_child" => format!("{parameter} new run-time label values"),
                _ => format!("compile-time labels, {parameter} series in a static array"),
            };
            let get = |metric: &str| merged.get(case, variant, parameter, library, metric);
            let _ = writeln!(
                body,
                "| {library} | {how} | {} | {} |",
                count(get("allocations_per_child")),
                get("retained_bytes_per_child")
                    .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
            );
        }
    }
    body
}

fn burst(merged: &Merged<'_>, case: &str) -> String {
    let mut body = String::new();
    for parameter in ordered_parameters(merged.of_case(case).map(|(k, _)| k.parameter.as_str())) {
        let get = |variant: &str, metric: &str| {
            merged.get(case, variant, parameter, "torchlight", metric)
        };
        let one = get("one", "cpu_per_round_ns");
        let _ = writeln!(body, "\n**Simultaneous scrapes**, {parameter} series\n");
        body.push_str("| scrapes at once | rounds | CPU time per round | × one scrape | median latency | p99 latency |\n|---:|---:|---:|---:|---:|---:|\n");
        for variant in ["one", "sixteen"] {
            let Some(cpu) = get(variant, "cpu_per_round_ns") else {
                continue;
            };
            let _ = writeln!(
                body,
                "| {} | {} | {} | {} | {} | {} |",
                count(get(variant, "scrapes")),
                count(get(variant, "rounds")),
                duration(cpu),
                ratio(cpu, one),
                get(variant, "median_latency_ns").map_or_else(|| "—".to_owned(), duration),
                get(variant, "p99_latency_ns").map_or_else(|| "—".to_owned(), duration),
            );
        }
    }
    body
}

/// `value / reference` as `1.23×`, or `—`.
/// Case 14: per registry size, each body's encode time, the push's against the text
/// scrape's (plain and gzip'd), and the bytes of the push against the gzip'd scrape.
fn push(merged: &Merged<'_>, case: &str) -> String {
    const BYTES: &str = "body_bytes";
    let parameters =
        ordered_parameters(merged.of_case(case).map(|(key, _)| key.parameter.as_str()));
    let mut body = String::from(
        "\n| series | remote write | text | text gzip | × text | × text gzip | remote-write body | gzip'd text | × gzip'd text |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for parameter in parameters {
        let get = |variant: &str, metric: &str| {
            merged.get(case, variant, parameter, "torchlight", metric)
        };
        let [push, text, gzip] = PUSH_BODIES.map(|variant| get(variant, MEDIAN_NS));
        let dash = || "—".to_owned();
        let bytes = |variant: &str| get(variant, BYTES);
        let size = |b: Option<f64>| b.map_or_else(dash, |b| format!("{b:.0} B"));
        let _ = writeln!(
            body,
            "| {parameter} | {} | {} | {} | {} | {} | {} | {} | {} |",
            push.map_or_else(dash, duration),
            text.map_or_else(dash, duration),
            gzip.map_or_else(dash, duration),
            push.map_or_else(dash, |push| ratio(push, text)),
            push.map_or_else(dash, |push| ratio(push, gzip)),
            size(bytes("remote_write")),
            size(bytes("text_gzip")),
            bytes("remote_write").map_or_else(dash, |push| ratio(push, bytes("text_gzip"))),
        );
    }
    body
}

fn ratio(value: f64, reference: Option<f64>) -> String {
    match reference {
        Some(reference) if reference > 0.0 => format!("{:.2}×", value / reference),
        _ => "—".to_owned(),
    }
}

/// A duration in nanoseconds, with three significant figures and a fitting unit.
fn duration(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let decimals = if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    };
    format!("{value:.decimals$} {unit}")
}

/// Calls per second, in millions.
fn rate(per_second: f64) -> String {
    format!("{:.1} M", per_second / 1e6)
}

/// A count: whole when it is, two decimals below one, else one decimal; or `—`.
fn count(value: Option<f64>) -> String {
    match value {
        Some(v) if (v - v.round()).abs() < 0.005 => format!("{v:.0}"),
        Some(v) if v < 1.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.1}"),
        None => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::results::{RunSet, parse};
    use super::*;

    const DOCUMENT: &str = "\
# Benchmarks
<!-- bench:machine:begin -->
old machine
<!-- bench:machine:end -->
## Case 1
<!-- bench:case1_counter:begin -->
old table
<!-- bench:case1_counter:end -->
Reading: kept.
<!-- bench:case2_gauge:begin -->
kept, no results
<!-- bench:case2_gauge:end -->
";

    fn set(name: &str, text: &str) -> RunSet {
        let mut set = RunSet {
            name: name.to_owned(),
            ..RunSet::default()
        };
        set.add(parse(text));
        set
    }

    fn line(parameter: &str, library: &str, metric: &str, value: f64) -> String {
        format!("torchlight-bench\tcase1_counter\tinc\t{parameter}\t{library}\t{metric}\t{value}\n")
    }

    #[test]
    fn tables_hold_medians_and_ratios_and_keep_the_rest() {
        let mut first = String::from("torchlight-bench-machine\tcpus\t16\n");
        for (library, ns) in [
            ("floor", 1.0),
            ("torchlight", 1.5),
            ("prometheus", 3.0),
            ("measured", 2.0),
        ] {
            first.push_str(&line("t=1", library, MEDIAN_NS, ns));
            first.push_str(&line("t=16", library, MEDIAN_NS, ns * 10.0));
        }
        let sets = [set("run-1", &first)];
        let merged = Merged::new(&sets);
        let document = update(DOCUMENT, &merged).unwrap();
        assert!(document.contains("- `run-1`: 16 CPUs"), "{document}");
        assert!(!document.contains("old table"));
        assert!(document.contains("Reading: kept."));
        assert!(document.contains("kept, no results"));
        assert!(
            document.contains("| torchlight | 1.50 ns | 0.75× | 1.50× |"),
            "{document}"
        );
        assert!(document.contains("| floor | 1.00 ns | — | 1.00× |"));
        // 16 threads at 15 ns each: 16 / 15 ns = 1067 M calls/s.
        assert!(document.contains("**inc**, 16 threads on one shared metric (contended)"));
        assert!(
            document.contains("| torchlight | 15.0 ns | 1066.7 M | 0.75× | 1.50× |"),
            "{document}"
        );
        assert!(document.find("| torchlight").unwrap() < document.find("| floor").unwrap());
    }

    #[test]
    fn later_run_sets_replace_only_their_own_results() {
        let first =
            line("t=1", "torchlight", MEDIAN_NS, 2.0) + &line("t=1", "prometheus", MEDIAN_NS, 4.0);
        let second = line("t=1", "torchlight", MEDIAN_NS, 1.0);
        let sets = [set("run-1", &first), set("run-2", &second)];
        let merged = Merged::new(&sets);
        assert_eq!(
            merged.get("case1_counter", "inc", "t=1", "torchlight", MEDIAN_NS),
            Some(1.0)
        );
        assert_eq!(
            merged.get("case1_counter", "inc", "t=1", "prometheus", MEDIAN_NS),
            Some(4.0)
        );
        let document = update(DOCUMENT, &merged).unwrap();
        assert!(
            document.contains("_Run set: `run-1` (? CPUs, ?, ?), `run-2` (? CPUs, ?, ?)._"),
            "{document}"
        );
    }

    #[test]
    fn missing_markers_are_an_error_that_names_them() {
        let sets = [set("run-1", &line("t=1", "torchlight", MEDIAN_NS, 1.0))];
        let error = update(
            "# Benchmarks\n<!-- bench:machine:begin --><!-- bench:machine:end -->",
            &Merged::new(&sets),
        )
        .unwrap_err();
        assert!(error.contains("bench:case1_counter:begin"), "{error}");
    }

    #[test]
    fn overhead_tables_subtract_the_bare_future() {
        let mut text = String::new();
        for (library, ns) in [
            ("bare", 2.0),
            ("floor", 52.0),
            ("torchlight", 57.0),
            ("prometheus", 62.0),
        ] {
            text.push_str(&format!(
                "torchlight-bench\tcase5_future\ttimed\t-\t{library}\t{MEDIAN_NS}\t{ns}\n"
            ));
        }
        text.push_str(&format!(
            "torchlight-bench\tcase5_future\tclock_read\t-\tfloor\t{MEDIAN_NS}\t20\n"
        ));
        let sets = [set("run-1", &text)];
        let document = update(
            "<!-- bench:machine:begin --><!-- bench:machine:end -->\n\
             <!-- bench:case5_future:begin --><!-- bench:case5_future:end -->",
            &Merged::new(&sets),
        )
        .unwrap();
        // 55 ns over the bare future: 0.92× prometheus' 60 ns, 1.10× the floor's 50 ns.
        assert!(
            document.contains("| torchlight | 57.0 ns | 55.0 ns | 0.92× | 1.10× |"),
            "{document}"
        );
        assert!(document.contains("| floor | 52.0 ns | 50.0 ns | — | 1.00× |"));
        assert!(document.contains("| bare | 2.00 ns | — | — | — |"));
        assert!(
            document.contains("| floor | 20.0 ns | — | — | — |"),
            "{document}"
        );
        assert!(document.find("| torchlight").unwrap() < document.find("| bare").unwrap());
    }

    #[test]
    fn tower_tables_compare_the_layers_over_bare_axum() {
        let mut text = String::new();
        for (library, ns) in [
            ("bare", 800.0),
            ("floor", 900.0),
            ("torchlight", 1100.0),
            ("axum_prometheus", 2300.0),
        ] {
            text.push_str(&format!(
                "torchlight-bench\tcase13_tower\trequest\t-\t{library}\t{MEDIAN_NS}\t{ns}\n"
            ));
        }
        let sets = [set("run-1", &text)];
        let document = update(
            "<!-- bench:machine:begin --><!-- bench:machine:end -->\n\
             <!-- bench:case13_tower:begin --><!-- bench:case13_tower:end -->",
            &Merged::new(&sets),
        )
        .unwrap();
        // 300 ns over bare axum: 0.20× axum-prometheus' 1500 ns, 3.00× the floor's 100.
        assert!(
            document.contains("| overhead over bare axum |"),
            "{document}"
        );
        assert!(
            document.contains("| torchlight | 1.10 µs | 300 ns | 0.20× | 3.00× |"),
            "{document}"
        );
        assert!(
            document.contains("| axum_prometheus | 2.30 µs | 1.50 µs | 1.00× | 15.00× |"),
            "{document}"
        );
    }

    #[test]
    fn burst_tables_compare_sixteen_scrapes_with_one() {
        let mut text = String::new();
        for (variant, scrapes, cpu) in [("one", 1.0, 40e6), ("sixteen", 16.0, 60e6)] {
            for (metric, value) in [
                ("scrapes", scrapes),
                ("rounds", 20.0),
                ("cpu_per_round_ns", cpu),
                ("median_latency_ns", 45e6),
                ("p99_latency_ns", 90e6),
            ] {
                text.push_str(&format!(
                    "torchlight-bench\tcase10_burst\t{variant}\t100000\ttorchlight\t{metric}\t{value}\n"
                ));
            }
        }
        let sets = [set("run-1", &text)];
        let document = update(
            "<!-- bench:machine:begin --><!-- bench:machine:end -->\n\
             <!-- bench:case10_burst:begin --><!-- bench:case10_burst:end -->",
            &Merged::new(&sets),
        )
        .unwrap();
        assert!(
            document.contains("| 16 | 20 | 60.0 ms | 1.50× | 45.0 ms | 90.0 ms |"),
            "{document}"
        );
        assert!(
            document.contains("| 1 | 20 | 40.0 ms | 1.00× |"),
            "{document}"
        );
    }

    #[test]
    fn http_tables_compare_scrapes_per_second_with_the_peer() {
        let mut text = String::new();
        for (variant, library, rate, median) in [
            ("run_time", "torchlight", 300.0, 3e6),
            ("compile_time", "torchlight", 450.0, 2e6),
            ("run_time", "metrics", 200.0, 5e6),
        ] {
            for (metric, value) in [
                ("requests_per_second", rate),
                ("median_latency_ns", median),
                ("p99_latency_ns", median * 2.0),
                ("clients", 4.0),
                ("body_bytes", 298_952.0),
            ] {
                text.push_str(&format!(
                    "torchlight-bench\tcase7_http\t{variant}\t10000\t{library}\t{metric}\t{value}\n"
                ));
            }
        }
        let sets = [set("run-1", &text)];
        let document = update(
            "<!-- bench:machine:begin --><!-- bench:machine:end -->\n\
             <!-- bench:case7_http:begin --><!-- bench:case7_http:end -->",
            &Merged::new(&sets),
        )
        .unwrap();
        assert!(
            document.contains("**/metrics**, 10000 series"),
            "{document}"
        );
        let run_time = "| torchlight | run time | 4 | 300 | 1.50× | 3.00 ms | 6.00 ms | 298952 B |";
        let compile_time = "| torchlight | compile time | 4 | 450 | 2.25× | 2.00 ms |";
        let peer = "| metrics | run time | 4 | 200 | 1.00× | 5.00 ms | 10.0 ms |";
        for row in [run_time, compile_time, peer] {
            assert!(document.contains(row), "{row}\n{document}");
        }
        assert!(document.find(run_time).unwrap() < document.find(compile_time).unwrap());
        assert!(document.find(compile_time).unwrap() < document.find(peer).unwrap());
    }

    #[test]
    fn push_tables_compare_a_push_with_the_scrape_in_time_and_bytes() {
        let mut text = String::new();
        for (variant, ns, bytes) in [
            ("remote_write", 1_200_000.0, 51_000.0),
            ("text", 200_000.0, 300_000.0),
            ("text_gzip", 480_000.0, 25_500.0),
        ] {
            for (metric, value) in [(MEDIAN_NS, ns), ("body_bytes", bytes)] {
                text.push_str(&format!(
                    "torchlight-bench\tcase14_push\t{variant}\t10000\ttorchlight\t{metric}\t{value}\n"
                ));
            }
        }
        let sets = [set("run-1", &text)];
        let document = update(
            "<!-- bench:machine:begin --><!-- bench:machine:end -->\n\
             <!-- bench:case14_push:begin --><!-- bench:case14_push:end -->",
            &Merged::new(&sets),
        )
        .unwrap();
        let row =
            "| 10000 | 1.20 ms | 200 µs | 480 µs | 6.00× | 2.50× | 51000 B | 25500 B | 2.00× |";
        assert!(document.contains(row), "{document}");
        assert!(
            document.contains("![milliseconds to encode a remote-write push against a text scrape](bench/charts/case14_push.svg)"),
            "{document}"
        );
    }

    #[test]
    fn charts_are_drawn_from_the_same_results_and_linked_from_their_case() {
        let mut text = String::new();
        for (library, series, ns) in [
            ("torchlight", 100, 4_000.0),
            ("torchlight", 100_000, 4_000_000.0),
            ("measured", 100, 6_000.0),
            ("measured", 100_000, 7_000_000.0),
        ] {
            text.push_str(&format!(
                "torchlight-bench\tcase6_encode\ttext\t{series}\t{library}\t{MEDIAN_NS}\t{ns}\n"
            ));
        }
        text.push_str(&line("t=1", "torchlight", MEDIAN_NS, 1.5));
        text.push_str(&line("t=2", "torchlight", MEDIAN_NS, 1.7));
        let sets = [set("run-1", &text)];
        let merged = Merged::new(&sets);
        let drawn = charts::all(&merged);
        let files: Vec<&str> = drawn.iter().map(|chart| chart.file.as_str()).collect();
        // No results, no chart (case 7, 13, 14, 15 here).
        assert_eq!(files, ["case1_counter.svg", "case6_encode.svg"]);
        let encode = drawn[1].svg().unwrap();
        // Milliseconds on a log axis: 0.004 … 7, both libraries named in the legend.
        for text in ["torchlight", "measured", "milliseconds per scrape"] {
            assert!(encode.contains(text), "{text}: {encode}");
        }
        let counter = drawn[0].svg().unwrap();
        assert!(
            counter.contains("1 thread") && counter.contains("1.7"),
            "{counter}"
        );
        let document = update(
            "<!-- bench:machine:begin --><!-- bench:machine:end -->\n\
             <!-- bench:case1_counter:begin --><!-- bench:case1_counter:end -->\n\
             <!-- bench:case6_encode:begin --><!-- bench:case6_encode:end -->",
            &merged,
        )
        .unwrap();
        assert!(
            document.contains("](bench/charts/case6_encode.svg)\n\n_Run set: `run-1`"),
            "{document}"
        );
    }

    #[test]
    fn encode_tables_put_every_variant_of_a_size_in_one_table() {
        let mut text = String::new();
        for (variant, library, ns) in [
            ("text", "torchlight", 400.0),
            ("text_family", "torchlight", 900.0),
            ("text", "measured", 300.0),
        ] {
            for (metric, value) in [(MEDIAN_NS, ns), ("exposition_bytes", 3000.0)] {
                text.push_str(&format!(
                    "torchlight-bench\tcase6_encode\t{variant}\t100\t{library}\t{metric}\t{value}\n"
                ));
            }
        }
        let sets = [set("run-1", &text)];
        let document = update(
            "<!-- bench:machine:begin --><!-- bench:machine:end -->\n\
             <!-- bench:case6_encode:begin --><!-- bench:case6_encode:end -->",
            &Merged::new(&sets),
        )
        .unwrap();
        assert_eq!(
            document.matches("**text**, 100 series").count(),
            1,
            "{document}"
        );
        let plain = "| torchlight | 400 ns | 3000 B | 7500 | 1.33× | — | — |";
        let family = "| torchlight, family | 900 ns | 3000 B | 3333 | 3.00× |";
        for row in [plain, family, "| measured | 300 ns |"] {
            assert!(document.contains(row), "{row}\n{document}");
        }
        assert!(document.find(plain).unwrap() < document.find(family).unwrap());
    }

    #[test]
    fn formatting() {
        assert_eq!(duration(1.234), "1.23 ns");
        assert_eq!(duration(12_600_000.0), "12.6 ms");
        assert_eq!(duration(4441.0), "4.44 µs");
        assert_eq!(ratio(3.0, Some(2.0)), "1.50×");
        assert_eq!(ratio(3.0, None), "—");
        assert_eq!(count(Some(0.0201)), "0.02");
        assert_eq!(count(Some(13.0013)), "13");
        assert_eq!(count(Some(1100.2)), "1100.2");
        assert_eq!(
            ordered_parameters(["t=16", "t=1", "-"]),
            ["-", "t=1", "t=16"]
        );
        assert_eq!(
            ordered_parameters(["100000", "1000", "100"]),
            ["100", "1000", "100000"]
        );
    }
}
