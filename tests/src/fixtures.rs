//! Expositions that exercise every metric type, label families and tricky label
//! values, in both formats: golden-tested in `tests/tests/suite/fixtures.rs` and meant to be
//! fed to the reference parsers (promtool for text 0.0.4, `prometheus_client`'s strict
//! OpenMetrics parser).

use std::sync::Arc;

use torchlight::{
    Buckets, Counter, Family, Format, Gauge, Histogram, Info, Metric, Registry, StateSet, Summary,
};

torchlight::label_value! {
    /// A job's state, for the state set fixture.
    pub enum JobState {
        /// Waiting to run.
        Queued = "queued",
        /// Running.
        Running = "running",
        /// Finished.
        Done = "done",
    }
}

/// Bucket bounds of the histogram family fixture.
static LATENCY_BUCKETS: Buckets<3> = Buckets::new([0.01, 0.1, 1.0]);

/// A registry holding one family of each new kind (summary, info, state set, label
/// families of counters, gauges and histograms, one of them overflowing), with fixed
/// values. Every call builds a fresh registry of `Arc`-owned metrics.
///
/// # Panics
///
/// Never with this fixed input (registration and label counts are valid).
#[must_use]
pub fn registry() -> Registry {
    let registry = Registry::new();

    let rpc = Arc::new(
        Metric::new("rpc_duration_seconds", "RPC latency.", Summary::new()).with_unit("seconds"),
    );
    for value in [0.25, 0.5, 2.0] {
        rpc.observe(value);
    }
    registry.register_owned(rpc).expect("valid fixture");

    let build = Arc::new(Metric::new(
        "build",
        "Build \"facts\" \\ with\nnewline.",
        Info::new([("version", "1.2.3"), ("commit", "a\"b\\c\nd")]),
    ));
    registry.register_owned(build).expect("valid fixture");

    let job = Arc::new(Metric::new(
        "job_state",
        "Job state.",
        StateSet::<JobState>::new(),
    ));
    job.set(JobState::Running);
    registry.register_owned(job).expect("valid fixture");

    let requests = Arc::new(Metric::new(
        "http_requests",
        "Requests served.",
        Family::new(["method", "path"], Counter::new).with_limit(4),
    ));
    for (method, path, n) in [
        ("GET", "/", 3),
        ("GET", "/a\"b\\c\nd", 1),
        ("POST", "/ünïcødé ✓", 2),
        ("GET", "", 1),
        // Beyond the limit of 4: both go to the overflow series.
        ("PUT", "/x", 5),
        ("DELETE", "/y", 1),
    ] {
        requests.get_or_create([method, path]).inc_by(n);
    }
    registry.register_owned(requests).expect("valid fixture");

    let queue = Arc::new(Metric::new(
        "queue_depth",
        "Items waiting.",
        Family::new(["queue"], Gauge::new),
    ));
    queue.get_or_create(["b"]).set(-2);
    queue.get_or_create(["a"]).set(7);
    registry.register_owned(queue).expect("valid fixture");

    let latency = Arc::new(
        Metric::new(
            "http_latency_seconds",
            "Time to serve.",
            Family::new(["path"], || Histogram::with_buckets(&LATENCY_BUCKETS)),
        )
        .with_unit("seconds"),
    );
    for (path, value) in [("/", 0.05), ("/", 0.5), ("/", 5.0), ("/health", 0.001)] {
        latency.get_or_create([path]).observe(value);
    }
    registry.register_owned(latency).expect("valid fixture");

    registry
}

/// The [`registry`] fixture encoded in `format` (OpenMetrics ends with `# EOF`).
///
/// # Panics
///
/// Never: writing to a `String` cannot fail.
#[must_use]
pub fn exposition(format: Format) -> String {
    let mut body = String::new();
    registry()
        .encode(&mut body, format)
        .expect("String writes cannot fail");
    body
}
