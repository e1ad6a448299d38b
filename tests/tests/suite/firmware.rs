//! The golden expositions of the firmware harness (`core/firmware/golden/`, compared
//! byte for byte with what the core encodes on the emulated microcontrollers) are what
//! the reference parsers accept, with the values the harness sets: so a wrong golden
//! byte cannot hide a wrong encoder.

#![forbid(unsafe_code)]

use std::path::Path;

use torchlight_tests::{Family, openmetrics_parse, promtool_check, text_parse};

fn golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/firmware/golden")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
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
