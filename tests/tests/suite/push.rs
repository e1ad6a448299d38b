//! The pusher on every runtime, in both modes (a task on the runtime, a thread of its
//! own), against a scripted receiver: values arrive as recorded, with the headers the
//! remote-write specification requires; a receiver that is down, slow, asks to slow
//! down (429 + `Retry-After`), refuses (400) or closes the connection mid-request; and
//! `close()` delivering a last push. The real receivers are in `e2e`.
#![forbid(unsafe_code)]
// Test code: a failed unwrap is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use torchlight::{Counter, Gauge, Metric, Registry};
use torchlight_async_std::AsyncStd;
use torchlight_server::Runtime;
use torchlight_server::push::{PushError, PushOptions, Pusher, RemoteWritePush, start_in_thread};
use torchlight_smol::Smol;
use torchlight_tests::prompb::decode_body;
use torchlight_tests::receiver::{Received, Receiver, Reply};
use torchlight_tokio::Tokio;

const WAIT: Duration = Duration::from_secs(20);

/// Closes a running pusher (after its last push) and returns that push's outcome.
type Close = Box<dyn FnOnce() -> Result<(), PushError> + Send>;

#[derive(Clone, Copy, Debug)]
enum Mode {
    Task,
    Thread,
}

fn start<R: Runtime>(mode: Mode, options: PushOptions, push: RemoteWritePush) -> Close {
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

/// Starts a pusher on one runtime.
type Start = fn(Mode, PushOptions, RemoteWritePush) -> Close;

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

fn options(receiver: &Receiver, registry: &Arc<Registry>) -> PushOptions {
    PushOptions::new(receiver.url())
        .expect("a URL")
        .with_registry(Arc::clone(registry))
        .with_interval(Duration::from_millis(200))
        .with_timeout(Duration::from_millis(500))
        .with_backoff(Duration::from_millis(20), Duration::from_millis(100))
}

/// `jobs_total` in a received push.
fn jobs(received: &Received) -> f64 {
    let request = decode_body(&received.body);
    let series = request
        .timeseries
        .iter()
        .find(|s| s.pairs().contains(&("__name__", "jobs_total")))
        .expect("jobs_total was pushed");
    series.samples[0].value
}

#[test]
fn values_arrive_with_the_required_headers() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|_| Reply::Status(204, None, ""));
        let (registry, jobs_metric) = registry();
        jobs_metric.inc_by(3);
        let close = start(
            mode,
            options(&receiver, &registry),
            RemoteWritePush::new()
                .with_external_labels([("replica", "a")])
                .unwrap(),
        );
        let first = receiver.wait_for(1, WAIT);
        assert!(!first.is_empty(), "{name} {mode:?}: nothing arrived");
        let push = &first[0];
        assert_eq!(push.method, "POST");
        assert_eq!(push.path, "/api/v1/write");
        assert_eq!(push.header("content-encoding"), Some("snappy"));
        assert_eq!(push.header("content-type"), Some("application/x-protobuf"));
        assert_eq!(
            push.header("x-prometheus-remote-write-version"),
            Some("0.1.0")
        );
        assert!(
            push.header("user-agent")
                .is_some_and(|a| a.starts_with("torchlight/"))
        );
        let request = decode_body(&push.body);
        let pairs: Vec<_> = request
            .timeseries
            .iter()
            .map(|s| (s.pairs(), s.samples[0].value))
            .collect();
        assert_eq!(
            pairs,
            [
                (vec![("__name__", "jobs_total"), ("replica", "a")], 3.0),
                (vec![("__name__", "depth"), ("replica", "a")], 7.0),
            ],
            "{name} {mode:?}"
        );
        close().expect("the last push arrives");
    });
}

#[test]
fn close_delivers_the_final_values() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|_| Reply::Status(200, None, ""));
        let (registry, jobs_metric) = registry();
        let options = options(&receiver, &registry).with_interval(Duration::from_secs(3600));
        let close = start(mode, options, RemoteWritePush::new());
        assert_eq!(receiver.wait_for(1, WAIT).len(), 1, "{name} {mode:?}");
        jobs_metric.inc_by(5);
        close().expect("the last push arrives");
        let all = receiver.wait_for(2, WAIT);
        assert_eq!(
            jobs(all.last().expect("two pushes")),
            5.0,
            "{name} {mode:?}"
        );
    });
}

/// Down (503, then connections closed mid-request), then back: the values arrive and a
/// counter never goes backwards.
#[test]
fn a_receiver_down_then_back_gets_everything() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|n| match n {
            0 | 1 => Reply::Status(503, None, "overloaded"),
            2 | 3 => Reply::Close,
            _ => Reply::Status(204, None, ""),
        });
        let (registry, jobs_metric) = registry();
        let failures = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&failures);
        let options = options(&receiver, &registry).with_report(move |outcome| {
            if let Err(error) = outcome {
                seen.lock().unwrap().push(error.to_string());
            }
        });
        let close = start(mode, options, RemoteWritePush::new());
        for _ in 0..20 {
            jobs_metric.inc();
            thread::sleep(Duration::from_millis(5));
        }
        let all = receiver.wait_for(6, WAIT);
        assert!(all.len() >= 6, "{name} {mode:?}: {} requests", all.len());
        close().expect("the last push arrives");
        let delivered: Vec<f64> = receiver.wait_for(7, WAIT)[4..].iter().map(jobs).collect();
        assert!(delivered.windows(2).all(|w| w[0] <= w[1]), "{delivered:?}");
        assert_eq!(*delivered.last().unwrap(), 20.0);
        let failures = failures.lock().unwrap();
        assert!(
            failures[0].contains("answered 503") && failures[0].contains("overloaded"),
            "{failures:?}"
        );
        assert!(failures.len() >= 4, "{failures:?}");
    });
}

#[test]
fn a_slow_receiver_times_out_and_is_retried() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|n| {
            if n == 0 {
                Reply::Silence
            } else {
                Reply::Status(204, None, "")
            }
        });
        let (registry, _) = registry();
        let failures = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&failures);
        let options = options(&receiver, &registry)
            .with_timeout(Duration::from_millis(300))
            .with_report(move |outcome| {
                if let Err(error) = outcome {
                    seen.lock().unwrap().push(error.to_string());
                }
            });
        let close = start(mode, options, RemoteWritePush::new());
        let all = receiver.wait_for(2, WAIT);
        assert_eq!(all.len(), 2, "{name} {mode:?}");
        assert!(all[1].at - all[0].at >= Duration::from_millis(300));
        assert!(failures.lock().unwrap()[0].contains("did not answer within 300ms"));
        close().expect("the last push arrives");
    });
}

#[test]
fn retry_after_is_honoured_and_a_400_is_not_retried() {
    every_runtime(|name, start, mode| {
        let receiver = Receiver::start(|n| match n {
            0 => Reply::Status(429, Some(1), "slow down"),
            1 => Reply::Status(400, None, "out of order sample\nsecond line"),
            _ => Reply::Status(204, None, ""),
        });
        let (registry, _) = registry();
        let failures = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&failures);
        let options = options(&receiver, &registry)
            .with_interval(Duration::from_millis(600))
            .with_report(move |outcome| {
                if let Err(error) = outcome {
                    seen.lock().unwrap().push(error.to_string());
                }
            });
        let close = start(mode, options, RemoteWritePush::new());
        let all = receiver.wait_for(3, WAIT);
        assert_eq!(all.len(), 3, "{name} {mode:?}");
        // The 429's `Retry-After: 1`, not the 20 ms backoff.
        assert!(
            all[1].at - all[0].at >= Duration::from_millis(950),
            "{:?}",
            all[1].at - all[0].at
        );
        // The 400 is not retried: the next request waits for the interval.
        assert!(
            all[2].at - all[1].at >= Duration::from_millis(550),
            "{:?}",
            all[2].at - all[1].at
        );
        let failures = failures.lock().unwrap();
        assert_eq!(
            failures[1],
            format!(
                "{} refused the push with 400: out of order sample",
                receiver.url()
            )
        );
        close().expect("the last push arrives");
    });
}

#[test]
fn close_gives_up_at_its_deadline() {
    let receiver = Receiver::start(|_| Reply::Status(503, None, "down"));
    let (registry, _) = registry();
    let options = options(&receiver, &registry).with_close_timeout(Duration::from_millis(300));
    let close = start::<Smol>(Mode::Thread, options, RemoteWritePush::new());
    let _ = receiver.wait_for(1, WAIT);
    let started = std::time::Instant::now();
    let error = close().expect_err("the receiver is down");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(error.to_string().contains(receiver.url()), "{error}");
}
