//! Exemplars: the labels (usually a trace id) and value of one recent observation,
//! exposed beside a histogram bucket or a counter so a dashboard can jump from a sample
//! to the trace that caused it (OpenMetrics 1.0, "Exemplars").
//!
//! - [`Exemplar`](crate::Exemplar) is one exemplar as a value, part of the sample model
//!   (`sample/exemplar.rs`): its label set checked and packed, its value and timestamp.
//! - [`ExemplarHistogram`] and [`ExemplarCounter`] are a [`Histogram`](crate::Histogram)
//!   and a [`Counter`](crate::Counter) with one exemplar slot per bucket (`+Inf`
//!   included) or one per counter, the places OpenMetrics allows. They are separate
//!   types, not an option of the plain ones, so a metric without exemplars pays nothing
//!   for them: `Histogram::observe` and `Counter::inc` are unchanged, and the plain
//!   `observe`/`inc` of the exemplar types are those same calls.
//! - [`ExemplarNativeHistogram`] is a [`NativeHistogram`](crate::NativeHistogram) with
//!   the classic buckets' slots (at least `+Inf`'s) and a few more for the native
//!   histogram as a whole (protobuf's `Histogram.exemplars`), spread over the range
//!   by value: its docs compare the policy with client_golang's.
//!
//! ```
//! use torchlight::{ExemplarHistogram, Format, Instrument, ManualClock, Metric, REGISTRY};
//!
//! static REQ_TIME: Metric<ExemplarHistogram> = Metric::new(
//!     "req_time_seconds",
//!     "time spent in requests",
//!     ExemplarHistogram::new(),
//! );
//!
//! /// The current request's trace id, as your tracer knows it.
//! fn trace_id() -> &'static str {
//!     "4bf92f3577b34da6a3ce929d0e0e4736"
//! }
//!
//! REGISTRY.register(&REQ_TIME)?;
//! // Directly...
//! REQ_TIME.observe_with_exemplar(0.042, &[("trace_id", trace_id())])?;
//! // ...or around a future: the labels are read when it completes (`time(&REQ_TIME)`
//! // reads the standard clock; any `Clock` will do).
//! static CLOCK: ManualClock = ManualClock::new();
//! let work = async { "hello" };
//! # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
//! block_on(work.time_with(&REQ_TIME, &CLOCK).exemplar(|| [("trace_id", trace_id())]));
//!
//! let mut body = String::new();
//! REGISTRY.encode(&mut body, Format::OpenMetrics)?;
//! // `# {labels} value [timestamp]` after the bucket each observation went to (with
//! // `std`, the timestamp is the wall clock's).
//! assert!(body.contains("_bucket{le=\"0.005\"} 1 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} "));
//! assert!(body.contains("_bucket{le=\"0.05\"} 2 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 0.042"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How a slot is written and read whole (`exemplar/slot.rs`)
//!
//! A slot is a word of state (`LOCKED`, `PRESENT`, `STAMPED` bits) and the exemplar's
//! words (value, timestamp, length, packed labels), all atomics. A writer *tries* to
//! take the slot with one compare-and-swap setting `LOCKED`: if another writer or a
//! scrape holds it,
//! the new exemplar is dropped (the observation itself is always counted), so an
//! observer never waits for anyone. Otherwise it stores the words and releases the slot
//! with a `Release` store of the new state. A scrape tries the same bit: if it gets it,
//! it reads the words and puts the state back; if a writer holds it, the scrape leaves
//! that exemplar out (the next scrape shows the new one) rather than wait. Nobody ever
//! waits, and every access to the words happens under the bit, so a scrape never pairs
//! one observation's labels with another's value. `core/tests/loom.rs` model-checks it;
//! `core/tests/stress/exemplar.rs` stress-tests it.
//!
//! Sampling: by default every observation with an exemplar replaces the slot's
//! exemplar (as client_golang and `prometheus-client` do for classic buckets), unless
//! the slot is busy at that instant; the newest exemplar wins. With `std`,
//! `with_min_interval` keeps a slot's exemplar until it is that old (by its timestamp),
//! so a hot path pays the label check and packing at most once per interval per slot
//! (client_golang's rate limit on native-histogram exemplars). The wall clock is read
//! once per observation with an exemplar, when needed: to compare with the interval
//! first if there is one, otherwise only after the slot was taken, to stamp it (an
//! exemplar dropped because its slot is busy costs no clock read).
//!
//! An exposed exemplar's observation is counted in the same scrape: the observer counts
//! before it stores the exemplar, and the scrape reads the exemplars before it reads
//! the counts.
//!
//! Text 0.0.4 has no syntax for exemplars: only OpenMetrics writes them.

mod counter;
mod histogram;
mod native;
mod slot;

pub use counter::ExemplarCounter;
pub use histogram::ExemplarHistogram;
pub use native::ExemplarNativeHistogram;
pub(crate) use slot::{Slot, Written, slots};

use crate::sample::exemplar::check;
#[cfg(all(feature = "std", not(loom)))]
use crate::sample::exemplar::unix_millis;
use crate::sample::{EncodeLabels, ExemplarError};

/// An observation's exemplar on its way to its slots: its labels checked as they are
/// packed straight into the first slot it is stored in (or on their own when that
/// slot is busy), once; the wall clock read at most once, only when needed: first
/// when a minimum interval must compare it with a slot's exemplar, otherwise once a
/// slot has been taken to store it.
pub(crate) struct Pending<'l> {
    labels: &'l dyn EncodeLabels,
    /// Whether the labels passed the checks already.
    checked: bool,
    /// The clock reading, once taken.
    now: Option<Option<f64>>,
}

impl<'l> Pending<'l> {
    #[inline]
    pub(crate) const fn new(labels: &'l dyn EncodeLabels) -> Self {
        Self {
            labels,
            checked: false,
            now: None,
        }
    }

    /// Whether `slot` takes a new exemplar: always without a minimum interval (and the
    /// clock is not read); with one, when its exemplar has no timestamp or one at least
    /// `min_interval` seconds old (a hint read without taking the slot: see
    /// `Slot::last_timestamp`).
    #[inline]
    pub(crate) fn due(&mut self, slot: &Slot, min_interval: f64) -> bool {
        #[cfg(all(feature = "std", not(loom)))]
        if min_interval > 0.0 {
            let now = *self.now.get_or_insert_with(now);
            if let (Some(now), Some(last)) = (now, slot.last_timestamp()) {
                return now - last >= min_interval;
            }
        }
        let _ = (slot, min_interval);
        true
    }

    /// Stores the labels, packed, with `value` in `slot`, stamped with the wall clock
    /// (read now, if not yet and if the slot is free); dropped if the slot is busy.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`](crate::Exemplar::new), when the labels break a rule:
    /// found while writing them into a free slot, which then holds no exemplar, or
    /// checking them alone when the slot is busy.
    #[inline]
    pub(crate) fn store(&mut self, slot: &Slot, value: f64) -> Result<(), ExemplarError> {
        let reading = &mut self.now;
        let written = slot.store_labels(self.labels, self.checked, value, || {
            *reading.get_or_insert_with(now)
        });
        match written {
            Written::Stored => {}
            Written::Refused(error) => return Err(error),
            Written::Busy if self.checked => {}
            Written::Busy => check(self.labels)?,
        }
        self.checked = true;
        Ok(())
    }
}

/// The wall-clock time exemplars are stamped with (Unix seconds, to the millisecond);
/// `None` without `std` (or before 1970).
#[inline]
fn now() -> Option<f64> {
    #[cfg(all(feature = "std", not(loom)))]
    return unix_millis();
    #[cfg(not(all(feature = "std", not(loom))))]
    return None;
}
