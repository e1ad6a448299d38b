//! Created timestamps against the references: the OpenMetrics `_created` samples
//! torchlight writes when asked are read by `prometheus_client`'s strict parser with the
//! registration time as their value, and are, line for line, the `_created` lines
//! `prometheus_client` 0.26 writes for the same families created at the same time (its
//! other lines differ as its values do: `1.0` bucket counts, `_count` before `_sum`).
//! Every adapter's server writes them with `Options::with_created_samples(true)` (and
//! the embedded `MetricsService` with its own setting), and not without.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use torchlight::{
    Buckets, Counter, Family, Format, Histogram, ManualClock, Metric, Registry, Summary,
};
use torchlight_tests::adapter::{Adapter, Config};
use torchlight_tests::client::get;
use torchlight_tests::{openmetrics_parse, prometheus_client_created};

/// When the registry's metrics were registered: 1 700 000 000.5 s after 1970.
const AT: Duration = Duration::from_millis(1_700_000_000_500);

static BOUNDS: Buckets<2> = Buckets::new([1.0, 2.0]);

/// The families of `prometheus_client_created`, registered at `AT`, and a family child
/// stamped by the wall clock when created.
fn registry() -> &'static Registry {
    static WALL: ManualClock = ManualClock::new();
    static SHARED: Registry = Registry::new().with_created_clock(Some(&WALL));
    static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
    static LATENCY: Metric<Histogram<2>> = Metric::new(
        "latency_seconds",
        "Latency.",
        Histogram::with_buckets(&BOUNDS),
    )
    .with_unit("seconds");
    static SIZES: Metric<Summary> = Metric::new("sizes", "Sizes.", Summary::new());
    static RECORD: std::sync::Once = std::sync::Once::new();
    RECORD.call_once(|| {
        WALL.set(AT);
        SHARED.register(&JOBS).expect("registers once");
        SHARED.register(&LATENCY).expect("registers once");
        SHARED.register(&SIZES).expect("registers once");
        JOBS.inc_by(3);
        for value in [0.5, 1.5, 3.0] {
            LATENCY.observe(value);
        }
        SIZES.observe(1.0);
        SIZES.observe(2.0);
        let routes = Arc::new(Metric::new(
            "routes",
            "Per route.",
            Family::new(["route"], Counter::new),
        ));
        routes.get_or_create(["/a"]).inc();
        SHARED.register_owned(routes).expect("registers once");
    });
    &SHARED
}

fn openmetrics(created_samples: bool) -> String {
    let mut body = String::new();
    registry()
        .encode(
            &mut body,
            Format::OpenMetrics.with_created_samples(created_samples),
        )
        .expect("encodes");
    body
}

fn created_lines(body: &str) -> Vec<&str> {
    body.lines()
        .filter(|line| {
            line.split([' ', '{'])
                .next()
                .is_some_and(|name| name.ends_with("_created"))
        })
        .collect()
}

#[test]
fn created_samples_pass_the_strict_parser_with_the_registration_time() {
    let body = openmetrics(true);
    let families = openmetrics_parse(&body).unwrap_or_else(|error| panic!("{error}\n{body}"));
    let created = |family: &str| {
        let family = families
            .iter()
            .find(|parsed| parsed.name == family)
            .unwrap_or_else(|| panic!("no {family} in {body}"));
        let sample = family
            .samples
            .iter()
            .find(|sample| sample.name == format!("{}_created", family.name))
            .unwrap_or_else(|| panic!("no {}_created in {body}", family.name));
        (sample.value, sample.labels.clone())
    };
    for family in ["jobs", "latency_seconds", "sizes"] {
        assert_eq!(created(family).0, 1_700_000_000.5, "{family}");
    }
    // The child's own timestamp: after the registration's, and now or before.
    let (child, labels) = created("routes");
    assert_eq!(labels.get("route").map(String::as_str), Some("/a"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    assert!(child > 1_700_000_000.5 && child <= now, "{child}");

    // Not asked: none, and the strict parser still reads it.
    let plain = openmetrics(false);
    assert!(created_lines(&plain).is_empty(), "{plain}");
    openmetrics_parse(&plain).unwrap_or_else(|error| panic!("{error}\n{plain}"));
}

#[test]
fn created_lines_are_prometheus_clients() {
    let ours = openmetrics(true);
    let python = prometheus_client_created(AT.as_secs_f64());
    let ours: Vec<&str> = created_lines(&ours)
        .into_iter()
        .filter(|line| !line.starts_with("routes_"))
        .collect();
    assert_eq!(ours, created_lines(&python), "\n--- python ---\n{python}");
    assert_eq!(ours.len(), 3);
}

/// A server with the setting writes `_created` samples; one without does not.
fn servers_write_created_samples_when_set<A: Adapter>() {
    for created_samples in [false, true] {
        let mut config = Config::loopback(registry());
        config.created_samples = created_samples;
        let mut server = A::start(config).unwrap_or_else(|error| panic!("{}: {error}", A::NAME));
        let url = format!("{}metrics", server.url());
        let reply = get(
            &url,
            &[("accept", "application/openmetrics-text;version=1.0.0")],
        );
        assert_eq!(reply.status, 200);
        assert_eq!(reply.text(), openmetrics(created_samples), "{}", A::NAME);
        // Text 0.0.4 never has them.
        let text = get(&url, &[("accept", "text/plain;version=0.0.4")]).text();
        assert!(created_lines(&text).is_empty(), "{text}");
        server.close();
    }
}

torchlight_tests::per_adapter_suite!(servers_write_created_samples_when_set);

#[test]
fn the_embedded_service_writes_created_samples_when_set() {
    use http_body_util::BodyExt;
    use hyper::Request;
    use hyper::service::Service;

    let runtime = ::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    for created_samples in [false, true] {
        let service =
            torchlight_tokio::MetricsService::new(registry()).with_created_samples(created_samples);
        let request = Request::get("/metrics")
            .header("accept", "application/openmetrics-text;version=1.0.0")
            .body(())
            .expect("a request");
        let body = runtime.block_on(async {
            let response = service.call(request).await.expect("infallible");
            response
                .into_body()
                .collect()
                .await
                .expect("a body")
                .to_bytes()
        });
        assert_eq!(
            String::from_utf8_lossy(&body),
            openmetrics(created_samples),
            "created_samples: {created_samples}"
        );
    }
}
