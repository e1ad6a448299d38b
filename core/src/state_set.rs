//! Which one of a fixed set of states something is in: [`StateSet`], Python's
//! `prometheus_client.Enum`.

use core::fmt;
use core::marker::PhantomData;

use crate::collect::{MetricType, Series};
use crate::info::str_eq;
use crate::labelled::LabelValue;
use crate::sample::{EncodeLabels, Encoder};
use crate::sync::{AtomicU64, Ordering, const_fn};

/// The current state out of the variants of `S`, a [`LabelValue`] enum (declare one
/// with [`label_value!`](crate::label_value)).
///
/// Exactly one state is set at any time: the state is one atomic word holding the
/// variant's index, so [`set`](Self::set) is a single store and a scrape reads one
/// value, never zero or two states. A new state set starts in the first variant, as
/// `prometheus_client.Enum` does.
///
/// OpenMetrics writes a `stateset` family, one sample per state, labelled with the
/// family name (`task_state{task_state="running"} 1.0`); text 0.0.4, which has no such
/// type, writes the same samples as a gauge.
///
/// ```
/// use torchlight::{Format, Metric, Registry, StateSet};
///
/// torchlight::label_value! {
///     /// A worker's life cycle.
///     pub enum Phase { Starting = "starting", Running = "running", Stopped = "stopped" }
/// }
///
/// static PHASE: Metric<StateSet<Phase>> =
///     Metric::new("worker_phase", "Where the worker is.", StateSet::new());
///
/// PHASE.set(Phase::Running);
/// assert_eq!(PHASE.get(), Phase::Running);
///
/// let registry = Registry::new();
/// registry.register(&PHASE)?;
/// let mut text = String::new();
/// registry.encode(&mut text, Format::OpenMetrics)?;
/// assert_eq!(
///     text,
///     "# HELP worker_phase Where the worker is.\n# TYPE worker_phase stateset\n\
///      worker_phase{worker_phase=\"starting\"} 0.0\n\
///      worker_phase{worker_phase=\"running\"} 1.0\n\
///      worker_phase{worker_phase=\"stopped\"} 0.0\n# EOF\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StateSet<S> {
    /// Invariant: the index of a variant of `S`, `< S::VALUES.len()`.
    current: AtomicU64,
    states: PhantomData<fn() -> S>,
}

impl<S: LabelValue> StateSet<S> {
    const_fn! {
        /// A state set in the first state of `S`.
        ///
        /// # Panics
        ///
        /// At compile time, if `S` has a repeated or empty value (they would expose
        /// duplicate or unlabelled series).
        #[must_use]
        pub const fn new() -> Self {
            const { assert!(distinct_and_non_empty(S::VALUES), "state set values must be distinct and non-empty") };
            Self { current: AtomicU64::new(0), states: PhantomData }
        }
    }

    /// Moves to `state`; every other state is unset at the same instant.
    #[inline]
    pub fn set(&self, state: S) {
        // ORDERING: Relaxed: the state publishes nothing but itself.
        self.current.store(state.index() as u64, Ordering::Relaxed);
    }

    /// The current state.
    #[inline]
    #[must_use]
    pub fn get(&self) -> S {
        S::from_index(self.index())
    }

    fn index(&self) -> usize {
        // ORDERING: Relaxed: see `set`.
        let index = self.current.load(Ordering::Relaxed);
        // Only `set` writes, with a valid index; the fallback is unreachable.
        usize::try_from(index).unwrap_or(0)
    }
}

impl<S: LabelValue> Default for StateSet<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: LabelValue + fmt::Debug> fmt::Debug for StateSet<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateSet")
            .field("current", &self.get())
            .finish()
    }
}

/// No value is empty or repeated.
const fn distinct_and_non_empty(values: &[&str]) -> bool {
    let mut i = 0;
    while i < values.len() {
        if values[i].is_empty() {
            return false;
        }
        let mut j = 0;
        while j < i {
            if str_eq(values[i], values[j]) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

impl<S: LabelValue> Series for StateSet<S> {
    const TYPE: MetricType = MetricType::StateSet;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // One read: the encoded states agree with each other.
        let current = self.index();
        S::VALUES
            .iter()
            .enumerate()
            .try_for_each(|(i, state)| encoder.state_set(labels, &[(state, i == current)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_values_are_checked() {
        assert!(distinct_and_non_empty(&["a", "b", "ab"]));
        assert!(!distinct_and_non_empty(&["a", "b", "a"]));
        assert!(!distinct_and_non_empty(&["a", ""]));
    }
}
