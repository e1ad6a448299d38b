//! Writers record exemplars while a reader encodes OpenMetrics thousands of times:
//! every exemplar line must be whole (the labels of the observation whose value it
//! carries, never a mix) and counted in its own scrape (the protocol at the top of
//! `core/src/exemplar.rs`). The writers keep going until the reader is done, so every
//! scrape races them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use torchlight::{Buckets, ExemplarCounter, ExemplarHistogram, Format, Metric, Registry};

static BOUNDS: Buckets<3> = Buckets::new([1.0, 2.0, 3.0]);
static LATENCY: Metric<ExemplarHistogram<3>> = Metric::new(
    "stress_seconds",
    "Stress.",
    ExemplarHistogram::with_buckets(&BOUNDS),
);
static EVENTS: Metric<ExemplarCounter> = Metric::new("events", "Events.", ExemplarCounter::new());

const WRITERS: u64 = 3;
const ENCODES: usize = 3_000;

/// Writer `w`'s trace id: 40 copies of one letter (five words), so a torn read mixes
/// letters.
fn trace(w: u64) -> String {
    char::from(b'a' + w as u8).to_string().repeat(40)
}

/// Sets its flag when dropped: stops the writers also when an assertion fails.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Checks the exemplar on `line`, if any, and returns its writer and the line's value.
fn check(line: &str) -> Option<(u64, f64)> {
    let (sample, exemplar) = line.split_once(" # ")?;
    let value: f64 = sample.rsplit(' ').next()?.parse().expect(line);
    let rest = exemplar.strip_prefix("{trace_id=\"").expect(line);
    let (id, rest) = rest.split_once("\"} ").expect(line);
    let first = id.as_bytes()[0];
    assert!(
        id.bytes().all(|b| b == first) && id.len() == 40,
        "torn: {line}"
    );
    let w = u64::from(first - b'a');
    let mut fields = rest.split(' ');
    let observed: f64 = fields.next().expect(line).parse().expect(line);
    // Writer w observes w + 1 and increments by w + 1.
    assert_eq!(
        observed,
        (w + 1) as f64,
        "labels of one, value of another: {line}"
    );
    // With `std` every exemplar is stamped with the wall clock; without, none is.
    assert_eq!(
        fields.next().is_some(),
        cfg!(feature = "std"),
        "timestamp: {line}"
    );
    Some((w, value))
}

#[test]
fn every_exemplar_is_whole_and_counted() {
    let registry = Registry::new();
    registry.register(&LATENCY).unwrap();
    registry.register(&EVENTS).unwrap();
    let done = AtomicBool::new(false);

    thread::scope(|scope| {
        for w in 0..WRITERS {
            let done = &done;
            scope.spawn(move || {
                let labels = [("trace_id", trace(w))];
                let labels = [("trace_id", labels[0].1.as_str())];
                let mut first = true;
                while first || !done.load(Ordering::Relaxed) {
                    first = false;
                    LATENCY
                        .observe_with_exemplar((w + 1) as f64, &labels)
                        .unwrap();
                    EVENTS.inc_by_with_exemplar(w + 1, &labels).unwrap();
                }
            });
        }

        let _stop = StopOnDrop(&done);
        let mut text = String::with_capacity(4096);
        let mut seen = 0;
        for _ in 0..ENCODES {
            text.clear();
            registry.encode(&mut text, Format::OpenMetrics).unwrap();
            for line in text.lines() {
                let Some((w, value)) = check(line) else {
                    continue;
                };
                seen += 1;
                if line.starts_with("stress_seconds_bucket") {
                    // Its bucket (le = w + 1) counts at least the exemplar's observation.
                    let le = format!("le=\"{}.0\"", w + 1);
                    assert!(line.contains(&le), "exemplar in the wrong bucket: {line}");
                    assert!(value >= 1.0, "exemplar shown, not counted: {line}");
                } else {
                    assert!(value >= (w + 1) as f64, "not counted: {line}");
                }
            }
        }
        assert!(seen > 0, "no exemplar was ever exposed");
    });
}
