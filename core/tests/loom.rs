//! Model check of the split-shard protocol (`core/src/split.rs`) of the classic and the
//! native histogram with loom.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p torchlight --test loom --release`
//! (`cargo xtask ci` does). Every interleaving of concurrent observers and collectors,
//! up to the preemption bound, must produce only consistent snapshots: cumulative,
//! monotone buckets, the `+Inf` bucket (`count`) at least the last finite bucket, a
//! sum that is the sum of exactly the observations the buckets count, and later
//! snapshots that contain earlier ones. Under loom a collector parks after one failed
//! read, so the parking and waking path is explored too; a lost wake-up is a loom
//! deadlock.
//!
//! Exemplar slots (`core/src/exemplar/slot.rs`) are checked here too: a scrape racing
//! two writers reads each exemplar whole (labels and value of one observation, never a
//! mix, though the labels span two words), and the observation of every exemplar it
//! reads is already counted.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use torchlight::{
    Buckets, Counter, Exemplar, ExemplarCounter, ExemplarHistogram, ExemplarNativeHistogram,
    Format, Histogram, Metric, NativeHistogram, NativeSnapshot, Registry, Snapshot, Summary,
};

static BOUNDS: Buckets<2> = Buckets::new([1.0, 2.0]);

/// Observations are 0.5 (bucket le=1), 1.5 (le=2) and 4.0 (only +Inf): distinct powers
/// of two apart, so the sum says exactly which of them a snapshot contains.
const VALUES: [f64; 3] = [0.5, 1.5, 4.0];

/// Checks `snapshot` and returns which of [`VALUES`] it contains.
fn check(snapshot: &Snapshot<2>, observed_by: &[usize]) -> [bool; 3] {
    check_parts(
        *snapshot.cumulative(),
        snapshot.count(),
        snapshot.sum(),
        observed_by,
        snapshot,
    )
}

/// [`check`] on a snapshot's parts; `snapshot` is what a failure prints.
fn check_parts(
    [le1, le2]: [u64; 2],
    count: u64,
    sum: f64,
    observed_by: &[usize],
    snapshot: &dyn std::fmt::Debug,
) -> [bool; 3] {
    assert!(le1 <= le2 && le2 <= count, "{snapshot:?}");
    // Which observations does the sum say are in the snapshot?
    let mut members = [false; 3];
    let mut rest = sum;
    for (i, value) in VALUES.iter().enumerate().rev() {
        if rest >= *value {
            rest -= value;
            members[i] = true;
        }
    }
    assert_eq!(rest, 0.0, "sum {sum} is not a sum of distinct observations");
    let included = |i: usize| observed_by.contains(&i) && members[i];
    let expected = members.iter().filter(|m| **m).count() as u64;
    assert_eq!(count, expected, "count and sum disagree: {snapshot:?}");
    assert_eq!(
        le1,
        u64::from(included(0)),
        "le=1 disagrees with sum: {snapshot:?}"
    );
    assert_eq!(
        le2,
        u64::from(included(0)) + u64::from(included(1)),
        "{snapshot:?}"
    );
    members
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    // The collector spins (yielding) on the collection lock and on in-flight observers.
    builder.max_branches = 100_000;
    builder.check(f);
}

#[test]
fn snapshot_during_two_observations() {
    model(|| {
        let histogram = Arc::new(Histogram::with_buckets(&BOUNDS));
        let observers: Vec<_> = [0, 2]
            .into_iter()
            .map(|i| {
                let histogram = histogram.clone();
                thread::spawn(move || histogram.observe(VALUES[i]))
            })
            .collect();
        let _ = check(&histogram.snapshot(), &[0, 2]);
        for observer in observers {
            observer.join().unwrap();
        }
        let last = histogram.snapshot();
        let _ = check(&last, &[0, 2]);
        assert_eq!(last.count(), 2);
    });
}

#[test]
fn two_collectors_and_an_observer() {
    model(|| {
        let histogram = Arc::new(Histogram::with_buckets(&BOUNDS));
        let observer = {
            let histogram = histogram.clone();
            thread::spawn(move || {
                histogram.observe(VALUES[1]);
                histogram.observe(VALUES[2]);
            })
        };
        let collector = {
            let histogram = histogram.clone();
            thread::spawn(move || {
                let _ = check(&histogram.snapshot(), &[1, 2]);
            })
        };
        let _ = check(&histogram.snapshot(), &[1, 2]);
        observer.join().unwrap();
        collector.join().unwrap();
        let last = histogram.snapshot();
        assert_eq!(
            (last.count(), last.sum(), *last.cumulative()),
            (2, 5.5, [0, 1])
        );
    });
}

#[test]
fn later_snapshots_contain_earlier_ones() {
    model(|| {
        let histogram = Arc::new(Histogram::with_buckets(&BOUNDS));
        let observer = {
            let histogram = histogram.clone();
            thread::spawn(move || {
                histogram.observe(VALUES[0]);
                histogram.observe(VALUES[2]);
            })
        };
        let first = check(&histogram.snapshot(), &[0, 2]);
        let second = check(&histogram.snapshot(), &[0, 2]);
        for (before, after) in first.iter().zip(&second) {
            assert!(!before || *after, "{first:?} then {second:?}");
        }
        observer.join().unwrap();
        // Everything completed before a snapshot starts is in it.
        assert_eq!(check(&histogram.snapshot(), &[0, 2]), [true, false, true]);
    });
}

#[test]
fn a_summary_is_never_torn() {
    model(|| {
        let summary = Arc::new(Summary::new());
        let observer = {
            let summary = summary.clone();
            thread::spawn(move || {
                summary.observe(1.0);
                summary.observe(2.0);
            })
        };
        let snapshot = summary.snapshot();
        // 1.0 and 2.0 make each count's sum unique.
        let expected = [0.0, 1.0, 3.0][snapshot.count() as usize];
        assert_eq!(snapshot.sum(), expected, "{snapshot:?}");
        observer.join().unwrap();
        let last = summary.snapshot();
        assert_eq!((last.count(), last.sum()), (2, 3.0));
    });
}

/// A registration racing a scrape: the scrape must see a prefix of the registration
/// order, every node it reaches fully written. Loom's cell reports the entry's write
/// racing its read if a link is published without `Release` or followed without
/// `Acquire`.
#[test]
fn registration_racing_a_scrape() {
    // How many explored executions scraped while registration was under way: the race
    // this model is about (a plain `std` atomic, outside the model).
    static RACED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    model(|| {
        // Leaked: registration takes `&'static` metrics, as it does for `static`s.
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        let first: &'static Metric<Counter> =
            Box::leak(Box::new(Metric::new("first", "First.", Counter::new())));
        let second: &'static Metric<Counter> =
            Box::leak(Box::new(Metric::new("second", "Second.", Counter::new())));
        let scraper = thread::spawn(move || {
            let mut text = String::new();
            registry.encode(&mut text, Format::Text).unwrap();
            text
        });
        registry.register(first).unwrap();
        registry.register(second).unwrap();
        const FIRST: &str =
            "# HELP first_total First.\n# TYPE first_total counter\nfirst_total 0\n";
        const SECOND: &str =
            "# HELP second_total Second.\n# TYPE second_total counter\nsecond_total 0\n";
        let prefixes = [String::new(), FIRST.to_owned(), format!("{FIRST}{SECOND}")];
        let text = scraper.join().unwrap();
        assert!(
            prefixes.contains(&text),
            "not a prefix of the registrations:\n{text}"
        );
        if !text.is_empty() {
            RACED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let mut text = String::new();
        registry.encode(&mut text, Format::Text).unwrap();
        assert_eq!(text, prefixes[2]);
    });
    assert!(
        RACED.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "no execution raced"
    );
}

/// Writer `n`'s labels: twelve copies of one letter, so they span two words and a torn
/// read mixes letters.
const TRACES: [&str; 3] = ["", "aaaaaaaaaaaa", "bbbbbbbbbbbb"];

/// Checks that `exemplar` is whole: the labels of the writer whose value it carries.
fn whole(exemplar: &Exemplar) -> u64 {
    let n = exemplar.value() as u64;
    assert!(n == 1 || n == 2, "{exemplar:?}");
    let labels: Vec<_> = exemplar.labels().collect();
    assert_eq!(
        labels,
        [("trace_id", TRACES[n as usize])],
        "torn: {exemplar:?}"
    );
    n
}

#[test]
fn a_counter_exemplar_is_read_whole() {
    model(|| {
        let counter = Arc::new(ExemplarCounter::new());
        let writers: Vec<_> = [1u64, 2]
            .into_iter()
            .map(|n| {
                let counter = counter.clone();
                thread::spawn(move || {
                    counter
                        .inc_by_with_exemplar(n, &[("trace_id", TRACES[n as usize])])
                        .unwrap();
                })
            })
            .collect();
        if let Some(exemplar) = counter.exemplar() {
            let n = whole(&exemplar);
            // 1 and 2 are distinct bits: the count includes the exemplar's increment.
            assert_ne!(counter.get() & n, 0, "exemplar {n} not counted");
        }
        for writer in writers {
            writer.join().unwrap();
        }
        // At least one writer kept its exemplar (the other may have found it busy).
        whole(&counter.exemplar().expect("an exemplar"));
        assert_eq!(counter.get(), 3);
    });
}

#[test]
fn a_bucket_exemplar_is_counted_in_the_scrape_that_shows_it() {
    // Executions whose scrape saw the exemplar while the writer ran (outside the model).
    static SHOWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    model(|| {
        let histogram = Arc::new(ExemplarHistogram::with_buckets(&BOUNDS));
        let scraper = {
            let histogram = histogram.clone();
            thread::spawn(move || {
                // The order `encode_series` reads in: exemplars, then the snapshot.
                let exemplar = histogram.exemplar(0);
                let snapshot = histogram.snapshot();
                if let Some(exemplar) = exemplar {
                    assert_eq!(exemplar.value(), 0.5);
                    assert_eq!(snapshot.cumulative()[0], 1, "exemplar shown, not counted");
                    SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        };
        histogram
            .observe_with_exemplar(0.5, &[("trace_id", TRACES[1])])
            .unwrap();
        scraper.join().unwrap();
        assert!(histogram.exemplar(0).is_some());
        assert_eq!(histogram.exemplar(1), None);
    });
    assert!(
        SHOWN.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "no execution showed the exemplar during the race"
    );
}

#[test]
fn a_native_exemplar_is_counted_in_the_scrape_that_shows_it() {
    // Executions whose scrape saw the exemplar while the writer ran (outside the model).
    static SHOWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    model(|| {
        // One native slot, and `+Inf`'s as the only classic one.
        let histogram = Arc::new(ExemplarNativeHistogram::<1, 0, 1>::new(2.0));
        let scraper = {
            let histogram = histogram.clone();
            thread::spawn(move || {
                // The order `encode_series` reads in: exemplars, then the snapshot.
                let native = histogram.exemplars().next();
                let classic = histogram.exemplar(0);
                let snapshot = histogram.snapshot();
                for exemplar in native.iter().chain(&classic) {
                    assert_eq!(whole(exemplar), 1);
                    assert_eq!(snapshot.count(), 1, "exemplar shown, not counted");
                    SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        };
        // Value 1: `whole` reads the trace id from it.
        histogram
            .observe_with_exemplar(1.0, &[("trace_id", TRACES[1])])
            .unwrap();
        scraper.join().unwrap();
        assert!(histogram.exemplars().next().is_some());
        assert!(histogram.exemplar(0).is_some());
    });
    assert!(
        SHOWN.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "no execution showed an exemplar during the race"
    );
}

/// A native histogram with a bound of one bucket (four table slots, two counters) and
/// two classic buckets, at schema 0: the first bucket of [`VALUES`] observed takes a
/// counter at schema 0; a second one no longer fits, so its observer chooses a reduced
/// schema (0.5 and 1.5 fit nowhere: −4) and claims the other counter there; a third
/// finds every counter taken and folds into a key that covers it (4.0 and 1.5 share
/// a schema −4 bucket), setting the schema cap. The model covers those claims, the
/// reduced lookups, the cap a snapshot reads and the classic counters in one shard
/// protocol.
fn native() -> Arc<NativeHistogram<1, 2>> {
    Arc::new(NativeHistogram::with_buckets(2.0, &BOUNDS))
}

/// Checks a native snapshot as [`check`] does a classic one: its buckets and zero
/// bucket account for its count, its sum for exactly those observations, its classic
/// buckets for the same ones.
fn check_native(snapshot: &NativeSnapshot<1, 2>, observed_by: &[usize]) -> [bool; 3] {
    let members = check_parts(
        *snapshot.cumulative(),
        snapshot.count(),
        snapshot.sum(),
        observed_by,
        snapshot,
    );
    let native: u64 = snapshot.positive().map(|(_, n)| n).sum();
    assert_eq!(
        native + snapshot.zero_count(),
        snapshot.count(),
        "native buckets and count disagree: {snapshot:?}"
    );
    members
}

#[test]
fn native_snapshot_during_two_observations() {
    model(|| {
        let histogram = native();
        let observers: Vec<_> = [0, 2]
            .into_iter()
            .map(|i| {
                let histogram = histogram.clone();
                thread::spawn(move || histogram.observe(VALUES[i]))
            })
            .collect();
        let _ = check_native(&histogram.snapshot(), &[0, 2]);
        for observer in observers {
            observer.join().unwrap();
        }
        let last = histogram.snapshot();
        assert_eq!(check_native(&last, &[0, 2]), [true, false, true]);
    });
}

#[test]
fn native_later_snapshots_contain_earlier_ones() {
    model(|| {
        let histogram = native();
        let observer = {
            let histogram = histogram.clone();
            thread::spawn(move || {
                histogram.observe(VALUES[1]);
                histogram.observe(VALUES[2]);
            })
        };
        let first = check_native(&histogram.snapshot(), &[1, 2]);
        let second = check_native(&histogram.snapshot(), &[1, 2]);
        for (before, after) in first.iter().zip(&second) {
            assert!(!before || *after, "{first:?} then {second:?}");
        }
        observer.join().unwrap();
        assert_eq!(
            check_native(&histogram.snapshot(), &[1, 2]),
            [false, true, true]
        );
    });
}
