//! Pushing into real receivers: Debian's Pushgateway (every pushed sample exposed with
//! its exact value; `push_add`, `push` and `delete` as its README says; a conflicting
//! `job` label refused before sending), and remote write into a real Prometheus and
//! VictoriaMetrics from every adapter's threaded pusher (queried values equal the
//! registry's, bit for bit in Prometheus).

// Test code: a failed unwrap is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use torchlight::{Counter, FloatGauge, Info, Metric, Registry};
use torchlight_server::Runtime;
use torchlight_server::push::{
    PushError, PushOptions, Pushgateway, RemoteWritePush, start_in_thread,
};
use torchlight_tests::daemon::Daemon;
use torchlight_tests::prometheus::Prometheus;

const WAIT: Duration = Duration::from_secs(30);
/// A value whose every bit matters: 0.1 + 0.2.
const ODD: f64 = 0.1 + 0.2;

fn registry(jobs: u64) -> Arc<Registry> {
    let registry = Arc::new(Registry::new());
    let counter = Arc::new(Metric::new("batch_jobs", "Jobs.", Counter::new()));
    let gauge = Arc::new(Metric::new("batch_ratio", "Ratio.", FloatGauge::new()));
    registry.register_owned(Arc::clone(&counter)).unwrap();
    registry.register_owned(Arc::clone(&gauge)).unwrap();
    counter.inc_by(jobs);
    gauge.set(ODD);
    registry
}

fn gateway_case<R: Runtime>(name: &str, gateway: &Daemon) {
    let group = Pushgateway::<R>::new(&gateway.url(), "batch")
        .unwrap()
        .with_grouping_label("instance", &format!("{name}/a"))
        .unwrap();
    assert!(
        group.url().contains("/metrics/job/batch/instance@base64/"),
        "{}",
        group.url()
    );
    let exposed = |needle: &str| {
        gateway
            .poll(WAIT, || {
                gateway
                    .get("/metrics")
                    .filter(|(_, body)| body.contains(needle))
                    .map(|(_, b)| b)
            })
            .unwrap_or_else(|| {
                panic!(
                    "{name}: {needle} not exposed:\n{:?}",
                    gateway.get("/metrics")
                )
            })
    };
    let labels = format!("instance=\"{name}/a\",job=\"batch\"");
    group.push_blocking(&registry(3)).unwrap();
    exposed(&format!("batch_jobs_total{{{labels}}} 3\n"));
    exposed(&format!("batch_ratio{{{labels}}} 0.30000000000000004\n"));

    // `push_add` replaces the metrics of the same names and keeps the others.
    let other = Registry::new();
    let extra = Arc::new(Metric::new("batch_extra", "Extra.", FloatGauge::new()));
    other.register_owned(Arc::clone(&extra)).unwrap();
    extra.set(2.5);
    group.push_add_blocking(&other).unwrap();
    let body = exposed(&format!("batch_extra{{{labels}}} 2.5\n"));
    assert!(
        body.contains(&format!("batch_jobs_total{{{labels}}} 3\n")),
        "{body}"
    );

    // `push` replaces the whole group.
    group.push_blocking(&other).unwrap();
    let body = gateway
        .poll(WAIT, || {
            gateway
                .get("/metrics")
                .filter(|(_, b)| !b.contains(&format!("batch_jobs_total{{{labels}}}")))
        })
        .expect("batch_jobs_total leaves the group")
        .1;
    assert!(
        body.contains(&format!("batch_extra{{{labels}}} 2.5\n")),
        "{body}"
    );

    group.delete_blocking().unwrap();
    gateway
        .poll(WAIT, || {
            gateway
                .get("/metrics")
                .filter(|(_, b)| !b.contains(&labels))
        })
        .expect("the group is deleted");

    // A series whose `job` differs from the grouping key is refused before sending.
    let conflicting = Registry::new();
    let origin = Metric::new("origin", "Origin.", Info::new([("job", "other")]));
    conflicting.register_owned(Arc::new(origin)).unwrap();
    let error = group.push_blocking(&conflicting).unwrap_err();
    assert!(matches!(error, PushError::Grouping { .. }), "{error}");
    assert!(error.to_string().contains("job=\"other\""), "{error}");
}

#[test]
fn the_pushgateway_exposes_what_every_adapter_pushes() {
    let gateway = Daemon::pushgateway();
    gateway_case::<torchlight_tokio::Tokio>("tokio", &gateway);
    gateway_case::<torchlight_smol::Smol>("smol", &gateway);
    gateway_case::<torchlight_async_std::AsyncStd>("async-std", &gateway);
}

fn remote_write<R: Runtime>(name: &str, url: &str, jobs: u64) {
    let options = PushOptions::new(url)
        .unwrap()
        .with_registry(registry(jobs))
        .with_interval(Duration::from_millis(200));
    let push = RemoteWritePush::new()
        .with_external_labels([("adapter", name)])
        .unwrap();
    let pusher = start_in_thread::<R, _>(options, push).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    pusher
        .close()
        .unwrap_or_else(|error| panic!("{name}: {error}"));
}

/// The value of `query` at `api` (`/api/v1/query` of Prometheus or VictoriaMetrics).
fn query(get: impl Fn(&str) -> Option<(u16, String)>, query: &str) -> Option<String> {
    let (_, body) = get(&format!("/api/v1/query?query={query}"))?;
    let json: Value = serde_json::from_str(&body).ok()?;
    json["data"]["result"][0]["value"][1]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn remote_write_reaches_prometheus_and_victoria_metrics_from_every_adapter() {
    let prometheus = Prometheus::start(&[], &["--web.enable-remote-write-receiver"]);
    let victoria = Daemon::victoria_metrics();
    let receivers = [
        (
            "prometheus",
            format!("http://{}/api/v1/write", prometheus.address()),
        ),
        (
            "victoria-metrics",
            format!("{}/api/v1/write", victoria.url()),
        ),
    ];
    for (i, (receiver, url)) in receivers.iter().enumerate() {
        let jobs = 3 + i as u64;
        remote_write::<torchlight_tokio::Tokio>("tokio", url, jobs);
        remote_write::<torchlight_smol::Smol>("smol", url, jobs);
        remote_write::<torchlight_async_std::AsyncStd>("async-std", url, jobs);
        for adapter in ["tokio", "smol", "async-std"] {
            let get = |path: &str| match *receiver {
                "prometheus" => prometheus.get(path),
                _ => victoria.get(path),
            };
            let jobs_query = format!("batch_jobs_total%7Badapter%3D%22{adapter}%22%7D");
            let value = victoria
                .poll(WAIT, || query(get, &jobs_query))
                .unwrap_or_else(|| panic!("{receiver} has no batch_jobs_total from {adapter}"));
            assert_eq!(
                value.parse::<f64>().unwrap(),
                jobs as f64,
                "{receiver} {adapter}"
            );
            let ratio_query = format!("batch_ratio%7Badapter%3D%22{adapter}%22%7D");
            let ratio: f64 = victoria
                .poll(WAIT, || query(get, &ratio_query))
                .unwrap()
                .parse()
                .unwrap();
            if *receiver == "prometheus" {
                assert_eq!(ratio.to_bits(), ODD.to_bits(), "{adapter}");
            } else {
                // VictoriaMetrics stores floats in its own compressed decimal form.
                assert!((ratio - ODD).abs() < 1e-12, "{adapter}: {ratio}");
            }
        }
    }
}
