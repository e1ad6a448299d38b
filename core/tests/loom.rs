//! Model check of the histogram's hot/cold protocol (`core/src/histogram.rs`) with loom.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p torchlight --test loom --release`
//! (`cargo xtask ci` does). Every interleaving of concurrent observers and collectors,
//! up to the preemption bound, must produce only consistent snapshots: cumulative,
//! monotone buckets, the `+Inf` bucket (`count`) at least the last finite bucket, and a
//! sum that is the sum of exactly the observations the buckets count.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use torchlight::{Buckets, Histogram, Snapshot};

static BOUNDS: Buckets<2> = Buckets::new([1.0, 2.0]);

/// Observations are 0.5 (bucket le=1), 1.5 (le=2) and 4.0 (only +Inf): distinct powers
/// of two apart, so the sum says exactly which of them a snapshot contains.
const VALUES: [f64; 3] = [0.5, 1.5, 4.0];

fn check(snapshot: &Snapshot<2>, observed_by: &[usize]) {
    let [le1, le2] = *snapshot.cumulative();
    assert!(le1 <= le2 && le2 <= snapshot.count(), "{snapshot:?}");
    // Which observations does the sum say are in the snapshot?
    let mut members = [false; 3];
    let mut rest = snapshot.sum();
    for (i, value) in VALUES.iter().enumerate().rev() {
        if rest >= *value {
            rest -= value;
            members[i] = true;
        }
    }
    assert_eq!(
        rest,
        0.0,
        "sum {} is not a sum of distinct observations",
        snapshot.sum()
    );
    let included = |i: usize| observed_by.contains(&i) && members[i];
    let count = members.iter().filter(|m| **m).count() as u64;
    assert_eq!(
        snapshot.count(),
        count,
        "count and sum disagree: {snapshot:?}"
    );
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
        check(&histogram.snapshot(), &[0, 2]);
        for observer in observers {
            observer.join().unwrap();
        }
        let last = histogram.snapshot();
        check(&last, &[0, 2]);
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
            thread::spawn(move || check(&histogram.snapshot(), &[1, 2]))
        };
        check(&histogram.snapshot(), &[1, 2]);
        observer.join().unwrap();
        collector.join().unwrap();
        let last = histogram.snapshot();
        assert_eq!(
            (last.count(), last.sum(), *last.cumulative()),
            (2, 5.5, [0, 1])
        );
    });
}
