//! Writers observe while a reader encodes the histogram thousands of times; every
//! exposition must be self-consistent and contain the one before it (the invariant in
//! `core/src/histogram.rs`). The writers keep observing until the reader is done, so
//! every scrape races them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use torchlight::{Buckets, Format, Histogram, Metric, Registry};

static BOUNDS: Buckets<3> = Buckets::new([1.0, 2.0, 3.0]);
static LATENCY: Metric<Histogram<3>> = Metric::new(
    "stress_seconds",
    "Stress.",
    Histogram::with_buckets(&BOUNDS),
);

const WRITERS: u64 = 3;
const ENCODES: usize = 5_000;

/// The value of `name` (a full sample name with labels) in a text 0.0.4 exposition.
fn sample(text: &str, name: &str) -> f64 {
    let line = text
        .lines()
        .find(|line| line.starts_with(name))
        .expect(name);
    line[name.len()..].trim().parse().expect(line)
}

/// Sets its flag when dropped: stops the writers also when an assertion fails (a panic
/// unwinding out of the reader would otherwise wait forever for them).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Writer `w`'s `i`-th value: an integer 1..=4, so every partial sum is exact.
fn value(w: u64, i: u64) -> u64 {
    (i + w) % 4 + 1
}

/// Runs [`WRITERS`] writers, each passing its values to `observe` until `read` is
/// done (at least one each); returns how many each observed.
fn under_load(observe: impl Fn(f64) + Sync, read: impl FnOnce()) -> Vec<u64> {
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (done, observe) = (&done, &observe);
                scope.spawn(move || {
                    let mut i = 0;
                    // At least one observation each, so the totals are not trivial.
                    while i == 0 || !done.load(Ordering::Relaxed) {
                        observe(value(w, i) as f64);
                        i += 1;
                    }
                    i
                })
            })
            .collect();
        let stop = StopOnDrop(&done);
        read();
        drop(stop);
        writers
            .into_iter()
            .map(|w| w.join().expect("a writer panicked"))
            .collect()
    })
}

#[test]
fn every_scrape_is_consistent() {
    let registry = Registry::new();
    registry.register(&LATENCY).unwrap();
    let observed = under_load(
        |value| LATENCY.observe(value),
        || {
            let mut text = String::with_capacity(4096);
            let mut previous = [0.0; 4];
            for _ in 0..ENCODES {
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
                // Bucket k (le=k) holds exactly the observations equal to k, and the rest
                // are 4s: the sum is determined by the buckets.
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
            }
        },
    );

    // The last snapshot holds exactly what the writers observed.
    let mut per_value = [0u64; 5];
    for (w, n) in (0..WRITERS).zip(&observed) {
        for i in 0..*n {
            per_value[value(w, i) as usize] += 1;
        }
    }
    let last = LATENCY.snapshot();
    let total: u64 = observed.iter().sum();
    assert_eq!(last.count(), total);
    let [_, ones, twos, threes, fours] = per_value;
    assert_eq!(
        *last.cumulative(),
        [ones, ones + twos, ones + twos + threes]
    );
    let sum = ones + 2 * twos + 3 * threes + 4 * fours;
    assert_eq!(last.sum(), sum as f64);
}

static NATIVE: Metric<torchlight::NativeHistogram<4, 3>> = Metric::new(
    "stress_native_seconds",
    "Stress.",
    torchlight::NativeHistogram::with_buckets(2.0, &BOUNDS),
);

/// The native histogram under the same load: every snapshot's buckets and zero bucket
/// add up to its count, its classic buckets end at it, its sum is the sum of what it
/// counts (integers, so exact: at least count and at most 4·count), and it contains
/// the snapshot before it. A table of 4 slots for the 3 buckets of 1..=4 (schema 0:
/// (0.5, 1], (1, 2], (2, 4]) keeps the schema.
#[test]
fn every_native_snapshot_is_consistent() {
    let observed = under_load(
        |value| NATIVE.observe(value),
        || {
            let mut last = (0, 0.0);
            for _ in 0..ENCODES {
                let snapshot = NATIVE.snapshot();
                let count = snapshot.count();
                // Classic: le=k holds the observations equal to k, the rest are 4s.
                let [le1, le2, le3] = *snapshot.cumulative();
                assert!(le1 <= le2 && le2 <= le3 && le3 <= count, "{snapshot:?}");
                let (ones, twos, threes, fours) = (le1, le2 - le1, le3 - le2, count - le3);
                // Native, schema 0: 1 ends bucket 0, 2 ends bucket 1, 3 and 4 are in bucket 2.
                let native: Vec<_> = snapshot.positive().collect();
                let expected: Vec<_> = [(0, ones), (1, twos), (2, threes + fours)]
                    .into_iter()
                    .filter(|(_, n)| *n != 0)
                    .collect();
                assert_eq!(native, expected, "{snapshot:?}");
                assert_eq!(snapshot.zero_count(), 0);
                #[allow(clippy::cast_precision_loss)]
                let sum = (ones + 2 * twos + 3 * threes + 4 * fours) as f64;
                assert_eq!(snapshot.sum(), sum, "{snapshot:?}");
                assert_eq!(snapshot.schema(), 0);
                assert!(
                    count >= last.0 && snapshot.sum() >= last.1,
                    "{snapshot:?} after {last:?}"
                );
                last = (count, snapshot.sum());
            }
        },
    );
    let snapshot = NATIVE.snapshot();
    assert_eq!(snapshot.count(), observed.iter().sum::<u64>());
    let expected: u64 = (0..WRITERS)
        .zip(&observed)
        .map(|(w, n)| (0..*n).map(|i| value(w, i)).sum::<u64>())
        .sum();
    #[allow(clippy::cast_precision_loss)]
    let expected = expected as f64;
    assert_eq!(snapshot.sum(), expected);
}

static REDUCED: Metric<torchlight::NativeHistogram<2, 3>> = Metric::new(
    "stress_reduced_seconds",
    "Stress.",
    torchlight::NativeHistogram::with_buckets(2.0, &BOUNDS),
);

/// The same load into a histogram with room for 2 buckets: 1..=4 needs 3 at schema 0,
/// so the writers race to claim keys and reduce, and the snapshots race the claims.
/// Each is consistent at the schema it shows (−1 once the third bucket appeared:
/// (1/4, 1] and (1, 4]), never goes back to schema 0 after −1, and contains the one
/// before it.
#[test]
fn every_reduced_native_snapshot_is_consistent() {
    let observed = under_load(
        |value| REDUCED.observe(value),
        || {
            let (mut last, mut reduced) = (0, false);
            for _ in 0..ENCODES {
                let snapshot = REDUCED.snapshot();
                let count = snapshot.count();
                let [le1, le2, le3] = *snapshot.cumulative();
                assert!(le1 <= le2 && le2 <= le3 && le3 <= count, "{snapshot:?}");
                let (ones, twos, threes, fours) = (le1, le2 - le1, le3 - le2, count - le3);
                let expected: Vec<_> = match snapshot.schema() {
                    0 => {
                        assert!(!reduced, "schema 0 after -1: {snapshot:?}");
                        vec![(0, ones), (1, twos), (2, threes + fours)]
                    }
                    -1 => {
                        reduced = true;
                        vec![(0, ones), (1, twos + threes + fours)]
                    }
                    schema => panic!("schema {schema}: {snapshot:?}"),
                };
                let expected: Vec<_> = expected.into_iter().filter(|(_, n)| *n != 0).collect();
                assert_eq!(
                    snapshot.positive().collect::<Vec<_>>(),
                    expected,
                    "{snapshot:?}"
                );
                assert!(expected.len() <= 2, "{snapshot:?}");
                #[allow(clippy::cast_precision_loss)]
                let sum = (ones + 2 * twos + 3 * threes + 4 * fours) as f64;
                assert_eq!(snapshot.sum(), sum, "{snapshot:?}");
                assert!(count >= last, "{snapshot:?} after {last}");
                last = count;
            }
        },
    );
    let snapshot = REDUCED.snapshot();
    assert_eq!(snapshot.count(), observed.iter().sum::<u64>());
    assert_eq!(snapshot.schema(), -1);
}
