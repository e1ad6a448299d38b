//! The series behind the `metrics` handles: torchlight's metrics wrapped so they can
//! implement both torchlight's [`Series`] (to be exposed) and the facade's
//! `CounterFn` / `GaugeFn` / `HistogramFn` (to be recorded into).
//!
//! A `metrics::Counter` handed out by the recorder is `Counter::from_arc` of the
//! family's own `Arc` child: recording through it is the torchlight operation itself,
//! with no extra allocation or indirection beyond the facade's dynamic call.

use core::fmt;
use std::sync::{Mutex, PoisonError};

use metrics::{CounterFn, GaugeFn, HistogramFn};
use torchlight::{
    Buckets, Counter, EncodeLabels, Encoder, FloatGauge, Histogram, MetricType, NativeHistogram,
    Series,
};

/// The most bucket bounds a histogram recorded through `metrics` can have.
///
/// torchlight's [`Histogram`] takes its bucket count as a const generic; bounds chosen
/// at run time (per metric name, by the builder) use one `Histogram<MAX_BUCKETS>`
/// whose first bounds are the chosen ones and whose spare buckets lie above them,
/// never exposed: values there count only in `+Inf`. 32 covers Prometheus' own defaults (11 in client_golang,
/// 14 in client_python) and `exponential_buckets(start, 2, 30)`-sized layouts, at
/// 2 × 34 × 8 bytes per series.
pub const MAX_BUCKETS: usize = 32;

/// A counter series: a torchlight [`Counter`].
#[derive(Debug, Default)]
pub(crate) struct CounterChild(Counter);

/// Serialises [`CounterFn::absolute`] calls, so two of them racing cannot both add the
/// same difference. Increments do not take it: an increment that lands between an
/// `absolute`'s read and its add is kept on top of the absolute value.
static ABSOLUTE: Mutex<()> = Mutex::new(());

impl CounterFn for CounterChild {
    fn increment(&self, value: u64) {
        self.0.inc_by(value);
    }

    fn absolute(&self, value: u64) {
        let _serial = ABSOLUTE.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.0.get();
        if value > current {
            self.0.inc_by(value - current);
        }
    }
}

impl Series for CounterChild {
    const TYPE: MetricType = MetricType::Counter;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        self.0.encode_series(labels, encoder)
    }
}

/// A gauge series: a torchlight [`FloatGauge`] (the facade's gauges are `f64`).
#[derive(Debug, Default)]
pub(crate) struct GaugeChild(FloatGauge);

impl GaugeFn for GaugeChild {
    fn increment(&self, value: f64) {
        self.0.add(value);
    }

    fn decrement(&self, value: f64) {
        self.0.sub(value);
    }

    fn set(&self, value: f64) {
        self.0.set(value);
    }
}

impl Series for GaugeChild {
    const TYPE: MetricType = MetricType::Gauge;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        self.0.encode_series(labels, encoder)
    }
}

/// A histogram series as its [`Layout`] chose: classic buckets with bounds chosen at
/// run time, or a native histogram.
pub(crate) struct HistogramChild(Recording);

/// What a [`HistogramChild`] records into.
// The classic histogram stays inline, as before native layouts existed: the common
// case pays no indirection; the rarer, larger native one is boxed.
#[allow(clippy::large_enum_variant)]
enum Recording {
    /// `histogram`'s first `exposed` bounds are the chosen ones; the rest are spare
    /// bounds just above the last chosen one (see [`Layout::classic`]). A value above
    /// the last chosen bound lands in a spare bucket or in `+Inf`, both of which are
    /// above every exposed bucket, so the exposed cumulative counts, `_count` (the
    /// `+Inf` bucket) and `_sum` are exactly those of a histogram with the chosen
    /// bounds, from one consistent snapshot.
    Classic {
        histogram: Histogram<MAX_BUCKETS>,
        /// Invariant: `exposed <= MAX_BUCKETS`, the number of chosen bounds.
        exposed: usize,
    },
    /// Boxed: about 14.6 KiB (torchlight's `NativeHistogram` docs), which classic
    /// children should not carry.
    Native(Box<NativeHistogram>),
}

impl HistogramChild {
    pub(crate) fn new(layout: Layout) -> Self {
        Self(match layout {
            Layout::Classic { buckets, exposed } => Recording::Classic {
                histogram: Histogram::with_buckets(buckets),
                exposed,
            },
            Layout::Native { factor } => Recording::Native(Box::new(NativeHistogram::new(factor))),
        })
    }

    fn observe(&self, value: f64) {
        match &self.0 {
            Recording::Classic { histogram, .. } => histogram.observe(value),
            Recording::Native(histogram) => histogram.observe(value),
        }
    }
}

impl fmt::Debug for HistogramChild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Recording::Classic { histogram, exposed } => f
                .debug_struct("HistogramChild")
                .field("bounds", &&histogram.buckets().bounds()[..*exposed])
                .finish_non_exhaustive(),
            Recording::Native(histogram) => f
                .debug_struct("HistogramChild")
                .field("native", histogram)
                .finish_non_exhaustive(),
        }
    }
}

impl HistogramFn for HistogramChild {
    fn record(&self, value: f64) {
        self.observe(value);
    }

    fn record_many(&self, value: f64, count: usize) {
        for _ in 0..count {
            self.observe(value);
        }
    }
}

impl Series for HistogramChild {
    const TYPE: MetricType = MetricType::Histogram;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        match &self.0 {
            Recording::Classic { histogram, exposed } => {
                // Snapshot first: no lock is held while the writer runs.
                let snapshot = histogram.snapshot();
                encoder.histogram(
                    labels,
                    &snapshot.bounds()[..*exposed],
                    &snapshot.cumulative()[..*exposed],
                    snapshot.count(),
                    snapshot.sum(),
                )
            }
            Recording::Native(histogram) => histogram.encode_series(labels, encoder),
        }
    }
}

/// What a histogram recorded through the facade becomes, chosen per name by the
/// builder's settings: what a [`HistogramChild`] is built from. Built once per
/// setting (not per series), so the `'static` buckets it leaks are bounded by the
/// configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Layout {
    /// Classic buckets: the chosen bounds padded to [`MAX_BUCKETS`].
    Classic {
        buckets: &'static Buckets<MAX_BUCKETS>,
        /// Invariant: the number of chosen bounds, `1..=MAX_BUCKETS`.
        exposed: usize,
    },
    /// A native histogram (torchlight's default bound, 160 buckets, and
    /// client_golang's zero threshold) whose buckets grow by at most `factor`.
    /// Invariant: `factor > 1`.
    Native { factor: f64 },
}

impl Layout {
    /// The classic layout for `bounds`, or why they cannot be used.
    pub(crate) fn classic(bounds: &[f64]) -> Result<Self, BoundsError> {
        if bounds.is_empty() {
            return Err(BoundsError::Empty);
        }
        if bounds.len() > MAX_BUCKETS {
            return Err(BoundsError::TooMany { len: bounds.len() });
        }
        let mut padded = [0.0; MAX_BUCKETS];
        padded[..bounds.len()].copy_from_slice(bounds);
        for i in bounds.len()..MAX_BUCKETS {
            padded[i] = next_up(padded[i - 1]);
        }
        let buckets = Buckets::try_new(padded).map_err(|error| BoundsError::Invalid {
            reason: error.to_string(),
        })?;
        Ok(Self::Classic {
            buckets: Box::leak(Box::new(buckets)),
            exposed: bounds.len(),
        })
    }

    /// The native layout for `factor`, or why it cannot be used.
    pub(crate) fn native(factor: f64) -> Result<Self, BoundsError> {
        // NaN fails the comparison too.
        if factor > 1.0 {
            Ok(Self::Native { factor })
        } else {
            Err(BoundsError::Invalid {
                reason: format!(
                    "a native histogram's bucket factor must be greater than 1, not {factor}"
                ),
            })
        }
    }

    /// The chosen bounds (none for a native histogram).
    #[cfg(test)]
    pub(crate) fn bounds(&self) -> &[f64] {
        match self {
            Self::Classic { buckets, exposed } => &buckets.bounds()[..*exposed],
            Self::Native { .. } => &[],
        }
    }
}

/// Why a list of bucket bounds cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BoundsError {
    Empty,
    TooMany { len: usize },
    Invalid { reason: String },
}

impl fmt::Display for BoundsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("a histogram needs at least one bucket bound"),
            Self::TooMany { len } => write!(
                f,
                "{len} bucket bounds, more than the {MAX_BUCKETS} a recorded histogram can have"
            ),
            Self::Invalid { reason } => f.write_str(reason),
        }
    }
}

/// The next representable `f64` above a finite `x` (`f64::next_up`, stable only
/// since Rust 1.86; this crate supports 1.85). Infinite past `f64::MAX`, which
/// [`Buckets::try_new`] then rejects.
fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f64::from_bits(bits + 1)
    } else {
        f64::from_bits(bits - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_up_is_the_adjacent_float() {
        assert_eq!(next_up(1.0), 1.0 + f64::EPSILON);
        assert_eq!(next_up(-0.0), f64::from_bits(1));
        assert_eq!(next_up(0.0), f64::from_bits(1));
        assert!(next_up(-1.0) > -1.0);
        assert_eq!(next_up(-f64::from_bits(1)), -0.0);
        assert_eq!(next_up(f64::MAX), f64::INFINITY);
    }

    #[test]
    fn layouts_check_their_bounds() {
        assert_eq!(Layout::classic(&[]).map(|_| ()), Err(BoundsError::Empty));
        let many = [1.0; MAX_BUCKETS + 1];
        assert_eq!(
            Layout::classic(&many).map(|_| ()),
            Err(BoundsError::TooMany {
                len: MAX_BUCKETS + 1
            })
        );
        assert!(Layout::classic(&[2.0, 1.0]).is_err());
        assert!(
            Layout::classic(&[1.0, f64::MAX]).is_err(),
            "no room for spare buckets"
        );
        let layout = Layout::classic(&[-1.0, 0.5]).expect("valid bounds");
        assert_eq!(layout.bounds(), &[-1.0, 0.5]);
        for factor in [1.0, 0.5, f64::NAN] {
            assert!(Layout::native(factor).is_err(), "{factor}");
        }
        assert!(Layout::native(1.1).is_ok());
    }

    #[test]
    fn a_native_layout_records_into_a_native_histogram() {
        let child = HistogramChild::new(Layout::native(2.0).expect("a valid factor"));
        child.record_many(3.0, 2);
        child.record(0.75);
        let Recording::Native(histogram) = &child.0 else {
            panic!("a native layout");
        };
        let snapshot = histogram.snapshot();
        // Schema 0: 3 is in (2, 4], bucket 2; 0.75 in (0.5, 1], bucket 0.
        assert_eq!(snapshot.positive().collect::<Vec<_>>(), [(0, 1), (2, 2)]);
    }

    #[test]
    fn values_above_the_last_bound_count_only_in_inf() {
        let layout = Layout::classic(&[1.0, 2.0]).expect("valid bounds");
        let child = HistogramChild::new(layout);
        for value in [0.5, 1.5, 2.0, next_up(2.0), 3.0, f64::MAX, f64::INFINITY] {
            child.record(value);
        }
        let Recording::Classic { histogram, .. } = &child.0 else {
            panic!("a classic layout");
        };
        let snapshot = histogram.snapshot();
        assert_eq!(&snapshot.cumulative()[..2], &[1, 3]);
        assert_eq!(snapshot.count(), 7);
    }
}
