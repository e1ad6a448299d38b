//! Case 9: the `metrics` facade, recorded into torchlight's recorder
//! (`torchlight-metrics`) and into `metrics-exporter-prometheus`'s.
//!
//! Both recorders get the same options: the shared [`BUCKETS`], and on the exporter
//! `with_recommended_naming(true)` (counters end in `_total`, as torchlight always
//! writes them). [`record`] is the one workload both are fed; the unit test below
//! checks that both expose the same series with the same values, and the `facade`
//! bench program times `counter!(…).increment(1)`, `histogram!(…).record(v)` and a
//! scrape of each.

use std::fmt;

use metrics::Recorder;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use torchlight::{Format, Registry};
use torchlight_metrics::{Builder, TorchlightRecorder};

use crate::workload::{BUCKETS, KINDS, ROUTES, observations, series_labels};

/// One of the two recorders, with what scrapes it.
pub trait Facade {
    /// A recorder with the shared options and nothing recorded yet.
    fn new() -> Self
    where
        Self: Sized;

    /// The recorder the macros record into (through `metrics::with_local_recorder`).
    fn recorder(&self) -> &dyn Recorder;

    /// Renders everything recorded so far as text format 0.0.4.
    fn scrape(&mut self) -> &str;
}

/// torchlight's recorder, on a registry of its own; scraped into a kept buffer.
pub struct Torchlight {
    recorder: TorchlightRecorder,
    registry: &'static Registry,
    buffer: String,
}

impl fmt::Debug for Torchlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Torchlight").finish_non_exhaustive()
    }
}

impl Facade for Torchlight {
    fn new() -> Self {
        // One registry per recorder (a benchmark or test builds a few): leaked, as the
        // recorder needs a `'static` registry.
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        let recorder = Builder::new(registry)
            .with_buckets(&BUCKETS)
            .build()
            .expect("the shared buckets are valid");
        Self {
            recorder,
            registry,
            buffer: String::new(),
        }
    }

    fn recorder(&self) -> &dyn Recorder {
        &self.recorder
    }

    fn scrape(&mut self) -> &str {
        self.buffer.clear();
        self.registry
            .encode(&mut self.buffer, Format::Text)
            .expect("writing to a String cannot fail");
        &self.buffer
    }
}

/// `metrics-exporter-prometheus`'s recorder; scraped with `render_to_write` into a
/// kept buffer (its allocation-saving form of `render`).
pub struct Exporter {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    buffer: Vec<u8>,
    text: String,
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter").finish_non_exhaustive()
    }
}

impl Facade for Exporter {
    fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the shared buckets are valid")
            .with_recommended_naming(true)
            .build_recorder();
        let handle = recorder.handle();
        Self {
            recorder,
            handle,
            buffer: Vec::new(),
            text: String::new(),
        }
    }

    fn recorder(&self) -> &dyn Recorder {
        &self.recorder
    }

    fn scrape(&mut self) -> &str {
        self.buffer.clear();
        self.handle
            .render_to_write(&mut self.buffer)
            .expect("writing to a Vec cannot fail");
        // The exporter writes UTF-8; the copy keeps the trait's `&str` honest.
        self.text.clear();
        self.text
            .push_str(std::str::from_utf8(&self.buffer).expect("UTF-8"));
        &self.text
    }
}

/// The workload both recorders get, through the macros only: described counters with
/// labels (values with quotes, newlines, non-ASCII), a gauge set, raised and lowered,
/// a labelled histogram over every bucket, and `series` counters in one family (the
/// scrape case, shaped as case 6).
pub fn record(recorder: &dyn Recorder, series: usize) {
    metrics::with_local_recorder(recorder, || {
        metrics::describe_counter!("requests", "Requests served.");
        metrics::describe_gauge!("queue_depth", "Items waiting.");
        metrics::describe_histogram!("latency_seconds", metrics::Unit::Seconds, "Latency.");
        for (i, kind) in KINDS.iter().enumerate() {
            for route in ROUTES {
                metrics::counter!("requests", "kind" => *kind, "route" => route)
                    .increment(i as u64 + 1);
            }
        }
        // Label values the exposition must escape; no backslash: the exporter writes
        // a `\\` pair unescaped (see `torchlight_metrics::names`).
        metrics::counter!("requests", "kind" => "say \"hi\"\n", "route" => "/ünï").increment(7);
        metrics::gauge!("queue_depth", "queue" => "mail").set(12.0);
        metrics::gauge!("queue_depth", "queue" => "mail").increment(0.5);
        metrics::gauge!("queue_depth", "queue" => "sms").decrement(3.25);
        for (i, value) in observations().iter().take(2_000).enumerate() {
            let route = ROUTES[i % 2];
            metrics::histogram!("latency_seconds", "route" => route).record(*value);
        }
        metrics::describe_counter!(crate::scrape::FAMILY, crate::scrape::HELP);
        for label in &series_labels()[..series] {
            metrics::counter!(crate::scrape::FAMILY, "kind" => label.clone()).increment(1);
        }
    });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// (sample name, labels as written) → value, from a text 0.0.4 exposition.
    fn samples(text: &str) -> BTreeMap<(String, Vec<(String, String)>), f64> {
        let mut samples = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (series, value) = line.rsplit_once(' ').expect("a value after the series");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, labels(rest.trim_end_matches('}'))),
                None => (series, Vec::new()),
            };
            let value: f64 = value.parse().expect("a number");
            let previous = samples.insert((name.to_owned(), labels), value);
            assert!(previous.is_none(), "a duplicated series: {line}");
        }
        samples
    }

    /// `a="x",b="y"` as pairs (values still escaped), `le` as a number, sorted.
    fn labels(text: &str) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut rest = text;
        while let Some((name, after)) = rest.split_once("=\"") {
            // The value ends at the first `"` not escaped by a backslash.
            let bytes = after.as_bytes();
            let mut end = 0;
            while bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let mut value = after[..end].to_owned();
            if name == "le" && value != "+Inf" {
                value = format!("{:?}", value.parse::<f64>().expect("a bound"));
            }
            pairs.push((name.to_owned(), value));
            rest = after[end + 1..].trim_start_matches(',');
        }
        pairs.sort();
        pairs
    }

    #[test]
    fn both_recorders_expose_the_same_series_with_the_same_values() {
        let mut torchlight = Torchlight::new();
        let mut exporter = Exporter::new();
        record(torchlight.recorder(), 100);
        record(exporter.recorder(), 100);
        let ours = samples(torchlight.scrape());
        let theirs = samples(exporter.scrape());
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>()
        );
        for (key, value) in &ours {
            let peer = theirs[key];
            // The histogram's sums: the same additions, possibly in another order.
            assert!(
                (value - peer).abs() <= 1e-9 * value.abs().max(1.0),
                "{key:?}: torchlight {value}, exporter {peer}"
            );
        }
        // 18 + 1 request series, 2 gauges, 2 × (14 + 3) histogram samples, 100 counters.
        assert_eq!(ours.len(), 19 + 2 + 2 * 17 + 100);
    }
}
