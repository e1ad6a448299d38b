//! The OTLP exporter on every runtime, in both modes (a task on the runtime, a thread of
//! its own), against a scripted receiver answering as the OTLP specification's
//! "OTLP/HTTP Response" allows: what arrives (path, headers, gzip, resource, values,
//! decoded with the hand-written mirrors of `otlp_proto.rs`); a partial success,
//! reported and not retried; 429 with `Retry-After`, 503 and a hanging receiver,
//! retried; 400 and 500, not; an outage that queues nothing; the last export on
//! `close()`.
#![forbid(unsafe_code)]
// Test code: a failed unwrap is the failure report.
#![allow(clippy::unwrap_used)]

use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use torchlight::{Counter, Gauge, Metric, Registry};
use torchlight_async_std::AsyncStd;
use torchlight_server::Runtime;
use torchlight_server::push::{OtlpPush, PushError, PushOptions, Pusher, start_in_thread};
use torchlight_smol::Smol;
use torchlight_tests::otlp_proto::{self as pb, Data, Value, pairs};
use torchlight_tests::receiver::{Received, Receiver, Reply};
use torchlight_tokio::Tokio;

const WAIT: Duration = Duration::from_secs(20);

/// Closes a running exporter (after its last export) and returns that export's outcome.
type Close = Box<dyn FnOnce() -> Result<(), PushError> + Send>;

#[derive(Clone, Copy, Debug)]
enum Mode {
    Task,
    Thread,
}

fn start<R: Runtime>(mode: Mode, options: PushOptions, push: OtlpPush) -> Close {
    match mode {
        Mode::Thread => {
            let pusher = start_in_thread::<R, _>(options, push).expect("starts");
            Box::new(move || pusher.close())
        }
        Mode::Task => {
            let (stop, stopped) = async_channel::bounded::<()>(1);
            let thread = thread::spawn(move || {
                R::block_on(async move {
                    let pusher = Pusher::<R>::start(options, push);
                    let _ = stopped.recv().await;
                    pusher.close().await
                })
                .expect("the runtime starts")
            });
            Box::new(move || {
                drop(stop);
                thread.join().expect("does not panic")
            })
        }
    }
}

/// Starts an exporter on one runtime.
type Start = fn(Mode, PushOptions, OtlpPush) -> Close;

/// Runs `case` on every runtime in both modes.
fn every_runtime(case: fn(&str, Start, Mode)) {
    for mode in [Mode::Task, Mode::Thread] {
        case("tokio", start::<Tokio>, mode);
        case("smol", start::<Smol>, mode);
        case("async-std", start::<AsyncStd>, mode);
    }
}

/// A registry of its own per case: a counter and a gauge.
fn registry() -> (Arc<Registry>, Arc<Metric<Counter>>) {
    let registry = Arc::new(Registry::new());
    let jobs = Arc::new(Metric::new("jobs", "Jobs run.", Counter::new()));
    let depth = Arc::new(Metric::new("depth", "Depth.", Gauge::new()));
    registry
        .register_owned(Arc::clone(&jobs))
        .expect("registers");
    registry
        .register_owned(Arc::clone(&depth))
        .expect("registers");
    depth.set(7);
    (registry, jobs)
}

/// An exporter of `registry` to `receiver`, its environment empty but for `vars`.
fn exporter(receiver: &Receiver, vars: &'static [(&'static str, &'static str)]) -> OtlpPush {
    OtlpPush::with_environment(move |name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .with_endpoint(&receiver.base_url())
    .with_interval(Duration::from_millis(200))
    .with_timeout(Duration::from_millis(500))
}

fn options(push: &OtlpPush, registry: &Arc<Registry>) -> PushOptions {
    push.options()
        .expect("a URL")
        .with_registry(Arc::clone(registry))
        .with_backoff(Duration::from_millis(20), Duration::from_millis(100))
}

/// The errors a report callback saw, in order.
type Failures = Arc<Mutex<Vec<String>>>;

/// Collects the report callback's errors.
fn failures() -> (
    Failures,
    impl Fn(Result<(), &PushError>) + Send + Sync + 'static,
) {
    let failures = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&failures);
    (failures, move |outcome: Result<(), &PushError>| {
        if let Err(error) = outcome {
            seen.lock().unwrap().push(error.to_string());
        }
    })
}

/// The request a receiver got, gunzipped when it says so.
fn request(received: &Received) -> pb::ExportMetricsServiceRequest {
    let body = if received.header("content-encoding") == Some("gzip") {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&received.body[..])
            .read_to_end(&mut plain)
            .expect("valid gzip");
        plain
    } else {
        received.body.clone()
    };
    pb::decode(&body)
}

/// The `jobs` counter's value in a received export.
fn jobs(received: &Received) -> i64 {
    let request = request(received);
    let metric = request.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == "jobs")
        .expect("jobs was exported");
    let Some(Data::Sum(sum)) = &metric.data else {
        panic!("a sum: {metric:?}");
    };
    match sum.data_points[0].value {
        Some(Value::AsInt(n)) => n,
        other => panic!("an integer: {other:?}"),
    }
}

#[test]
fn values_arrive_at_v1_metrics_with_the_resource_and_headers() {
    every_runtime(|name, start, mode| {
        static ENV: &[(&str, &str)] = &[
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s%3Dcret"),
            ("OTEL_SERVICE_NAME", "checkout"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=test",
            ),
        ];
        let receiver = Receiver::start(|_| Reply::Status(200, None, ""));
        let (registry, jobs_metric) = registry();
        jobs_metric.inc_by(3);
        let push = exporter(&receiver, ENV);
        let close = start(mode, options(&push, &registry), push);
        let first = receiver.wait_for(1, WAIT);
        assert!(!first.is_empty(), "{name} {mode:?}: nothing arrived");
        let export = &first[0];
        assert_eq!(export.method, "POST");
        assert_eq!(export.path, "/v1/metrics");
        assert_eq!(
            export.header("content-type"),
            Some("application/x-protobuf")
        );
        assert_eq!(export.header("content-encoding"), None);
        assert_eq!(export.header("api-key"), Some("s=cret"));
        assert!(
            export
                .header("user-agent")
                .is_some_and(|a| a.starts_with("torchlight/"))
        );
        let sent = request(export);
        let resource = sent.resource_metrics[0].resource.as_ref().unwrap();
        assert_eq!(
            pairs(&resource.attributes)[..2],
            [
                ("service.name", "checkout"),
                ("deployment.environment.name", "test")
            ],
            "{name} {mode:?}"
        );
        let metrics = &sent.resource_metrics[0].scope_metrics[0].metrics;
        let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["jobs", "depth"]);
        assert_eq!(jobs(export), 3);
        let Some(Data::Gauge(depth)) = &metrics[1].data else {
            panic!("a gauge");
        };
        assert_eq!(depth.data_points[0].value, Some(Value::AsInt(7)));
        close().expect("the last export arrives");
    });
}

#[test]
fn gzip_bodies_when_asked() {
    static ENV: &[(&str, &str)] = &[("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")];
    let receiver = Receiver::start(|_| Reply::Status(200, None, ""));
    let (registry, jobs_metric) = registry();
    jobs_metric.inc_by(4);
    let push = exporter(&receiver, ENV);
    let close = start::<Smol>(Mode::Thread, options(&push, &registry), push);
    let first = receiver.wait_for(1, WAIT);
    assert_eq!(first[0].header("content-encoding"), Some("gzip"));
    assert_eq!(jobs(&first[0]), 4);
    close().expect("the last export arrives");
}

#[test]
fn close_delivers_the_final_values() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|_| Reply::Status(200, None, ""));
        let (registry, jobs_metric) = registry();
        let push = exporter(&receiver, &[]).with_interval(Duration::from_secs(3600));
        let close = start(mode, options(&push, &registry), push);
        assert_eq!(receiver.wait_for(1, WAIT).len(), 1, "{name} {mode:?}");
        jobs_metric.inc_by(5);
        close().expect("the last export arrives");
        let all = receiver.wait_for(2, WAIT);
        assert_eq!(jobs(all.last().expect("two exports")), 5, "{name} {mode:?}");
    });
}

/// `ExportMetricsServiceResponse { partial_success { rejected_data_points: 3,
/// error_message: "no" } }`.
const PARTIAL: &str = "\x0a\x06\x08\x03\x12\x02no";

#[test]
fn a_partial_success_is_reported_and_not_retried() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|n| match n {
            0 => Reply::Status(200, None, PARTIAL),
            _ => Reply::Status(200, None, ""),
        });
        let (registry, _) = registry();
        let (failures, report) = failures();
        let push = exporter(&receiver, &[]).with_interval(Duration::from_millis(600));
        let close = start(mode, options(&push, &registry).with_report(report), push);
        let all = receiver.wait_for(2, WAIT);
        assert_eq!(all.len(), 2, "{name} {mode:?}");
        // Not retried: the next export waits for the interval.
        assert!(
            all[1].at - all[0].at >= Duration::from_millis(550),
            "{:?}",
            all[1].at - all[0].at
        );
        assert_eq!(
            failures.lock().unwrap()[0],
            format!(
                "{}/v1/metrics rejected 3 data points of the push: no",
                receiver.base_url()
            )
        );
        close().expect("the last export arrives");
    });
}

#[test]
fn retryable_statuses_are_retried_and_the_others_are_not() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|n| match n {
            0 => Reply::Status(429, Some(1), "slow down"),
            1 => Reply::Status(503, None, "unavailable"),
            2 => Reply::Status(400, None, "\x08\x03\x12\x0bbad request"),
            3 => Reply::Status(500, None, "internal"),
            _ => Reply::Status(200, None, ""),
        });
        let (registry, _) = registry();
        let (failures, report) = failures();
        let push = exporter(&receiver, &[]).with_interval(Duration::from_millis(600));
        let close = start(mode, options(&push, &registry).with_report(report), push);
        let all = receiver.wait_for(5, WAIT);
        assert_eq!(all.len(), 5, "{name} {mode:?}");
        let gap = |i: usize| all[i + 1].at - all[i].at;
        // The 429's `Retry-After: 1`, not the 20 ms backoff.
        assert!(gap(0) >= Duration::from_millis(950), "{:?}", gap(0));
        // The 503: the backoff (at most 100 ms), well before the interval.
        assert!(gap(1) < Duration::from_millis(500), "{:?}", gap(1));
        // The 400 and the 500 are not retried: the next export waits for the interval.
        assert!(gap(2) >= Duration::from_millis(550), "{:?}", gap(2));
        assert!(gap(3) >= Duration::from_millis(550), "{:?}", gap(3));
        let failures = failures.lock().unwrap();
        let url = format!("{}/v1/metrics", receiver.base_url());
        assert_eq!(
            failures[..4],
            [
                format!("{url} answered 429 (will retry): slow down"),
                format!("{url} answered 503 (will retry): unavailable"),
                // The `google.rpc.Status` message.
                format!("{url} refused the push with 400: bad request"),
                format!("{url} refused the push with 500: internal"),
            ]
        );
        close().expect("the last export arrives");
    });
}

#[test]
fn a_hanging_receiver_times_out_and_is_retried() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|n| {
            if n == 0 {
                Reply::Silence
            } else {
                Reply::Status(200, None, "")
            }
        });
        let (registry, _) = registry();
        let (failures, report) = failures();
        let push = exporter(&receiver, &[]).with_timeout(Duration::from_millis(300));
        let close = start(mode, options(&push, &registry).with_report(report), push);
        let all = receiver.wait_for(2, WAIT);
        assert_eq!(all.len(), 2, "{name} {mode:?}");
        assert!(all[1].at - all[0].at >= Duration::from_millis(300));
        assert!(failures.lock().unwrap()[0].contains("did not answer within 300ms"));
        close().expect("the last export arrives");
    });
}

/// Down for eight attempts while the counter keeps counting: every attempt carries the
/// latest values in a body of the same size (one snapshot, nothing queued), and the
/// first export that arrives has everything.
#[test]
fn an_outage_queues_nothing_and_loses_nothing() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|n| {
            if n < 8 {
                Reply::Status(503, None, "down")
            } else {
                Reply::Status(200, None, "")
            }
        });
        let (registry, jobs_metric) = registry();
        let push = exporter(&receiver, &[]);
        let close = start(mode, options(&push, &registry), push);
        for _ in 0..40 {
            jobs_metric.inc();
            thread::sleep(Duration::from_millis(5));
        }
        let all = receiver.wait_for(9, WAIT);
        assert!(all.len() >= 9, "{name} {mode:?}: {} requests", all.len());
        close().expect("the last export arrives");
        let all = receiver.wait_for(10, WAIT);
        let sizes: Vec<usize> = all.iter().map(|r| r.body.len()).collect();
        assert!(sizes.windows(2).all(|w| w[0] == w[1]), "{sizes:?}");
        let values: Vec<i64> = all.iter().map(jobs).collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
        assert_eq!(*values.last().unwrap(), 40, "{name} {mode:?}");
    });
}
