//! Case 6: a registry of N series, encoded to the Prometheus text format 0.0.4.
//!
//! Each library holds one counter family, `counters_total`, help `help text`, with one
//! label `kind` whose values are [`series_labels`] (`"0"` … `"N-1"`), and every series
//! incremented once, so every exposition carries N samples of value 1 (the shape of
//! `measured`'s encoding benchmark). Each library encodes with its own text 0.0.4
//! encoder into a buffer that is kept between scrapes where its API allows it.
//!
//! torchlight has three rows: labels known at compile time ([`torchlight::Labelled`]
//! over a [`LabelSet`] of N values, [`Torchlight`]), the same encoded as OpenMetrics
//! ([`TorchlightOpenMetrics`]), and labels known at run time, as every peer's are
//! ([`Family`], [`TorchlightFamily`]), and the compile-time registry in the protobuf
//! format ([`TorchlightProtobuf`]). Each encodes bytes with `Registry::encode_to`
//! into a `Vec<u8>` kept between scrapes.

use core::fmt;
use std::io;
use std::sync::Once;

use prometheus_client::encoding::EncodeLabelSet;
use torchlight::{
    Counter, EncodeLabels, Family, Format, LabelEncoder, LabelSet, Labelled, Metric, Registry,
};

use crate::Library;
use crate::workload::series_labels;

/// The family's name in every library (torchlight and `prometheus-client` add the
/// `_total` suffix themselves).
pub const FAMILY: &str = "counters_total";
/// The family's help text in every library.
pub const HELP: &str = "help text";

/// A registry of N series that can be scraped repeatedly.
pub trait Scrape {
    /// A registry holding `series` counters, each incremented once.
    ///
    /// # Panics
    ///
    /// torchlight's compile-time label set only exists for the sizes in
    /// [`SERIES_COUNTS`](crate::workload::SERIES_COUNTS); others panic.
    fn new(series: usize) -> Self
    where
        Self: Sized;

    /// Encodes the whole registry and returns the exposition.
    fn scrape(&mut self) -> &[u8];
}

/// A registry of `series` counters in `library`, boxed.
///
/// # Panics
///
/// For [`Library::Floor`], which has no registry, and as [`Scrape::new`].
#[must_use]
pub fn build(library: Library, series: usize) -> Box<dyn Scrape> {
    match library {
        Library::Torchlight => Box::new(Torchlight::new(series)),
        Library::Prometheus => Box::new(Prometheus::new(series)),
        Library::PrometheusClient => Box::new(PrometheusClient::new(series)),
        Library::Metrics => Box::new(Metrics::new(series)),
        Library::Measured => Box::new(Measured::new(series)),
        Library::Floor => panic!("the floor has no registry to scrape"),
    }
}

// ---------------------------------------------------------------------------------------
// torchlight

/// The label set of a torchlight registry of `N` series: label `kind`, the `i`th value
/// of [`series_labels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesLabel<const N: usize>(usize);

impl<const N: usize> EncodeLabels for SeriesLabel<N> {
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
        labels.label("kind", &series_labels()[self.0])
    }
}

impl<const N: usize> LabelSet for SeriesLabel<N> {
    const NAMES: &'static [&'static str] = &["kind"];
    const CARDINALITY: usize = N;

    fn index(self) -> usize {
        self.0
    }

    fn from_index(index: usize) -> Self {
        assert!(index < N, "series {index} of a registry of {N}");
        Self(index)
    }
}

/// One `static` family and registry per size, registered and incremented once.
macro_rules! torchlight_registries {
    ($($n:literal => $metric:ident, $registry:ident, $once:ident;)+) => {
        $(
            static $metric: Metric<Labelled<SeriesLabel<$n>, Counter, $n>> =
                Metric::new(FAMILY, HELP, Labelled::new([const { Counter::new() }; $n]));
            static $registry: Registry = Registry::new();
            static $once: Once = Once::new();
        )+

        /// The registry of torchlight's case-6 row: a `Labelled` family of `series`
        /// compile-time series, each incremented once (built on first use).
        ///
        /// # Panics
        ///
        /// For a size not in [`SERIES_COUNTS`](crate::workload::SERIES_COUNTS).
        pub fn torchlight_registry(series: usize) -> &'static Registry {
            match series {
                $(
                    $n => {
                        $once.call_once(|| {
                            $registry
                                .register(&$metric)
                                .expect("the bench family is valid and registered once");
                            for (_, counter) in $metric.iter() {
                                counter.inc();
                            }
                        });
                        &$registry
                    }
                )+
                other => panic!("no torchlight registry of {other} series; see SERIES_COUNTS"),
            }
        }
    };
}

torchlight_registries! {
    100 => SERIES_100, REGISTRY_100, ONCE_100;
    1000 => SERIES_1K, REGISTRY_1K, ONCE_1K;
    10000 => SERIES_10K, REGISTRY_10K, ONCE_10K;
    100000 => SERIES_100K, REGISTRY_100K, ONCE_100K;
}

/// A torchlight registry encoded with `Registry::encode_to` into a `Vec<u8>` kept
/// between scrapes: the byte encoder, the way a user wanting speed calls it
/// (`Registry::encode` into a `String` is the slower convenience).
#[derive(Debug)]
struct Bytes {
    registry: &'static Registry,
    format: Format,
    buffer: Vec<u8>,
}

impl Bytes {
    fn new(registry: &'static Registry, format: Format) -> Self {
        Self {
            registry,
            format,
            buffer: Vec::new(),
        }
    }

    fn scrape(&mut self) -> &[u8] {
        self.buffer.clear();
        self.registry
            .encode_to(&mut self.buffer, self.format)
            .expect("a Vec never fills up");
        &self.buffer
    }
}

/// torchlight with compile-time labels, text 0.0.4.
#[derive(Debug)]
pub struct Torchlight(Bytes);

impl Scrape for Torchlight {
    fn new(series: usize) -> Self {
        Self(Bytes::new(torchlight_registry(series), Format::Text))
    }

    fn scrape(&mut self) -> &[u8] {
        self.0.scrape()
    }
}

/// torchlight's compile-time registry as one Prometheus remote-write push (case 13): the
/// `WriteRequest` encoded into a kept buffer and compressed with snappy into another,
/// what the pusher does per push (`RemoteWritePush::encode`), without the HTTP exchange.
#[derive(Debug)]
pub struct TorchlightRemoteWrite {
    registry: &'static Registry,
    proto: Vec<u8>,
    body: Vec<u8>,
}

impl Scrape for TorchlightRemoteWrite {
    fn new(series: usize) -> Self {
        Self {
            registry: torchlight_registry(series),
            proto: Vec::new(),
            body: Vec::new(),
        }
    }

    fn scrape(&mut self) -> &[u8] {
        // 2023-11-14T22:13:20Z: the time changes nothing but eight bytes per sample.
        let request = torchlight::RemoteWrite::new(1_700_000_000_000);
        self.proto.clear();
        self.registry
            .encode_write_request(&mut self.proto, &request)
            .expect("a Vec never fills up");
        self.body.clear();
        torchlight::snappy_compress(&self.proto, &mut self.body).expect("a Vec never fills up");
        &self.body
    }
}

/// torchlight's text exposition gzip'd as the server sends it (`Compression::fast()`,
/// `server/src/exposure/encode.rs`): the scrape's bytes on the wire, against which case
/// 13 compares a push's.
#[derive(Debug)]
pub struct TorchlightTextGzip {
    text: Bytes,
    body: Vec<u8>,
}

impl Scrape for TorchlightTextGzip {
    fn new(series: usize) -> Self {
        Self {
            text: Bytes::new(torchlight_registry(series), Format::Text),
            body: Vec::new(),
        }
    }

    fn scrape(&mut self) -> &[u8] {
        use std::io::Write as _;
        let text = self.text.scrape();
        self.body.clear();
        let mut encoder =
            flate2::write::GzEncoder::new(&mut self.body, flate2::Compression::fast());
        encoder.write_all(text).expect("a Vec never fails");
        encoder.finish().expect("a Vec never fails");
        &self.body
    }
}

/// torchlight's compile-time registry encoded as OpenMetrics 1.0: the same series, for
/// the OpenMetrics-to-text time ratio (its bytes differ: `1.0` values, `# EOF`).
#[derive(Debug)]
pub struct TorchlightOpenMetrics(Bytes);

impl Scrape for TorchlightOpenMetrics {
    fn new(series: usize) -> Self {
        Self(Bytes::new(torchlight_registry(series), Format::OpenMetrics))
    }

    fn scrape(&mut self) -> &[u8] {
        self.0.scrape()
    }
}

/// torchlight's compile-time registry in the protobuf format (length-delimited
/// `MetricFamily`, what Prometheus asks for with native histograms enabled): the same
/// series, for the protobuf-to-text time ratio.
#[derive(Debug)]
pub struct TorchlightProtobuf(Bytes);

impl Scrape for TorchlightProtobuf {
    fn new(series: usize) -> Self {
        Self(Bytes::new(torchlight_registry(series), Format::Protobuf))
    }

    fn scrape(&mut self) -> &[u8] {
        self.0.scrape()
    }
}

/// A registry holding one torchlight `Family<Counter, 1>` with `series` children, each
/// incremented once (leaked: the server needs a `&'static Registry`).
///
/// # Panics
///
/// Never for the bench's family (its names are valid and it is registered once).
#[must_use]
pub fn torchlight_family_registry(series: usize) -> &'static Registry {
    let family = Family::new(["kind"], Counter::new).with_limit(series);
    let metric: &'static Metric<Family<Counter, 1>> =
        Box::leak(Box::new(Metric::new(FAMILY, HELP, family)));
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    registry
        .register(metric)
        .expect("the bench family is registered once");
    for label in &series_labels()[..series] {
        metric.get_or_create([label.as_str()]).inc();
    }
    registry
}

/// torchlight with labels known at run time, as every peer's are: a [`Family`] of
/// `Counter`s, text 0.0.4. (The family caches its children's sorted order between
/// scrapes, so an unchanged family is neither sorted nor copied.)
#[derive(Debug)]
pub struct TorchlightFamily(Bytes);

impl Scrape for TorchlightFamily {
    fn new(series: usize) -> Self {
        Self(Bytes::new(torchlight_family_registry(series), Format::Text))
    }

    fn scrape(&mut self) -> &[u8] {
        self.0.scrape()
    }
}

// ---------------------------------------------------------------------------------------
// prometheus

/// `prometheus`: an `IntCounterVec`, `Registry::gather` and `TextEncoder::encode_utf8`
/// into a `String` kept between scrapes.
#[derive(Debug)]
pub struct Prometheus {
    registry: prometheus::Registry,
    buffer: String,
}

impl Scrape for Prometheus {
    fn new(series: usize) -> Self {
        let registry = prometheus::Registry::new();
        let family = prometheus::IntCounterVec::new(prometheus::Opts::new(FAMILY, HELP), &["kind"])
            .expect("the bench family is valid");
        registry
            .register(Box::new(family.clone()))
            .expect("registered once");
        for label in &series_labels()[..series] {
            family.with_label_values(&[label.as_str()]).inc();
        }
        Self {
            registry,
            buffer: String::new(),
        }
    }

    fn scrape(&mut self) -> &[u8] {
        self.buffer.clear();
        prometheus::TextEncoder::new()
            .encode_utf8(&self.registry.gather(), &mut self.buffer)
            .expect("writing to a String cannot fail");
        self.buffer.as_bytes()
    }
}

// ---------------------------------------------------------------------------------------
// prometheus-client

/// `prometheus-client`'s label set for the encoding case.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    kind: String,
}

/// `prometheus-client`: a `Family<KindLabel, Counter>` and the text 0.0.4 encoder
/// (`encoding::prometheus_text::encode`, new in 0.26) into a `String` kept between
/// scrapes.
#[derive(Debug)]
pub struct PrometheusClient {
    registry: prometheus_client::registry::Registry,
    buffer: String,
}

impl Scrape for PrometheusClient {
    fn new(series: usize) -> Self {
        use prometheus_client::metrics::counter::Counter;
        use prometheus_client::metrics::family::Family;

        let mut registry = prometheus_client::registry::Registry::default();
        let family = Family::<KindLabel, Counter>::default();
        // prometheus-client adds `_total` to counters itself (and debug-panics on a
        // name that already has it).
        registry.register("counters", HELP, family.clone());
        for label in &series_labels()[..series] {
            family
                .get_or_create(&KindLabel {
                    kind: label.clone(),
                })
                .inc();
        }
        Self {
            registry,
            buffer: String::new(),
        }
    }

    fn scrape(&mut self) -> &[u8] {
        self.buffer.clear();
        prometheus_client::encoding::prometheus_text::encode(&mut self.buffer, &self.registry)
            .expect("writing to a String cannot fail");
        self.buffer.as_bytes()
    }
}

// ---------------------------------------------------------------------------------------
// metrics + metrics-exporter-prometheus

/// `metrics` with a `PrometheusRecorder`: counters registered through the `counter!`
/// macro, `PrometheusHandle::render_to_write` into a `Vec` kept between scrapes (the
/// allocation-saving form of `render`).
pub struct Metrics {
    // Kept alive: the handle reads the recorder's registry.
    _recorder: metrics_exporter_prometheus::PrometheusRecorder,
    handle: metrics_exporter_prometheus::PrometheusHandle,
    buffer: Vec<u8>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Scrape for Metrics {
    fn new(series: usize) -> Self {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!(FAMILY, HELP);
            for label in &series_labels()[..series] {
                metrics::counter!(FAMILY, "kind" => label.clone()).increment(1);
            }
        });
        Self {
            _recorder: recorder,
            handle,
            buffer: Vec::new(),
        }
    }

    fn scrape(&mut self) -> &[u8] {
        self.buffer.clear();
        let written: io::Result<()> = self.handle.render_to_write(&mut self.buffer);
        written.expect("writing to a Vec cannot fail");
        &self.buffer
    }
}

// ---------------------------------------------------------------------------------------
// measured

/// `measured`'s label group for the encoding case: one dynamic label, interned with
/// `paracord` (as in `measured`'s own encoding benchmark).
#[derive(Clone, Copy, PartialEq, Debug, measured::LabelGroup)]
#[label(set = KindSet)]
struct KindGroup<'a> {
    #[label(dynamic_with = paracord::ParaCord)]
    kind: &'a str,
}

/// `measured`'s metric group: the one family.
#[derive(measured::MetricGroup)]
struct MeasuredGroup {
    /// help text
    counters_total: measured::CounterVec<KindSet>,
}

/// `measured`: a `CounterVec` in a `MetricGroup`, collected into a
/// `BufferedTextEncoder` kept between scrapes.
pub struct Measured {
    group: MeasuredGroup,
    encoder: measured::text::BufferedTextEncoder,
    output: bytes::Bytes,
}

impl fmt::Debug for Measured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Measured").finish_non_exhaustive()
    }
}

impl Scrape for Measured {
    fn new(series: usize) -> Self {
        let group = MeasuredGroup {
            counters_total: measured::CounterVec::with_label_set(KindSet {
                kind: paracord::ParaCord::default(),
            }),
        };
        for label in &series_labels()[..series] {
            group.counters_total.inc(KindGroup { kind: label });
        }
        Self {
            group,
            encoder: measured::text::BufferedTextEncoder::new(),
            output: bytes::Bytes::new(),
        }
    }

    fn scrape(&mut self) -> &[u8] {
        use measured::MetricGroup as _;
        // Dropping the previous output first lets the encoder reuse its buffer.
        self.output = bytes::Bytes::new();
        let Ok(()) = self.group.collect_group_into(&mut self.encoder);
        self.output = self.encoder.finish();
        &self.output
    }
}

#[cfg(test)]
mod tests {
    use super::{Scrape, TorchlightFamily, TorchlightOpenMetrics, build};
    use crate::Library;

    /// The sample lines of an exposition (everything but comments).
    fn samples(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    }

    #[test]
    fn every_library_exposes_the_same_series_with_the_same_values() {
        for series in [100, 1_000] {
            let mut expected: Vec<String> = (0..series)
                .map(|i| format!("counters_total{{kind=\"{i}\"}} 1"))
                .collect();
            expected.sort();
            let registries = Library::ALL
                .into_iter()
                .map(|library| (library.name(), build(library, series)))
                .chain([(
                    "torchlight (family)",
                    Box::new(TorchlightFamily::new(series)) as Box<dyn Scrape>,
                )]);
            for (library, mut registry) in registries {
                let bytes = registry.scrape().to_vec();
                let text = String::from_utf8(bytes).expect("expositions are UTF-8");
                let mut got = samples(&text);
                got.sort_unstable();
                assert_eq!(got, expected, "{library} with {series} series");
                let types = text.lines().filter(|l| l.starts_with("# TYPE")).count();
                assert_eq!(types, 1, "{library}: one family");
            }
            // OpenMetrics: the same series, its own spelling of the values.
            let mut open_metrics = TorchlightOpenMetrics::new(series);
            let text = String::from_utf8(open_metrics.scrape().to_vec()).expect("UTF-8");
            let mut got: Vec<String> = samples(&text)
                .into_iter()
                .map(|line| line.replace("} 1.0", "} 1"))
                .collect();
            got.sort_unstable();
            assert_eq!(got, expected, "torchlight OpenMetrics with {series} series");
            assert!(text.ends_with("# EOF\n"));
        }
    }

    #[test]
    fn scraping_twice_gives_the_same_exposition() {
        // `metrics` renders in hash-map order, so compare the sets of lines.
        for library in Library::ALL {
            let mut registry = build(library, 100);
            let lines = |bytes: &[u8]| {
                let mut lines: Vec<String> = String::from_utf8_lossy(bytes)
                    .lines()
                    .map(str::to_owned)
                    .collect();
                lines.sort();
                lines
            };
            let first = lines(registry.scrape());
            let second = lines(registry.scrape());
            assert!(first == second, "{library}: the second scrape differs");
        }
    }
}
