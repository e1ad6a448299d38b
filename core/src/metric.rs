//! What a registry holds: a metric with its name, help and unit ([`Metric`]), and the
//! link (`Node`) through which a registry lists it; the list itself is `registry.rs`.

use core::fmt;
use core::ops::Deref;
use core::ptr;

use crate::collect::{Collect, MetricType};
use crate::sync::{AtomicBool, AtomicPtr, UnsafeCell, const_fn};

/// A metric's name, help text and unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    name: &'static str,
    help: &'static str,
    unit: Option<&'static str>,
}

impl Metadata {
    /// The name as given (a counter's may end in `_total`).
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The help text.
    #[must_use]
    pub const fn help(&self) -> &'static str {
        self.help
    }

    /// The unit, if any (written as `# UNIT` in OpenMetrics).
    #[must_use]
    pub const fn unit(&self) -> Option<&'static str> {
        self.unit
    }

    /// The family name: the name without the suffix its type adds to samples (a
    /// counter named `requests_total` is the family `requests`), so both spellings
    /// expose the same bytes and `_total_total` cannot happen.
    #[must_use]
    pub fn family(&self, metric_type: MetricType) -> &'static str {
        let suffix = metric_type.family_suffix();
        match self.name.strip_suffix(suffix) {
            Some(family) if !suffix.is_empty() && !family.is_empty() => family,
            _ => self.name,
        }
    }
}

/// A metric with the name, help and unit it is exposed under, ready to be registered.
///
/// `Metric` dereferences to the metric inside, so `REQUESTS.inc()` works directly.
///
/// ```
/// use torchlight::{Counter, Format, Histogram, Metric, Registry};
///
/// static REQUESTS: Metric<Counter> = Metric::new("requests", "Requests served.", Counter::new());
/// static LATENCY: Metric<Histogram> =
///     Metric::new("latency_seconds", "Time to serve.", Histogram::new()).with_unit("seconds");
///
/// let registry = Registry::new();
/// registry.register(&REQUESTS)?;
/// registry.register(&LATENCY)?;
/// REQUESTS.inc();
///
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert!(text.starts_with("# HELP requests_total Requests served.\n# TYPE requests_total counter\nrequests_total 1\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Metric<M> {
    metadata: Metadata,
    metric: M,
    pub(crate) node: Node,
}

impl<M> Metric<M> {
    const_fn! {
        /// Names `metric`. The name and help are checked when the metric is registered.
        #[must_use]
        pub const fn new(name: &'static str, help: &'static str, metric: M) -> Self {
            Self {
                metadata: Metadata {
                    name,
                    help,
                    unit: None,
                },
                metric,
                node: Node::new(),
            }
        }
    }

    /// Sets the unit (`seconds`, `bytes`): OpenMetrics requires the name to end in
    /// `_<unit>`, which registration checks.
    #[must_use]
    pub const fn with_unit(mut self, unit: &'static str) -> Self {
        self.metadata.unit = Some(unit);
        self
    }

    /// The name, help and unit.
    #[must_use]
    pub const fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The metric inside.
    #[must_use]
    pub const fn inner(&self) -> &M {
        &self.metric
    }
}

impl<M> Deref for Metric<M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.metric
    }
}

impl<M: fmt::Debug> fmt::Debug for Metric<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metric")
            .field("metadata", &self.metadata)
            .field("metric", &self.metric)
            .finish()
    }
}

/// A registered entry, type-erased: the registry's view of a [`Metric`].
pub(crate) trait Entry: Sync {
    fn metadata(&self) -> &Metadata;
    fn collector(&self) -> &dyn Collect;
}

impl<M: Collect> Entry for Metric<M> {
    fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    fn collector(&self) -> &dyn Collect {
        &self.metric
    }
}

/// The link a [`Metric`] carries so a registry can list it without allocating. The
/// registry (`registry.rs`) keeps the invariants below, and there it is made `Sync`.
pub(crate) struct Node {
    /// Invariant: `true` once the node has been claimed by a registration; never reset
    /// after the node is published.
    pub(crate) claimed: AtomicBool,
    /// Invariant: written exactly once, by the registration that claimed the node,
    /// before the node is published (a `Release` store of a pointer to it); read only
    /// through published nodes.
    pub(crate) entry: UnsafeCell<Option<&'static dyn Entry>>,
    /// The next node, or null. Invariant: a non-null value is a `&'static Node`.
    pub(crate) next: AtomicPtr<Node>,
}

impl Node {
    const_fn! {
        pub(crate) const fn new() -> Self {
            Self {
                claimed: AtomicBool::new(false),
                entry: UnsafeCell::new(None),
                next: AtomicPtr::new(ptr::null_mut()),
            }
        }
    }
}
