//! Collectors run at scrape time, on every adapter: the process metrics through the
//! reference validators and beside Python `prometheus_client`'s own process collector,
//! and asynchronous collectors that are slow, failing, panicking or cancelled, with the
//! scrape answered within their deadline in every serving mode (server, threaded,
//! embedded service).
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use torchlight::{AsyncCollector, Format, Gauge, Metric, Registry, process};
use torchlight_tests::adapter::{Adapter, AsyncStd, Config, Server, Smol, Tokio};
use torchlight_tests::client::get;
use torchlight_tests::validate::{
    openmetrics_parse, prometheus_client_process_exposition, promtool_check, text_parse,
};

fn process_registry() -> Registry {
    let registry = Registry::new();
    process::register(&registry).expect("registers");
    registry
}

fn encode(registry: &Registry, format: Format) -> String {
    let mut text = String::new();
    registry.encode(&mut text, format).expect("encodes");
    text
}

#[test]
fn process_metrics_pass_promtool_and_the_strict_parser() {
    let registry = process_registry();
    let text = encode(&registry, Format::Text);
    promtool_check(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    let open_metrics = encode(&registry, Format::OpenMetrics);
    let families =
        openmetrics_parse(&open_metrics).unwrap_or_else(|error| panic!("{error}\n{open_metrics}"));
    let names: Vec<&str> = families.iter().map(|family| family.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "process_cpu_seconds",
            "process_open_fds",
            "process_max_fds",
            "process_virtual_memory_bytes",
            "process_virtual_memory_max_bytes",
            "process_resident_memory_bytes",
            "process_start_time_seconds",
            "process_network_receive_bytes",
            "process_network_transmit_bytes",
        ]
    );
    for family in &families {
        assert_eq!(family.samples.len(), 1, "{family:?}");
        assert!(family.samples[0].value >= 0.0, "{family:?}");
    }
}

/// `(type, help)` per family name, as `prometheus_client`'s 0.0.4 parser reads them.
fn described(text: &str) -> BTreeMap<String, (String, String)> {
    text_parse(text)
        .unwrap_or_else(|error| panic!("{error}\n{text}"))
        .into_iter()
        .map(|family| (family.name, (family.type_, family.help)))
        .collect()
}

#[test]
fn process_metrics_match_python_prometheus_client() {
    let python = described(&prometheus_client_process_exposition());
    assert_eq!(
        python.len(),
        6,
        "Python's collector reads /proc here: {python:?}"
    );
    let ours = described(&encode(&process_registry(), Format::Text));
    for (name, python) in &python {
        assert_eq!(ours.get(name), Some(python), "{name}");
    }
}

// --- asynchronous collectors, per adapter -------------------------------------------

/// How long the slow collectors may take: long enough that a scrape answered before
/// it ends is visibly not waiting.
const DEADLINE: Duration = Duration::from_millis(300);

/// What the test observes of its collectors.
#[derive(Default)]
struct Observed {
    /// Runs of the good collector.
    runs: AtomicU64,
    /// Futures of the slow collector dropped (cancelled at the deadline).
    cancelled: AtomicU64,
    /// Whether a slow future is being polled right now.
    polling: AtomicBool,
}

/// A future that never finishes and counts its drop.
struct Forever(Arc<Observed>);

impl Future for Forever {
    type Output = Result<(), std::io::Error>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.polling.store(true, Ordering::Relaxed);
        Poll::Pending
    }
}

impl Drop for Forever {
    fn drop(&mut self) {
        self.0.cancelled.fetch_add(1, Ordering::Relaxed);
    }
}

/// A registry with a good collector (sets `pool_connections` to 42 and counts its
/// runs), a slow one (never finishes), a failing one and a panicking one.
fn collector_registry() -> (&'static Registry, Arc<Observed>) {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let observed = Arc::new(Observed::default());
    let pool = Arc::new(Metric::new(
        "pool_connections",
        "Connections.",
        Gauge::new(),
    ));
    registry.register_owned(Arc::clone(&pool)).expect("gauge");
    let good = Arc::clone(&observed);
    registry
        .register_async(AsyncCollector::new("good", move || {
            let (pool, good) = (Arc::clone(&pool), Arc::clone(&good));
            async move {
                good.runs.fetch_add(1, Ordering::Relaxed);
                pool.set(42);
                Ok::<(), std::io::Error>(())
            }
        }))
        .expect("good");
    let slow = Arc::clone(&observed);
    registry
        .register_async(
            AsyncCollector::new("slow", move || Forever(Arc::clone(&slow))).with_timeout(DEADLINE),
        )
        .expect("slow");
    registry
        .register_async(AsyncCollector::new("failing", || async {
            Err::<(), _>(std::io::Error::other("backend down"))
        }))
        .expect("failing");
    registry
        .register_async(AsyncCollector::new("panicking", || async {
            if true {
                panic!("collector bug (expected by the test)");
            }
            Ok::<(), std::io::Error>(())
        }))
        .expect("panicking");
    (registry, observed)
}

/// Scrapes `server` and checks the answer after the `scrape`-th run of each collector.
fn check_scrape(server: &dyn Server, observed: &Observed, scrape: u64) {
    let started = Instant::now();
    let reply = get(&format!("{}metrics", server.url()), &[]);
    let elapsed = started.elapsed();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        elapsed >= DEADLINE && elapsed < DEADLINE + Duration::from_secs(5),
        "answered after {elapsed:?}, deadline {DEADLINE:?}"
    );
    let text = reply.text();
    assert!(text.contains("\npool_connections 42\n"), "{text}");
    for (collector, reason, count) in [
        ("good", "timeout", 0),
        ("good", "error", 0),
        ("good", "panic", 0),
        ("slow", "timeout", scrape),
        ("slow", "error", 0),
        ("failing", "error", scrape),
        ("failing", "timeout", 0),
        ("panicking", "panic", scrape),
    ] {
        let line = format!(
            "torchlight_async_collector_failures_total{{collector=\"{collector}\",reason=\"{reason}\"}} {count}\n"
        );
        assert!(text.contains(&line), "missing {line:?} in:\n{text}");
    }
    // Once per scrape; the slow run was dropped when its deadline fired.
    assert_eq!(observed.runs.load(Ordering::Relaxed), scrape);
    assert!(observed.polling.load(Ordering::Relaxed));
    assert_eq!(observed.cancelled.load(Ordering::Relaxed), scrape);
    promtool_check(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
}

fn async_collectors_are_skipped_counted_and_never_hang<A: Adapter>() {
    for mode in ["server", "threaded", "embedded"] {
        let (registry, observed) = collector_registry();
        let mut server = match mode {
            "server" => A::start(Config::loopback(registry)),
            "threaded" => A::start_in_thread(Config::loopback(registry)),
            _ => Ok(A::embed(registry)),
        }
        .unwrap_or_else(|error| panic!("{} {mode}: {error}", A::NAME));
        check_scrape(&*server, &observed, 1);
        check_scrape(&*server, &observed, 2);
        server.close();
    }
}

fn process_metrics_are_served<A: Adapter>() {
    let registry: &'static Registry = Box::leak(Box::new(process_registry()));
    let mut server = A::start(Config::loopback(registry)).expect("starts");
    let reply = get(
        &format!("{}metrics", server.url()),
        &[("accept", "application/openmetrics-text; version=1.0.0")],
    );
    assert_eq!(reply.status, 200);
    let families = openmetrics_parse(&reply.text()).expect("parses");
    assert_eq!(families.len(), 9);
    server.close();
}

macro_rules! per_adapter {
    ($module:ident, $adapter:ty) => {
        mod $module {
            #[test]
            fn async_collectors_are_skipped_counted_and_never_hang() {
                super::async_collectors_are_skipped_counted_and_never_hang::<$adapter>();
            }

            #[test]
            fn process_metrics_are_served() {
                super::process_metrics_are_served::<$adapter>();
            }
        }
    };
}

per_adapter!(tokio, super::Tokio);
per_adapter!(smol, super::Smol);
per_adapter!(async_std, super::AsyncStd);

#[test]
fn tokio_runtime_metrics_show_the_workers_and_tasks() {
    let runtime = ::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(3)
        .build()
        .expect("a runtime");
    for _ in 0..5 {
        runtime.spawn(std::future::pending::<()>());
    }
    let registry = Registry::new();
    torchlight_tokio::register_runtime_metrics(&registry, runtime.handle()).expect("registers");
    let text = encode(&registry, Format::Text);
    promtool_check(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    assert!(text.contains("\ntokio_workers 3\n"), "{text}");
    assert!(text.contains("\ntokio_alive_tasks 5\n"), "{text}");
    assert!(text.contains("\ntokio_global_queue_depth "), "{text}");
    for family in [
        "tokio_worker_busy_seconds_total",
        "tokio_worker_parks_total",
    ] {
        let series = text
            .lines()
            .filter(|line| line.starts_with(&format!("{family}{{worker=")))
            .count();
        assert_eq!(series, 3, "{family} in:\n{text}");
    }
    assert!(
        torchlight_tokio::register_runtime_metrics(&registry, runtime.handle()).is_err(),
        "the same names twice clash"
    );
    let after = encode(&registry, Format::Text);
    assert_eq!(
        after.lines().count(),
        text.lines().count(),
        "nothing more registered"
    );
    runtime.shutdown_background();
}
