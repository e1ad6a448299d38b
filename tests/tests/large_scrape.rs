//! A scrape of 100 000 series does not block the adapter's runtime: while it encodes
//! (on the blocking pool), the same server keeps answering other requests.
//!
//! The harness gives tokio one worker thread and smol its default single executor
//! thread, so an encode on the executor would stall every other request. 100 000
//! series encode in about 15–25 ms in a release build (2.2 MB of text, 0.45 MB
//! gzipped) and several times that in a debug build; the collector also sleeps
//! [`EXTRA`] so that the check does not depend on how fast this machine is.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use torchlight::{Collect, Encoder, Metric, MetricType, Registry};
use torchlight_tests::adapter::{Adapter, AsyncStd, Config, Smol, Tokio};
use torchlight_tests::client::get;

/// How many series the large registry holds (the figure).
const SERIES: usize = 100_000;

/// Added to the encode time: a stand-in for a slower machine or a bigger registry.
const EXTRA: Duration = Duration::from_millis(250);

/// A gauge family of [`SERIES`] series `big{id="<n>"}`, slow by [`EXTRA`].
struct Wide;

impl Collect for Wide {
    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }

    fn label_names(&self) -> &[&'static str] {
        &["id"]
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> std::fmt::Result {
        thread::sleep(EXTRA);
        let mut id = String::new();
        for n in 0..SERIES {
            id.clear();
            write!(id, "{n}")?;
            #[allow(clippy::cast_precision_loss)]
            encoder.gauge(&[("id", id.as_str())], n as f64)?;
        }
        Ok(())
    }
}

fn large_registry() -> &'static Registry {
    static WIDE: Metric<Wide> = Metric::new("big", "One hundred thousand series.", Wide);
    static REGISTRY: Registry = Registry::new();
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| REGISTRY.register(&WIDE).expect("registers once"));
    &REGISTRY
}

fn large_scrape_does_not_block<A: Adapter>() {
    let mut server =
        A::start(Config::loopback(large_registry())).unwrap_or_else(|error| panic!("{error}"));
    let url = server.url();
    let done = Arc::new(AtomicBool::new(false));
    let completions = Arc::new(Mutex::new(Vec::new()));
    let pinger = {
        let (url, done, completions) = (url.clone(), Arc::clone(&done), Arc::clone(&completions));
        thread::spawn(move || {
            // ORDERING: Relaxed: a stop flag guarding no data; `join` synchronizes.
            while !done.load(Ordering::Relaxed) {
                assert_eq!(get(&url, &[]).status, 200);
                completions
                    .lock()
                    .expect("not poisoned")
                    .push(Instant::now());
                thread::sleep(Duration::from_millis(5));
            }
        })
    };
    thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    let reply = get(&format!("{url}metrics"), &[]);
    let finished = Instant::now();
    // ORDERING: Relaxed: see the load above.
    done.store(true, Ordering::Relaxed);
    pinger.join().expect("pinger");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text().lines().count(), SERIES + 2);

    let scrape = finished - started;
    let mut marks: Vec<Instant> = completions
        .lock()
        .expect("not poisoned")
        .iter()
        .copied()
        .filter(|t| *t > started && *t < finished)
        .collect();
    marks.insert(0, started);
    marks.push(finished);
    let longest_gap = marks
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    println!(
        "{}: scrape of {SERIES} series took {scrape:?}; longest wait for `/` meanwhile {longest_gap:?}",
        A::NAME
    );
    assert!(
        longest_gap < scrape / 2,
        "{}: `/` went unanswered for {longest_gap:?} of a {scrape:?} scrape",
        A::NAME
    );
    server.close();
}

#[test]
fn tokio() {
    large_scrape_does_not_block::<Tokio>();
}

#[test]
fn smol() {
    large_scrape_does_not_block::<Smol>();
}

#[test]
fn async_std() {
    large_scrape_does_not_block::<AsyncStd>();
}
