//! A program whose library records only through the `metrics` facade and whose
//! application serves through torchlight (`torchlight-metrics`' recorder, installed
//! with one line, beside a native torchlight metric in the same registry).
//!
//! The same registry is served by every adapter (tokio, smol, async-std): the install
//! is runtime-neutral. Then:
//!
//! - each server's text 0.0.4 exposition passes `promtool check metrics` and its
//!   OpenMetrics exposition `prometheus_client`'s strict parser, and both parse to
//!   exactly the recorded series and values (no series missing, none extra);
//! - a real Prometheus scrapes the three servers and stores exactly those series and
//!   values for each of them;
//! - a recorded name that clashes with the native metric is reported once and never
//!   shows up as a second family.
//!
//! One `#[test]`: the facade takes one global recorder per process.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use metrics::Unit;
use torchlight::{Counter, DEFAULT_BUCKETS, Metric, Registry};
use torchlight_metrics::{Builder, RecordError};
use torchlight_tests::adapter::{Adapter, AsyncStd, Config, Server, Smol, Tokio};
use torchlight_tests::client::get;
use torchlight_tests::prometheus::{Job, Prometheus};
use torchlight_tests::{Family, openmetrics_parse, promtool_check, text_parse};

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long Prometheus may take to scrape every target (first scrape ≈ 5 s).
const SCRAPED: Duration = Duration::from_secs(30);

/// A label value with every character the exposition escapes, and some it does not.
const HOSTILE: &str = "say \"hi\"\\n\nütf # EOF";

/// The library: it knows only the `metrics` facade.
mod library {
    use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram};
    use metrics::{gauge, histogram};

    /// Values that fill every default bucket once, and `+Inf` once.
    pub(crate) fn observations() -> Vec<f64> {
        let mut values: Vec<f64> = torchlight::DEFAULT_BUCKETS.bounds().to_vec();
        values.push(20.0);
        values
    }

    pub(crate) fn run() {
        describe_counter!("lib.jobs", "Jobs the library ran.");
        describe_gauge!("lib_queue_depth", "Items waiting.");
        describe_histogram!("lib_job_seconds", Unit::Seconds, "Time per job.");
        counter!("lib.jobs", "kind" => "mail").increment(3);
        counter!("lib.jobs", "kind" => super::HOSTILE).increment(2);
        gauge!("lib_queue_depth", "queue" => "main").set(4.0);
        gauge!("lib_queue_depth", "queue" => "main").decrement(6.5);
        gauge!("lib_queue_depth", "queue" => "slow", "region" => "eu").increment(1.5);
        for value in observations() {
            histogram!("lib_job_seconds").record(value);
        }
        // The application's own name: refused, reported once, never duplicated.
        counter!("app_requests").increment(100);
        counter!("app_requests_total").increment(100);
    }
}

/// The series every exposition must hold: (sample name, labels) → value.
type Series = BTreeMap<(String, BTreeMap<String, String>), f64>;

fn expected() -> Series {
    let mut series = Series::new();
    let mut add = |name: &str, labels: &[(&str, &str)], value: f64| {
        let labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        series.insert((name.to_owned(), labels), value);
    };
    add("app_requests_total", &[], 1.0);
    add("lib_jobs_total", &[("kind", "mail")], 3.0);
    add("lib_jobs_total", &[("kind", HOSTILE)], 2.0);
    add("lib_queue_depth", &[("queue", "main")], -2.5);
    add(
        "lib_queue_depth",
        &[("queue", "slow"), ("region", "eu")],
        1.5,
    );
    let observations = library::observations();
    for (i, bound) in DEFAULT_BUCKETS.bounds().iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        add(
            "lib_job_seconds_bucket",
            &[("le", &canonical_le(&bound.to_string()))],
            (i + 1) as f64,
        );
    }
    #[allow(clippy::cast_precision_loss)]
    let count = observations.len() as f64;
    add("lib_job_seconds_bucket", &[("le", "+Inf")], count);
    add("lib_job_seconds_count", &[], count);
    add("lib_job_seconds_sum", &[], observations.iter().sum());
    series
}

/// `le` values written differently by the two formats (`1` / `1.0`) as one spelling.
fn canonical_le(le: &str) -> String {
    match le.parse::<f64>() {
        Ok(value) if value.is_finite() => format!("{value:?}"),
        _ => le.to_owned(),
    }
}

/// A reference parser's families as [`Series`].
fn flatten(families: &[Family]) -> Series {
    let mut series = Series::new();
    for sample in families.iter().flat_map(|family| &family.samples) {
        let mut labels = sample.labels.clone();
        if let Some(le) = labels.get_mut("le") {
            *le = canonical_le(le);
        }
        series.insert((sample.name.clone(), labels), sample.value);
    }
    series
}

/// Compares with a tolerance for the sum (a float sum is exact to the last bit only in
/// one order of addition).
fn assert_same(got: &Series, want: &Series, what: &str) {
    let keys = |s: &Series| s.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(got), keys(want), "{what}: the series differ");
    for (key, value) in want {
        let seen = got[key];
        assert!(
            (seen - value).abs() <= 1e-9 * value.abs().max(1.0),
            "{what}: {key:?} is {seen}, recorded {value}"
        );
    }
}

/// The application's registry: its native metric and everything recorded.
static REGISTRY: Registry = Registry::new();
/// The application's native torchlight metric.
static REQUESTS: Metric<Counter> = Metric::new(
    "app_requests",
    "Requests the application served.",
    Counter::new(),
);
/// What the recorder reported.
static ERRORS: Mutex<Vec<RecordError>> = Mutex::new(Vec::new());

#[test]
fn metrics_recorded_through_the_facade_are_served_validated_and_stored() {
    REGISTRY.register(&REQUESTS).expect("registers");
    REQUESTS.inc();
    // The one line next to `start_http_server`.
    Builder::new(&REGISTRY)
        .with_error_hook(|error| ERRORS.lock().expect("not poisoned").push(error.clone()))
        .install()
        .expect("the only recorder in this process");
    library::run();

    let errors = ERRORS.lock().expect("not poisoned").clone();
    assert_eq!(errors.len(), 2, "one report per refused name: {errors:?}");
    assert!(
        errors
            .iter()
            .all(|error| matches!(error, RecordError::Register { .. })),
        "{errors:?}"
    );

    let mut servers: Vec<(&str, Box<dyn Server>)> = vec![
        (Tokio::NAME, start::<Tokio>()),
        (Smol::NAME, start::<Smol>()),
        (AsyncStd::NAME, start::<AsyncStd>()),
    ];
    let want = expected();
    for (adapter, server) in &servers {
        let url = format!("{}metrics", server.url());
        let text = get(&url, &[("accept", TEXT)]).text();
        assert_eq!(
            text.matches("# TYPE app_requests_total ").count(),
            1,
            "{text}"
        );
        promtool_check(&text).unwrap_or_else(|e| panic!("{adapter}: promtool: {e}\n{text}"));
        let parsed = text_parse(&text).unwrap_or_else(|e| panic!("{adapter}: {e}\n{text}"));
        assert_same(&flatten(&parsed), &want, &format!("{adapter} text"));

        let om = get(&url, &[("accept", OPEN_METRICS)]).text();
        let parsed = openmetrics_parse(&om).unwrap_or_else(|e| panic!("{adapter}: {e}\n{om}"));
        assert_same(&flatten(&parsed), &want, &format!("{adapter} OpenMetrics"));
        let seconds = parsed
            .iter()
            .find(|family| family.name == "lib_job_seconds")
            .expect("the histogram family");
        assert_eq!(
            (seconds.unit.as_str(), seconds.help.as_str()),
            (Unit::Seconds.as_str(), "Time per job.")
        );
    }

    let targets: Vec<_> = servers.iter().map(|(_, s)| s.local_addr()).collect();
    let prometheus = Prometheus::start(&[Job::static_targets("recorder", targets.clone())], &[]);
    prometheus.wait_up("recorder", targets.len(), SCRAPED);
    for target in &targets {
        let query =
            format!("{{job=\"recorder\",instance=\"{target}\",__name__=~\"lib_.*|app_.*\"}}");
        let stored = prometheus
            .poll(SCRAPED, || {
                let stored = stored_series(&prometheus.query(&query));
                (stored.len() == want.len()).then_some(stored)
            })
            .unwrap_or_else(|| {
                panic!(
                    "Prometheus did not store {} series for {target}: {:#?}",
                    want.len(),
                    prometheus.query(&query)
                )
            });
        assert_same(&stored, &want, &format!("Prometheus, {target}"));
    }
    drop(prometheus);
    for (_, server) in &mut servers {
        server.close();
    }
}

fn start<A: Adapter>() -> Box<dyn Server> {
    A::start(Config::loopback(&REGISTRY))
        .unwrap_or_else(|failure| panic!("{} did not start: {failure}", A::NAME))
}

/// A Prometheus query result as [`Series`], without the target's labels.
fn stored_series(result: &[serde_json::Value]) -> Series {
    let mut series = Series::new();
    for item in result {
        let metric = item["metric"].as_object().expect("a metric object");
        let name = metric["__name__"].as_str().expect("a name").to_owned();
        let labels = metric
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "__name__" | "job" | "instance"))
            .map(|(key, value)| {
                let value = value.as_str().expect("a string label value");
                let value = if key == "le" {
                    canonical_le(value)
                } else {
                    value.to_owned()
                };
                (key.clone(), value)
            })
            .collect();
        let value = item["value"][1].as_str().expect("a sample value");
        let value: f64 = value.parse().expect("a number");
        series.insert((name, labels), value);
    }
    series
}
