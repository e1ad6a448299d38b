//! Updaters race scrapers over a family whose children expire at once
//! (`with_idle_timeout(Duration::ZERO)`): children come and go thousands of times, and
//! every increment must still be exposed by some scrape, by the child it went to. The
//! protocol is `core/src/family/expiry.rs`'s; its unit tests walk the states one by one.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use torchlight::{EncodeLabels, Encoder, Family, Format, Metric, MetricType, Registry, Series};

const UPDATERS: usize = 4;
const LOOKUPS: u64 = 20_000;
const SCRAPERS: usize = 2;

/// Numbers children in creation order, so a scrape can tell a child from the one that
/// replaced it.
static CREATED: AtomicU64 = AtomicU64::new(1);

/// A counter that also reports which child it is: sample value `id << 32 | count`.
struct Tagged {
    id: u64,
    count: AtomicU64,
}

impl Tagged {
    fn new() -> Self {
        Self {
            id: CREATED.fetch_add(1, Ordering::Relaxed),
            count: AtomicU64::new(0),
        }
    }

    fn inc(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

impl Series for Tagged {
    const TYPE: MetricType = MetricType::Gauge;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        let value = self.id << 32 | self.count.load(Ordering::Relaxed);
        encoder.gauge_i64(labels, i64::try_from(value).map_err(|_| fmt::Error)?)
    }
}

/// Child id → (worker, highest count any scrape showed).
type Seen = HashMap<u64, (String, u64)>;

fn record(text: &str, seen: &mut Seen) {
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let rest = line
            .strip_prefix("tagged{worker=\"")
            .expect("a tagged sample");
        let (worker, value) = rest.split_once("\"} ").expect("one label");
        // Written as a float (`4.294967297e+09`): exact, the values stay below 2^53.
        let value: f64 = value.parse().expect("a number");
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let value = value as u64;
        let (id, count) = (value >> 32, value & 0xFFFF_FFFF);
        let entry = seen.entry(id).or_insert_with(|| (worker.to_owned(), 0));
        assert_eq!(entry.0, worker, "child {id} changed its labels");
        entry.1 = entry.1.max(count);
    }
}

#[test]
fn every_increment_is_scraped_before_its_child_expires() {
    let family = Arc::new(Metric::new(
        "tagged",
        "",
        Family::with_constructor(["worker"], Tagged::new).with_idle_timeout(Duration::ZERO),
    ));
    let registry = Registry::new();
    registry
        .register_owned(Arc::clone(&family))
        .expect("valid metric");
    let done = AtomicBool::new(false);
    let seen = Mutex::new(Seen::new());
    thread::scope(|scope| {
        for _ in 0..SCRAPERS {
            scope.spawn(|| {
                let mut mine = Seen::new();
                let mut text = String::new();
                // Relaxed: a stop flag only; the updaters' work is ordered by their joins.
                while !done.load(Ordering::Relaxed) {
                    text.clear();
                    registry.encode(&mut text, Format::Text).expect("String");
                    record(&text, &mut mine);
                }
                let mut seen = seen.lock().expect("no panic");
                for (id, (worker, count)) in mine {
                    let entry = seen.entry(id).or_insert((worker, 0));
                    entry.1 = entry.1.max(count);
                }
            });
        }
        let updaters: Vec<_> = (0..UPDATERS)
            .map(|worker| {
                let family = &family;
                scope.spawn(move || {
                    let label = format!("w{worker}");
                    for round in 0..LOOKUPS {
                        let child = family.get_or_create([&label]);
                        child.inc();
                        // Now and then keep the handle across a few more updates, so
                        // scrapes also find it held.
                        if round % 64 == 0 {
                            for _ in 0..3 {
                                thread::yield_now();
                                child.inc();
                            }
                        }
                        drop(child);
                        if round % 16 == 0 {
                            thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        for updater in updaters {
            updater.join().expect("updater panicked");
        }
        done.store(true, Ordering::Relaxed);
    });
    // The last children: exposed by one scrape, removed by the next.
    let mut seen = seen.into_inner().expect("no panic");
    for _ in 0..2 {
        let mut text = String::new();
        registry.encode(&mut text, Format::Text).expect("String");
        record(&text, &mut seen);
    }
    assert!(family.is_empty(), "{} children left", family.len());
    let expected = LOOKUPS + LOOKUPS.div_ceil(64) * 3;
    for worker in 0..UPDATERS {
        let label = format!("w{worker}");
        let total: u64 = seen
            .values()
            .filter(|(owner, _)| *owner == label)
            .map(|(_, count)| count)
            .sum();
        assert_eq!(
            total, expected,
            "{label}: increments lost to expired children"
        );
    }
    // The race was run: children expired and came back many times.
    assert!(
        seen.len() > UPDATERS * 10,
        "only {} children were created",
        seen.len()
    );
    println!("{} children over the run", seen.len());
}
