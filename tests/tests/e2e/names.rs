//! UTF-8 names and `_created` samples end to end: a real Prometheus 2.42 (which
//! knows only legacy names and sends no `escaping` term, so it gets `underscores`)
//! scrapes a server on each adapter (tokio, smol, async-std) serving
//! OpenTelemetry-style names (`http.server.requests`, `http.server.request.duration`
//! with the label `http.request.method`) with `Options::with_created_samples(true)`,
//! and its query API returns exactly the escaped series: every name and label name
//! with `_` for each `.`, the histogram's samples, and a `_created` series per family
//! whose value is the child's creation time (Prometheus 2.42 stores `_created` as an
//! ordinary series).
//!
//! Prometheus (declared last, so dropped first) is stopped by its PID, the servers by
//! their handles, also when an assertion fails.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use torchlight::{Buckets, Counter, Family, Histogram, Metric, Registry};
use torchlight_tests::adapter::{Adapter, AsyncStd, Config, Server, Smol, Tokio};
use torchlight_tests::prometheus::{Job, Prometheus};

/// How long Prometheus may take to scrape every target (first scrape ≈ 5 s).
const SCRAPED: Duration = Duration::from_secs(30);
/// How long the series may take to show once a target is up.
const STORED: Duration = Duration::from_secs(15);

static BOUNDS: Buckets<1> = Buckets::new([0.5]);

/// A series as the query API returns it: its name and its labels but `job` and
/// `instance`, and its value.
type Series = BTreeMap<(String, Vec<(String, String)>), String>;

fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

/// A series key: `name` with the labels `pairs`.
fn key(name: &str, pairs: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    let mut labels: Vec<(String, String)> = pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    labels.sort();
    (name.to_owned(), labels)
}

/// Starts `A`'s server with `_created` samples on a registry of OpenTelemetry-style
/// names; returns it, the series Prometheus should store (a `_created` value as
/// `"created"`), and the window in which the children were created.
fn serve<A: Adapter>() -> (Box<dyn Server>, Series, (f64, f64)) {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let requests = Arc::new(Metric::new(
        "http.server.requests",
        "Requests.",
        Family::new(["http.request.method"], Counter::new),
    ));
    let duration = Arc::new(
        Metric::new(
            "http.server.request.duration_seconds",
            "Duration.",
            Family::new(["http.request.method"], || Histogram::with_buckets(&BOUNDS)),
        )
        .with_unit("seconds"),
    );
    registry
        .register_owned(Arc::clone(&requests))
        .expect("a fresh registry");
    registry
        .register_owned(Arc::clone(&duration))
        .expect("a fresh registry");
    let before = unix_seconds();
    requests.get_or_create(["GET"]).inc_by(3);
    let child = duration.get_or_create(["GET"]);
    let after = unix_seconds();
    child.observe(0.25);
    child.observe(2.0);

    let get = [("http_request_method", "GET")];
    let mut expected = Series::new();
    let mut expect = |name: &str, extra: Option<(&str, &str)>, value: &str| {
        let mut pairs = get.to_vec();
        pairs.extend(extra);
        expected.insert(key(name, &pairs), value.to_owned());
    };
    expect("http_server_requests_total", None, "3");
    expect("http_server_requests_created", None, "created");
    let histogram = "http_server_request_duration_seconds";
    expect(&format!("{histogram}_bucket"), Some(("le", "0.5")), "1");
    expect(&format!("{histogram}_bucket"), Some(("le", "+Inf")), "2");
    expect(&format!("{histogram}_sum"), None, "2.25");
    expect(&format!("{histogram}_count"), None, "2");
    expect(&format!("{histogram}_created"), None, "created");

    let mut config = Config::loopback(registry);
    config.created_samples = true;
    let server = A::start_in_thread(config).unwrap_or_else(|error| panic!("{}: {error}", A::NAME));
    (server, expected, (before, after))
}

/// Every series Prometheus holds for `job` but its own (`up`, `scrape_*`), a
/// `_created` value within `window` (seconds, the query API rounds to milliseconds)
/// written as `"created"`.
fn stored(prometheus: &Prometheus, job: &str, window: (f64, f64)) -> Series {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let query = format!("{{job=\"{job}\",__name__!~\"up|scrape_.*\"}}");
    let mut found = Series::new();
    for entry in prometheus.query(&query) {
        let Some(labels) = entry["metric"].as_object() else {
            continue;
        };
        let name = labels.get("__name__").map(text).unwrap_or_default();
        let pairs: Vec<(&str, &str)> = labels
            .iter()
            .filter(|(label, _)| !matches!(label.as_str(), "__name__" | "job" | "instance"))
            .map(|(label, value)| (label.as_str(), value.as_str().unwrap_or_default()))
            .collect();
        let mut value = text(&entry["value"][1]);
        if name.ends_with("_created") {
            let seconds: f64 = value.parse().unwrap_or(f64::NAN);
            if seconds >= window.0 - 0.001 && seconds <= window.1 + 0.001 {
                "created".clone_into(&mut value);
            }
        }
        found.insert(key(&name, &pairs), value);
    }
    found
}

#[test]
fn prometheus_2_stores_utf8_names_escaped_with_their_created_series() {
    let mut servers = Vec::new();
    for (job, (server, expected, window)) in [
        (Tokio::NAME, serve::<Tokio>()),
        (Smol::NAME, serve::<Smol>()),
        (AsyncStd::NAME, serve::<AsyncStd>()),
    ] {
        servers.push((job, server, expected, window));
    }
    let jobs: Vec<Job> = servers
        .iter()
        .map(|(job, server, _, _)| Job::static_targets(job, [server.local_addr()]))
        .collect();
    // Declared after the servers: dropped (killed by PID) before them.
    let prometheus = Prometheus::start(&jobs, &[]);
    for (job, _, _, _) in &servers {
        prometheus.wait_up(job, 1, SCRAPED);
    }
    for (job, _, expected, window) in &servers {
        if prometheus
            .poll(STORED, || {
                (stored(&prometheus, job, *window) == *expected).then_some(())
            })
            .is_none()
        {
            panic!(
                "{job}: Prometheus stored other series:\n{:#?}\nexpected:\n{expected:#?}\nlog:\n{}",
                stored(&prometheus, job, *window),
                prometheus.log()
            );
        }
    }
    drop(prometheus);
    for (_, server, _, _) in &mut servers {
        server.close();
    }
}
