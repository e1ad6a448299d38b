//! Exemplars end to end: a real Prometheus started with
//! `--enable-feature=exemplar-storage` scrapes a server on each adapter (tokio, smol,
//! async-std), and `/api/v1/query_exemplars` returns exactly the trace ids each
//! recorded, on the right job, bucket and counter, with their values.
//!
//! Prometheus (declared last, so dropped first) is stopped by its PID, the servers by
//! their handles, also when an assertion fails.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use torchlight::{Buckets, ExemplarCounter, ExemplarHistogram, Metric, Registry};
use torchlight_tests::adapter::{Adapter, AsyncStd, Config, Server, Smol, Tokio};
use torchlight_tests::prometheus::{Job, Prometheus};

/// How long Prometheus may take to scrape every target (first scrape ≈ 5 s).
const SCRAPED: Duration = Duration::from_secs(30);
/// How long the exemplars may take to show once a target is up.
const STORED: Duration = Duration::from_secs(15);

static BOUNDS: Buckets<2> = Buckets::new([0.1, 1.0]);

/// `(job, series, le, trace_id, value)`: one stored exemplar.
type Stored = (String, String, String, String, String);

/// A trace id as a tracer writes it (32 hex digits), distinct per job and use.
fn trace_id(job: &str, what: u8) -> String {
    let seed = job.bytes().fold(u64::from(what), |h, b| {
        h.wrapping_mul(0x100_0000_01b3).wrapping_add(u64::from(b))
    });
    format!("{seed:016x}{:016x}", u64::from(what))
}

/// A bucket bound compared as a number: OpenMetrics writes `le="1.0"`, which
/// Prometheus 2.x stores as written.
fn le(text: &str) -> String {
    text.parse::<f64>()
        .map_or_else(|_| text.to_owned(), |bound| format!("{bound:?}"))
}

/// Starts `A`'s server on a registry with an exemplar histogram and counter, records
/// one exemplar per bucket and one on the counter, and returns what Prometheus should
/// store.
fn serve<A: Adapter>() -> (Box<dyn Server>, BTreeSet<Stored>) {
    let job = A::NAME;
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let latency: &'static Metric<ExemplarHistogram<2>> = Box::leak(Box::new(Metric::new(
        "e2e_ex_latency_seconds",
        "Latency with exemplars.",
        ExemplarHistogram::with_buckets(&BOUNDS),
    )));
    let errors: &'static Metric<ExemplarCounter> = Box::leak(Box::new(Metric::new(
        "e2e_ex_errors",
        "Errors with exemplars.",
        ExemplarCounter::new(),
    )));
    registry.register(latency).expect("a fresh registry");
    registry.register(errors).expect("a fresh registry");
    let mut expected = BTreeSet::new();
    for (what, (value, le)) in [(0.05, "0.1"), (0.5, "1"), (5.0, "+Inf")]
        .into_iter()
        .enumerate()
    {
        let trace = trace_id(job, what as u8);
        latency.observe(value / 2.0);
        latency
            .observe_with_exemplar(value, &[("trace_id", trace.as_str())])
            .expect("a valid exemplar");
        expected.insert((
            job.to_owned(),
            "e2e_ex_latency_seconds_bucket".to_owned(),
            self::le(le),
            trace,
            value.to_string(),
        ));
    }
    // Plain hex: Prometheus 2.42 stores exemplar label values as written on the wire,
    // escapes included (a quote comes back as `\"`), unlike series label values.
    let trace = trace_id(job, 9);
    errors.inc_by(4);
    errors
        .inc_by_with_exemplar(3, &[("trace_id", trace.as_str())])
        .expect("a valid exemplar");
    expected.insert((
        job.to_owned(),
        "e2e_ex_errors_total".to_owned(),
        String::new(),
        trace,
        "3".to_owned(),
    ));
    let server = A::start_in_thread(Config::loopback(registry))
        .unwrap_or_else(|error| panic!("{job}: {error}"));
    (server, expected)
}

/// Every exemplar Prometheus holds for `series`.
fn stored(prometheus: &Prometheus, series: &str) -> BTreeSet<Stored> {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let mut found = BTreeSet::new();
    for entry in prometheus.query_exemplars(series) {
        let labels = &entry["seriesLabels"];
        for exemplar in entry["exemplars"].as_array().into_iter().flatten() {
            found.insert((
                text(&labels["job"]),
                text(&labels["__name__"]),
                le(&text(&labels["le"])),
                text(&exemplar["labels"]["trace_id"]),
                text(&exemplar["value"]),
            ));
        }
    }
    found
}

#[test]
fn prometheus_stores_the_recorded_trace_ids_on_the_right_series() {
    let mut servers = Vec::new();
    let mut expected = BTreeSet::new();
    for (server, stored) in [serve::<Tokio>(), serve::<Smol>(), serve::<AsyncStd>()] {
        servers.push((
            stored.first().map(|s| s.0.clone()).unwrap_or_default(),
            server,
        ));
        expected.extend(stored);
    }
    let jobs: Vec<Job> = servers
        .iter()
        .map(|(job, server)| Job::static_targets(job, [server.local_addr()]))
        .collect();
    // Declared after the servers: dropped (killed by PID) before them.
    let prometheus = Prometheus::start(&jobs, &["--enable-feature=exemplar-storage"]);
    for (job, _) in &servers {
        prometheus.wait_up(job, 1, SCRAPED);
    }
    let all = || {
        let mut all = stored(&prometheus, "e2e_ex_latency_seconds_bucket");
        all.extend(stored(&prometheus, "e2e_ex_errors_total"));
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
    drop(prometheus);
    for (_, server) in &mut servers {
        server.close();
    }
}
