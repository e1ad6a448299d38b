//! The `push` examples' batch job, the same on every runtime: its three metrics in a
//! registry of their own (only they go to the Pushgateway, as Python's
//! `prometheus_client` documentation pushes a `CollectorRegistry` of the job's
//! metrics), and the work. Each adapter's `examples/push.rs` adds the Pushgateway.

use std::error::Error;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use torchlight::{Counter, FloatGauge, Histogram, Metric, Registry};

/// How many items a run processes.
pub const ITEMS: u64 = 100;

/// The job's registry: only the metrics below.
pub static REGISTRY: Registry = Registry::new();

/// The items processed.
pub static ITEMS_PROCESSED: Metric<Counter> = Metric::new(
    "batch_items_processed",
    "items the batch job processed",
    Counter::new(),
);
/// The time each item took.
pub static ITEM_SECONDS: Metric<Histogram> = Metric::new(
    "batch_item_seconds",
    "time spent on each item",
    Histogram::new(),
);
/// When the job last succeeded: the Pushgateway documentation's example of what a
/// batch job pushes, so an alert can fire when it is too old.
pub static LAST_SUCCESS: Metric<FloatGauge> = Metric::new(
    "batch_last_success_timestamp_seconds",
    "when the batch job last succeeded, in seconds since the Unix epoch",
    FloatGauge::new(),
);

/// Registers the job's metrics, processes [`ITEMS`] items and sets the time of success.
///
/// # Errors
///
/// A metric the registry refuses (registered twice).
pub fn run() -> Result<(), Box<dyn Error>> {
    REGISTRY.register(&ITEMS_PROCESSED)?;
    REGISTRY.register(&ITEM_SECONDS)?;
    REGISTRY.register(&LAST_SUCCESS)?;
    for item in 0..ITEMS {
        let started = Instant::now();
        // The work: something small and deterministic in place of a real item's.
        std::hint::black_box((0..1_000 * (item % 7 + 1)).fold(item, |a, b| a ^ (a << 1) ^ b));
        ITEM_SECONDS.observe(started.elapsed().as_secs_f64());
        ITEMS_PROCESSED.inc();
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
    LAST_SUCCESS.set(now.as_secs_f64());
    Ok(())
}
