//! Native histograms end to end, past what `prometheus.rs`' workload covers: a real
//! Prometheus with `--enable-feature=native-histograms` (and `exemplar-storage`)
//! scrapes one tokio server over protobuf and
//!
//! - stores the exemplars of `ExemplarNativeHistogram`s on their native series, read
//!   back through `/api/v1/query_exemplars`;
//! - answers `histogram_quantile(0.5 / 0.9 / 0.99, …)` over a histogram whose range
//!   (1 µs to 100 s at factor 1.1: 213 buckets at schema 3) made it drop to schema 2,
//!   each within one bucket's width of the exact quantile of the observed values.
//!
//! Prometheus 2.42 (Debian's, the one the tests run) reads a native histogram's
//! exemplars from its classic buckets, one per scrape: the first bucket that has one,
//! `+Inf` for a native-only histogram (client_golang writes the latest exemplar
//! there too). `Histogram.exemplars`, which 2.51 and later read, is checked by
//! decoding in `core/tests/api/native.rs`.
//!
//! Prometheus (declared last, so dropped first) is stopped by its PID, the server by
//! its handle, also when an assertion fails.
#![forbid(unsafe_code)]

use std::time::Duration;

use serde_json::Value;
use torchlight::{Buckets, ExemplarNativeHistogram, Metric, NativeHistogram, Registry};
use torchlight_tests::adapter::{Adapter, Config, Server, Tokio};
use torchlight_tests::prometheus::{Job, Prometheus};

/// How long Prometheus may take to scrape the target (first scrape ≈ 5 s).
const SCRAPED: Duration = Duration::from_secs(30);
/// How long the samples may take to show once the target is up.
const STORED: Duration = Duration::from_secs(15);

/// A fresh registry that lives as long as the test process (servers need `'static`).
fn registry() -> &'static Registry {
    Box::leak(Box::new(Registry::new()))
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// Starts tokio's server on `registry` and a Prometheus with `flags` scraping it.
fn serve(registry: &'static Registry, flags: &[&str]) -> (Box<dyn Server>, Prometheus) {
    let server = Tokio::start_in_thread(Config::loopback(registry))
        .unwrap_or_else(|error| panic!("tokio: {error}"));
    let job = Job::static_targets(Tokio::NAME, [server.local_addr()]);
    let prometheus = Prometheus::start(&[job], flags);
    prometheus.wait_up(Tokio::NAME, 1, SCRAPED);
    (server, prometheus)
}

/// `(series, trace_id, value)` of every exemplar Prometheus holds for `series`.
fn stored_exemplars(prometheus: &Prometheus, series: &str) -> Vec<(String, String, f64)> {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let mut found = Vec::new();
    for entry in prometheus.query_exemplars(series) {
        let name = text(&entry["seriesLabels"]["__name__"]);
        for exemplar in entry["exemplars"].as_array().into_iter().flatten() {
            found.push((
                name.clone(),
                text(&exemplar["labels"]["trace_id"]),
                text(&exemplar["value"]).parse().unwrap_or(f64::NAN),
            ));
        }
    }
    found.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    found
}

#[test]
fn prometheus_stores_the_exemplars_of_native_histograms() {
    static BOUNDS: Buckets<2> = Buckets::new([0.1, 1.0]);
    let registry = registry();
    let native = leak(Metric::new(
        "e2e_nex_seconds",
        "A native histogram with exemplars.",
        ExemplarNativeHistogram::<160>::new(1.1),
    ));
    let both = leak(Metric::new(
        "e2e_nex_classic_seconds",
        "A native histogram with classic buckets and exemplars.",
        ExemplarNativeHistogram::<160, 2>::with_buckets(1.1, &BOUNDS),
    ));
    registry.register(native).expect("a fresh registry");
    registry.register(both).expect("a fresh registry");
    native.observe(0.02);
    native
        .observe_with_exemplar(0.3, &[("trace_id", "0af7651916cd43dd8448eb211c80319c")])
        .expect("a valid exemplar");
    // The latest: the `+Inf` bucket's, the only classic one.
    native
        .observe_with_exemplar(0.05, &[("trace_id", "b7ad6b7169203331b7ad6b7169203331")])
        .expect("a valid exemplar");
    both.observe(0.5);
    // The first classic bucket with an exemplar: `le="0.1"`.
    both.observe_with_exemplar(0.07, &[("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")])
        .expect("a valid exemplar");
    both.observe_with_exemplar(7.0, &[("trace_id", "00f067aa0ba902b700f067aa0ba902b7")])
        .expect("a valid exemplar");
    assert_eq!(native.exemplars().count(), 2, "both kept natively");

    let (_server, prometheus) = serve(
        registry,
        &["--enable-feature=exemplar-storage,native-histograms"],
    );
    let expected = vec![
        (
            "e2e_nex_classic_seconds".to_owned(),
            "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
            0.07,
        ),
        (
            "e2e_nex_seconds".to_owned(),
            "b7ad6b7169203331b7ad6b7169203331".to_owned(),
            0.05,
        ),
    ];
    let all = || {
        let mut all = stored_exemplars(&prometheus, "e2e_nex_seconds");
        all.extend(stored_exemplars(&prometheus, "e2e_nex_classic_seconds"));
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    };
    if prometheus
        .poll(STORED, || (all() == expected).then_some(()))
        .is_none()
    {
        panic!(
            "Prometheus stored other exemplars:\n{:#?}\nexpected:\n{expected:#?}\nlog:\n{}",
            all(),
            prometheus.log()
        );
    }
    // Stored as native histograms: one series each, with the counts.
    let count = |name: &str| {
        prometheus
            .query(&format!("histogram_count({name})"))
            .first()
            .and_then(|sample| sample["value"][1].as_str()?.parse::<f64>().ok())
    };
    assert_eq!(count("e2e_nex_seconds"), Some(3.0));
    assert_eq!(count("e2e_nex_classic_seconds"), Some(3.0));
}

/// `count` values spread evenly in log scale over `[low, high]`.
fn spread(low: f64, high: f64, count: usize) -> Vec<f64> {
    (0..count)
        .map(|i| low * (high / low).powf((i as f64 + 0.37) / count as f64))
        .collect()
}

#[test]
fn quantiles_of_a_reduced_native_histogram_are_within_a_bucket_of_the_exact_ones() {
    let registry = registry();
    let wide = leak(Metric::new(
        "e2e_wide_seconds",
        "A native histogram whose range outgrew its bound.",
        NativeHistogram::<160>::new(1.1),
    ));
    registry.register(wide).expect("a fresh registry");
    let mut values = spread(1e-6, 100.0, 5000);
    for value in &values {
        wide.observe(*value);
    }
    let snapshot = wide.snapshot();
    assert_eq!((wide.schema(), snapshot.schema()), (3, 2), "one reduction");
    // Bucket bounds at schema 2 differ by 2^(1/4).
    let width = 2f64.powf(0.25) - 1.0;
    values.sort_by(f64::total_cmp);

    let (_server, prometheus) = serve(registry, &["--enable-feature=native-histograms"]);
    let scalar = |query: &str| -> Option<f64> {
        let result = prometheus.query(query);
        result.first()?["value"][1].as_str()?.parse().ok()
    };
    assert!(
        prometheus
            .poll(STORED, || (scalar("histogram_count(e2e_wide_seconds)")
                == Some(5000.0))
            .then_some(()))
            .is_some(),
        "Prometheus did not store the histogram: {:?}\nlog:\n{}",
        scalar("histogram_count(e2e_wide_seconds)"),
        prometheus.log()
    );
    for q in [0.5, 0.9, 0.99] {
        // The observation of rank q·n (1-based): Prometheus interpolates inside the
        // bucket holding it, so estimate and exact value share a bucket.
        let rank = (q * values.len() as f64).ceil() as usize;
        let exact = values[rank - 1];
        let estimate = scalar(&format!("histogram_quantile({q}, e2e_wide_seconds)"))
            .unwrap_or_else(|| panic!("no estimate for {q}"));
        eprintln!("quantile {q}: estimate {estimate}, exact {exact}");
        assert!(
            (estimate - exact).abs() <= exact * width,
            "quantile {q}: Prometheus estimates {estimate}, the values give {exact} \
             (allowed: one schema-2 bucket, {:.1} %)",
            width * 100.0
        );
    }
}
