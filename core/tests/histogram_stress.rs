//! Writers observe while a reader encodes the histogram thousands of times; every
//! exposition must be self-consistent and contain the one before it (the invariant in
//! `core/src/histogram.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use torchlight::{Buckets, Format, Histogram, Metric, Registry};

static BOUNDS: Buckets<3> = Buckets::new([1.0, 2.0, 3.0]);
static LATENCY: Metric<Histogram<3>> = Metric::new(
    "stress_seconds",
    "Stress.",
    Histogram::with_buckets(&BOUNDS),
);

const WRITERS: usize = 4;
const OBSERVATIONS: u64 = 200_000;
const ENCODES: usize = 5_000;

/// The value of `name` (a full sample name with labels) in a text 0.0.4 exposition.
fn sample(text: &str, name: &str) -> f64 {
    let line = text
        .lines()
        .find(|line| line.starts_with(name))
        .expect(name);
    line[name.len()..].trim().parse().expect(line)
}

#[test]
fn every_scrape_is_consistent() {
    let registry = Registry::new();
    registry.register(&LATENCY).unwrap();
    let done = AtomicBool::new(false);
    // Set by the reader once it saw some but not all observations; the first writer
    // waits for it halfway, so scrapes do race the observations.
    let overlapped = AtomicBool::new(false);
    let total = WRITERS as u64 * OBSERVATIONS;

    thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let overlapped = &overlapped;
                scope.spawn(move || {
                    // Every value is an integer 1..=4, so every partial sum is exact.
                    for i in 0..OBSERVATIONS {
                        if w == 0 && i == OBSERVATIONS / 2 {
                            while !overlapped.load(Ordering::Relaxed) {
                                thread::yield_now();
                            }
                        }
                        LATENCY.observe(((i + w as u64) % 4 + 1) as f64);
                    }
                })
            })
            .collect();

        let reader = scope.spawn(|| {
            let mut text = String::with_capacity(4096);
            let mut encodes = 0;
            let mut previous = [0.0; 4];
            while encodes < ENCODES || !done.load(Ordering::Relaxed) {
                text.clear();
                registry.encode(&mut text, Format::Text).unwrap();
                let le = |bound: &str| {
                    sample(&text, &format!("stress_seconds_bucket{{le=\"{bound}\"}}"))
                };
                let (b1, b2, b3, inf) = (le("1"), le("2"), le("3"), le("+Inf"));
                let count = sample(&text, "stress_seconds_count");
                let sum = sample(&text, "stress_seconds_sum");
                assert!(b1 <= b2 && b2 <= b3 && b3 <= inf, "not cumulative:\n{text}");
                assert_eq!(inf, count, "+Inf bucket != _count:\n{text}");
                // Bucket k (le=k) holds exactly the observations equal to k, and the
                // rest are 4s: the sum is determined by the buckets.
                let expected_sum = b1 + 2.0 * (b2 - b1) + 3.0 * (b3 - b2) + 4.0 * (inf - b3);
                assert_eq!(
                    sum, expected_sum,
                    "_sum does not belong to the buckets:\n{text}"
                );
                // Later scrapes contain earlier ones.
                let now = [b1, b2, b3, inf];
                assert!(
                    previous
                        .iter()
                        .zip(&now)
                        .all(|(before, after)| before <= after),
                    "went back from {previous:?}:\n{text}"
                );
                previous = now;
                if count > 0.0 && count < total as f64 {
                    overlapped.store(true, Ordering::Relaxed);
                }
                encodes += 1;
            }
            encodes
        });

        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        assert!(reader.join().unwrap() >= ENCODES);
    });

    let last = LATENCY.snapshot();
    assert_eq!(last.count(), total);
    assert_eq!(*last.cumulative(), [total / 4, total / 2, total / 4 * 3]);
    assert_eq!(last.sum(), 2.5 * total as f64);
}
