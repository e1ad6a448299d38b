//! Count and sum of observations without buckets: [`Summary`], as Python's
//! `prometheus_client.Summary` exposes it (`_sum` and `_count`, no quantiles).
//!
//! # How a scrape sees a consistent count and sum
//!
//! A summary is a [`Histogram`] with no finite buckets: it reuses the histogram's
//! split shards (see `histogram.rs`) unchanged, so an observation is three atomic
//! read-modify-writes (the overflow bucket, the sum's compare-and-swap loop, the
//! count) and a scrape waits only for observations already in flight.
//!
//! Invariant: every [`Summary::snapshot`] returns a `_count` and a `_sum` that belong to
//! exactly the same observations (a shard's count and sum are kept only when
//! the count equals its bucket total, see `histogram.rs`), so
//! `_sum / _count` is always the mean of real observations. The mechanism is the
//! histogram's; `core/tests/loom.rs` model-checks it for a summary too.

use core::fmt;

use crate::collect::{MetricType, Series};
use crate::histogram::{Buckets, Histogram, Snapshot};
use crate::sample::{EncodeLabels, Encoder, Quantiles};
use crate::sync::const_fn;

/// No finite buckets: only the implicit `+Inf` one, which is the count.
static NO_BUCKETS: Buckets<0> = Buckets::new([]);

/// The count and sum of observed values (Python's `prometheus_client.Summary`):
/// lock-free and allocation-free to observe, and never torn when read.
///
/// Exposed as `<name>_sum` and `<name>_count`, without quantiles. Only non-negative
/// values are recorded (see [`observe`](Self::observe)).
///
/// ```
/// use torchlight::{Format, Metric, Registry, Summary};
///
/// static PAYLOAD: Metric<Summary> =
///     Metric::new("payload_bytes", "Request payload sizes.", Summary::new()).with_unit("bytes");
///
/// PAYLOAD.observe(512.0);
/// PAYLOAD.observe(1024.0);
/// let snapshot = PAYLOAD.snapshot();
/// assert_eq!((snapshot.count(), snapshot.sum()), (2, 1536.0));
///
/// let registry = Registry::new();
/// registry.register(&PAYLOAD)?;
/// let mut text = String::new();
/// registry.encode(&mut text, Format::OpenMetrics)?;
/// assert_eq!(
///     text,
///     "# HELP payload_bytes Request payload sizes.\n# TYPE payload_bytes summary\n# UNIT \
///      payload_bytes bytes\npayload_bytes_sum 1536.0\npayload_bytes_count 2\n# EOF\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Summary {
    /// A histogram without finite buckets; its `+Inf` bucket is the count.
    inner: Histogram<0>,
}

impl Summary {
    const_fn! {
        /// A summary with no observations.
        #[must_use]
        pub const fn new() -> Self {
            Self { inner: Histogram::with_buckets(&NO_BUCKETS) }
        }
    }

    /// Records one value: a size, a duration, anything non-negative.
    ///
    /// Negative values and NaN are ignored: OpenMetrics treats a summary's `_sum` as
    /// counter-like, and parsers reject a negative or NaN one ("Counter-like samples
    /// cannot be negative", `prometheus_client`), which would fail the whole scrape.
    /// Use a [`Histogram`] for values that can be negative.
    #[inline]
    pub fn observe(&self, value: f64) {
        if value.is_nan() || value < 0.0 {
            return;
        }
        self.inner.observe(value);
    }

    /// The count and sum of every observation completed so far, read together (a
    /// snapshot with no finite buckets: use [`Snapshot::count`] and [`Snapshot::sum`]).
    ///
    /// Waits for observations already in flight; concurrent calls are serialised.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot<0> {
        self.inner.snapshot()
    }
}

impl Default for Summary {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Summary").finish_non_exhaustive()
    }
}

impl Series for Summary {
    const TYPE: MetricType = MetricType::Summary;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // Snapshot first: nothing is held while the caller's writer runs.
        let snapshot = self.snapshot();
        encoder.summary_series(
            labels,
            &Quantiles {
                quantiles: &[],
                count: snapshot.count(),
                sum: snapshot.sum(),
                created: self.inner.created(),
            },
        )
    }

    fn set_created(&self, created: Option<core::time::Duration>) {
        Series::set_created(&self.inner, created);
    }
}
