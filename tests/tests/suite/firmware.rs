//! The golden expositions of the firmware harness (`core/firmware/golden/`, compared
//! byte for byte with what the core encodes on the emulated microcontrollers) are what
//! the reference parsers accept, with the values the harness sets: so a wrong golden
//! byte cannot hide a wrong encoder. The remote-write golden (the body the harness
//! builds without an allocator) is decompressed with `snap` and decoded with the
//! `prost` mirror of `prompb`, independently of the core.

#![forbid(unsafe_code)]

use std::path::Path;

use torchlight_tests::prompb::decode_body;
use torchlight_tests::{Family, openmetrics_parse, promtool_check, text_parse};

fn golden(name: &str) -> String {
    String::from_utf8(golden_bytes(name)).expect("a UTF-8 golden exposition")
}

fn golden_bytes(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/firmware/golden")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// `(family, type, sample name, labels, value)` of every sample, in order.
fn samples(families: &[Family]) -> Vec<(String, String, String, String, f64)> {
    families
        .iter()
        .flat_map(|family| {
            family.samples.iter().map(|sample| {
                let labels: Vec<String> = sample
                    .labels
                    .iter()
                    .filter(|(name, _)| name.as_str() != "le")
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect();
                (
                    family.name.clone(),
                    family.type_.clone(),
                    sample.name.clone(),
                    labels.join(","),
                    sample.value,
                )
            })
        })
        .collect()
}

/// What `core/firmware/src/bin/harness.rs` puts in its golden registry.
fn expected() -> Vec<(String, String, String, String, f64)> {
    let row = |family: &str, type_: &str, sample: &str, labels: &str, value: f64| {
        (
            family.to_owned(),
            type_.to_owned(),
            sample.to_owned(),
            labels.to_owned(),
            value,
        )
    };
    vec![
        row("requests", "counter", "requests_total", "", 4_294_967_301.0),
        row(
            "temperature_celsius",
            "gauge",
            "temperature_celsius",
            "",
            -3.5,
        ),
        row("queue_depth", "gauge", "queue_depth", "", -2.0),
        row(
            "latency_seconds",
            "histogram",
            "latency_seconds_bucket",
            "",
            1.0,
        ),
        row(
            "latency_seconds",
            "histogram",
            "latency_seconds_bucket",
            "",
            2.0,
        ),
        row(
            "latency_seconds",
            "histogram",
            "latency_seconds_bucket",
            "",
            3.0,
        ),
        row(
            "latency_seconds",
            "histogram",
            "latency_seconds_bucket",
            "",
            4.0,
        ),
        row(
            "latency_seconds",
            "histogram",
            "latency_seconds_sum",
            "",
            20.5625,
        ),
        row(
            "latency_seconds",
            "histogram",
            "latency_seconds_count",
            "",
            4.0,
        ),
        row(
            "packets",
            "counter",
            "packets_total",
            "direction=rx,link=uart",
            0.0,
        ),
        row(
            "packets",
            "counter",
            "packets_total",
            "direction=tx,link=uart",
            0.0,
        ),
        row(
            "packets",
            "counter",
            "packets_total",
            "direction=rx,link=usb",
            0.0,
        ),
        row(
            "packets",
            "counter",
            "packets_total",
            "direction=tx,link=usb",
            7.0,
        ),
    ]
}

#[test]
fn the_text_golden_passes_promtool_and_holds_the_harness_values() {
    let text = golden("text-0.0.4.txt");
    promtool_check(&text).unwrap();
    let families = text_parse(&text).unwrap();
    assert_eq!(samples(&families), expected());
}

#[test]
fn the_openmetrics_golden_passes_the_strict_parser_and_holds_the_harness_values() {
    let text = golden("openmetrics-1.0.txt");
    let families = openmetrics_parse(&text).unwrap();
    assert_eq!(samples(&families), expected());
    let units: Vec<(&str, &str)> = families
        .iter()
        .map(|family| (family.name.as_str(), family.unit.as_str()))
        .filter(|(_, unit)| !unit.is_empty())
        .collect();
    assert_eq!(
        units,
        [
            ("temperature_celsius", "celsius"),
            ("latency_seconds", "seconds")
        ]
    );
}

/// `harness.rs`' `PUSH_TIME_MS`.
const PUSH_TIME_MS: i64 = 1_700_000_000_000;

#[test]
fn the_remote_write_golden_decodes_to_the_harness_values() {
    let request = decode_body(&golden_bytes("remote-write.bin"));
    let mut rows = Vec::new();
    for series in &request.timeseries {
        let pairs = series.pairs();
        let mut sorted = pairs.clone();
        sorted.sort_unstable();
        assert_eq!(pairs, sorted, "labels sorted by name, __name__ among them");
        assert!(
            pairs.contains(&("device", "qemu")),
            "the external label on every series: {pairs:?}"
        );
        assert_eq!(series.samples.len(), 1, "{pairs:?}");
        assert_eq!(series.samples[0].timestamp, PUSH_TIME_MS, "{pairs:?}");
        let name = pairs
            .iter()
            .find(|(name, _)| *name == "__name__")
            .map(|(_, value)| (*value).to_owned())
            .expect("a __name__");
        let labels: Vec<String> = pairs
            .iter()
            .filter(|(name, _)| !["__name__", "le", "device"].contains(name))
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        rows.push((name, labels.join(","), series.samples[0].value));
    }
    let mut want: Vec<(String, String, f64)> = expected()
        .into_iter()
        .map(|(_, _, sample, labels, value)| (sample, labels, value))
        .collect();
    // Labels sorted by name put a series' labels in another order than the exposition.
    let order = |rows: &mut Vec<(String, String, f64)>| {
        rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)).then(a.2.total_cmp(&b.2)));
    };
    order(&mut rows);
    order(&mut want);
    assert_eq!(rows, want);
    let le: Vec<&str> = request
        .timeseries
        .iter()
        .flat_map(|series| series.labels.iter())
        .filter(|label| label.name == "le")
        .map(|label| label.value.as_str())
        .collect();
    assert_eq!(le, ["0.125", "1.0", "8.0", "+Inf"]);
    // prompb's MetricType: COUNTER 1, GAUGE 2, HISTOGRAM 3.
    let metadata: Vec<(&str, i32, &str, &str)> = request
        .metadata
        .iter()
        .map(|m| {
            (
                m.metric_family_name.as_str(),
                m.r#type,
                m.help.as_str(),
                m.unit.as_str(),
            )
        })
        .collect();
    assert_eq!(
        metadata,
        [
            ("requests", 1, "Requests handled.", ""),
            ("temperature_celsius", 2, "Die temperature.", "celsius"),
            ("queue_depth", 2, "Frames waiting.", ""),
            ("latency_seconds", 3, "Time to answer.", "seconds"),
            ("packets", 1, "Packets by \"direction\" and link.", ""),
        ]
    );
}
