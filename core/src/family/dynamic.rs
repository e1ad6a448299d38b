//! [`DynFamily`]: a family whose number of labels is known only at run time (a
//! `metrics` facade key, a configuration file), with the checks the type system cannot
//! make: label names when it is built ([`LabelNamesError`]), the number of values at
//! each lookup ([`LabelCountError`]).

use std::boxed::Box;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::table::{self, Table};
use crate::collect::MetricType;
use crate::collect::{Collect, Series};
use crate::name::is_utf8_label_name;
use crate::sample::Encoder;

/// A [`Family`](super::Family) whose label names are chosen at run time, so their
/// number is not part of its type.
///
/// Everything else is [`Family`](super::Family)'s: the sharded maps, the cardinality
/// limit and its overflow child, the exposition order, [expiry that waits for a
/// scrape](super::Family#expiry-that-waits-for-a-scrape), the costs. The two checks
/// `Family`'s type makes at compile time happen here at run time: the label names
/// when the family is built, and the number of values at each lookup, which returns
/// a [`LabelCountError`] for a mismatch. Reach for it when the names come from data
/// (the `metrics` recorder builds one per set of facade label keys); with names
/// written in the source, `Family` is simpler and can be a `static`.
///
/// ```
/// use std::sync::Arc;
/// use torchlight::{Counter, DynFamily, Format, LabelCountError, Metric, Registry};
///
/// // Names read at run time, from a configuration say.
/// let names: Vec<&'static str> = vec!["tenant", "plan"];
/// let family = Arc::new(Metric::new(
///     "tenant_requests",
///     "Requests by tenant.",
///     DynFamily::new(names, Counter::new)?,
/// ));
/// let registry = Registry::new();
/// registry.register_owned(Arc::clone(&family))?;
///
/// family.get_or_create(&["acme", "gold"])?.inc();
/// assert_eq!(
///     family.get_or_create(&["acme"]).unwrap_err(),
///     LabelCountError { expected: 2, got: 1 },
/// );
///
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert!(text.contains("tenant_requests_total{tenant=\"acme\",plan=\"gold\"} 1\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DynFamily<M, F = fn() -> M> {
    /// Invariant: valid label names, distinct, none reserved by `M`'s type or equal to
    /// [`OVERFLOW_LABEL`](Self::OVERFLOW_LABEL).
    names: Box<[&'static str]>,
    table: Table<M, F>,
}

impl<M, F> DynFamily<M, F> {
    /// As [`Family::DEFAULT_LIMIT`](super::Family::DEFAULT_LIMIT): 2000.
    pub const DEFAULT_LIMIT: usize = table::DEFAULT_LIMIT;

    /// As [`Family::OVERFLOW_LABEL`](super::Family::OVERFLOW_LABEL).
    pub const OVERFLOW_LABEL: &'static str = table::OVERFLOW_LABEL;
}

impl<M: Series> DynFamily<M> {
    /// A family whose children carry `label_names` (a `Vec`, a slice, an array) and
    /// are built by `make` (a function such as `Counter::new`, or a closure that
    /// captures nothing), limited to [`DEFAULT_LIMIT`](Self::DEFAULT_LIMIT) children.
    ///
    /// # Errors
    ///
    /// [`LabelNamesError`] if a name is invalid, repeated, or reserved.
    pub fn new(
        label_names: impl Into<Box<[&'static str]>>,
        make: fn() -> M,
    ) -> Result<Self, LabelNamesError> {
        Self::with_constructor(label_names, make)
    }
}

impl<M: Series, F: Fn() -> M> DynFamily<M, F> {
    /// Like [`new`](DynFamily::new) with any constructor, such as a closure that
    /// captures run-time bucket bounds.
    ///
    /// # Errors
    ///
    /// [`LabelNamesError`] if a name is invalid, repeated, or reserved.
    pub fn with_constructor(
        label_names: impl Into<Box<[&'static str]>>,
        make: F,
    ) -> Result<Self, LabelNamesError> {
        let names = label_names.into();
        check_names::<M>(&names)?;
        Ok(Self {
            names,
            table: Table::new(make),
        })
    }

    /// Sets the most children the family holds before new combinations go to the
    /// overflow child. `0` sends everything to the overflow child.
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.table.set_limit(limit);
        self
    }

    /// As [`Family::with_idle_timeout`](super::Family::with_idle_timeout).
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.table.set_idle_timeout(timeout);
        self
    }

    /// The idle timeout set by [`with_idle_timeout`](Self::with_idle_timeout), if any.
    #[must_use]
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.table.idle_timeout()
    }

    /// The label names, in exposition order.
    #[must_use]
    pub fn label_names(&self) -> &[&'static str] {
        &self.names
    }

    /// The most children the family holds.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.table.limit()
    }

    /// The number of children (not counting the overflow child).
    #[must_use]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the family has no children (not counting the overflow child).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// As [`Family::get_or_create`](super::Family::get_or_create), with the number
    /// of values checked.
    ///
    /// # Errors
    ///
    /// [`LabelCountError`] if `values` does not have one value per label name.
    pub fn get_or_create(&self, values: &[&str]) -> Result<Arc<M>, LabelCountError> {
        self.check(values)?;
        Ok(self.table.get_or_create(values))
    }

    /// As [`Family::get`](super::Family::get), with the number of values checked.
    ///
    /// # Errors
    ///
    /// [`LabelCountError`] if `values` does not have one value per label name.
    pub fn get(&self, values: &[&str]) -> Result<Option<Arc<M>>, LabelCountError> {
        self.check(values)?;
        Ok(self.table.get(values))
    }

    /// As [`Family::remove`](super::Family::remove), with the number of values
    /// checked.
    ///
    /// # Errors
    ///
    /// [`LabelCountError`] if `values` does not have one value per label name.
    pub fn remove(&self, values: &[&str]) -> Result<Option<Arc<M>>, LabelCountError> {
        self.check(values)?;
        Ok(self.table.remove(values))
    }

    /// Removes every child and the overflow child. Handles stay valid.
    pub fn clear(&self) {
        self.table.clear();
    }

    /// As [`Family::retain`](super::Family::retain): removes every child for which
    /// `keep(values, child)` returns `false`, `values` holding one value per label
    /// name. `keep` runs with no lock held.
    pub fn retain(&self, keep: impl FnMut(&[&str], &M) -> bool) {
        self.table.retain(keep);
    }

    fn check(&self, values: &[&str]) -> Result<(), LabelCountError> {
        if values.len() == self.names.len() {
            Ok(())
        } else {
            Err(LabelCountError {
                expected: self.names.len(),
                got: values.len(),
            })
        }
    }
}

/// The rules [`Registry::register`](crate::Registry::register) applies to any
/// family's label names, applied when a `DynFamily` is built, where its names come
/// from.
fn check_names<M: Series>(names: &[&'static str]) -> Result<(), LabelNamesError> {
    let reserved: &[&str] = match M::TYPE {
        MetricType::Histogram => &["le"],
        MetricType::Summary => &["quantile"],
        _ => &[],
    };
    for (i, label) in names.iter().enumerate() {
        if !is_utf8_label_name(label) {
            return Err(LabelNamesError::Invalid { label });
        }
        if reserved.contains(label) || *label == table::OVERFLOW_LABEL {
            return Err(LabelNamesError::Reserved { label });
        }
        if names[..i].contains(label) {
            return Err(LabelNamesError::Duplicate { label });
        }
    }
    Ok(())
}

impl<M, F> fmt::Debug for DynFamily<M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynFamily")
            .field("label_names", &self.names)
            .field("limit", &self.table.limit())
            .field("idle_timeout", &self.table.idle_timeout())
            .field("len", &self.table.len())
            .finish_non_exhaustive()
    }
}

impl<M, F> Collect for DynFamily<M, F>
where
    M: Series + Send + Sync,
    F: Fn() -> M + Sync,
{
    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    fn label_names(&self) -> &[&'static str] {
        &self.names
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        self.table.encode(&self.names, encoder)
    }
}

/// Why a [`DynFamily`] could not be built from its label names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelNamesError {
    /// The name is empty or starts with `__` (a legacy
    /// [`Registry`](crate::Registry) refuses names outside `[a-zA-Z_][a-zA-Z0-9_]*`
    /// when the family is registered).
    Invalid {
        /// The rejected name.
        label: &'static str,
    },
    /// The name is used by the child metric's type (`le` for histograms, `quantile`
    /// for summaries) or by the family's overflow series (`otel_metric_overflow`).
    Reserved {
        /// The rejected name.
        label: &'static str,
    },
    /// The name is given twice.
    Duplicate {
        /// The repeated name.
        label: &'static str,
    },
}

impl fmt::Display for LabelNamesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { label } => write!(
                f,
                "invalid label name {label:?}: a label name must not be empty or start \
                 with \"__\""
            ),
            Self::Reserved { label } => write!(
                f,
                "label name {label:?} is reserved (by the metric type or the overflow \
                 series); pick another name"
            ),
            Self::Duplicate { label } => {
                write!(
                    f,
                    "label name {label:?} is given twice; list each label once"
                )
            }
        }
    }
}

impl std::error::Error for LabelNamesError {}

/// The label values given to a [`DynFamily`] did not match its label names in number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelCountError {
    /// How many label names the family has.
    pub expected: usize,
    /// How many values were given.
    pub got: usize,
}

impl fmt::Display for LabelCountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected {} label values (one per label name, in order), got {}",
            self.expected, self.got
        )
    }
}

impl std::error::Error for LabelCountError {}
