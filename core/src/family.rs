//! Families of metrics labelled by values known only at run time (a path, a status
//! code, a tenant), with a cardinality limit. Needs the `std` feature.
//!
//! The design (locking, keys, the cardinality limit, the exposition order) is
//! documented on [`Family`], where users read it. Submodules: `key` (the packed label
//! values), `shard` (the sharded maps and their slots), `sorted` (the exposition order,
//! cached between scrapes).

mod key;
mod shard;
mod sorted;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, RwLock};

use crate::collect::{Collect, MetricType, Series};
use crate::name::is_label_name;
use crate::sample::{EncodeLabels, Encoder, LabelEncoder};
use crate::sync::{AtomicU64, AtomicUsize, Ordering};
use key::Key;
use shard::{Probe, SHARDS, Shard, Slot, find, read, read_lock, write, write_lock};
use sorted::Sorted;

/// Child metrics keyed by label values known at run time, with a cardinality limit.
///
/// `M` is the child metric ([`Counter`](crate::Counter), [`Gauge`](crate::Gauge),
/// [`Histogram`](crate::Histogram), any [`Series`]); `F` builds a new child, so
/// histograms get their buckets. Children are [`Arc<M>`] handles that stay valid after
/// they are removed from the family (a removed child is no longer exposed; asking for
/// its values again creates a new child at zero).
///
/// ```
/// use std::sync::Arc;
/// use torchlight::{Buckets, Counter, Family, Format, Histogram, Metric, Registry};
///
/// static LATENCY_BUCKETS: Buckets<3> = Buckets::new([0.01, 0.1, 1.0]);
///
/// let requests = Arc::new(Metric::new(
///     "http_requests",
///     "Requests served.",
///     Family::new(&["method", "path"], Counter::new)?,
/// ));
/// let latency = Arc::new(Metric::new(
///     "http_latency_seconds",
///     "Time to serve.",
///     Family::new(&["path"], || Histogram::with_buckets(&LATENCY_BUCKETS))?.with_limit(100),
/// ));
/// let registry = Registry::new();
/// registry.register_owned(Arc::clone(&requests))?;
/// registry.register_owned(Arc::clone(&latency))?;
///
/// // Look a child up once and keep the handle on hot paths.
/// let home = requests.get_or_create(&["GET", "/"])?;
/// home.inc();
/// requests.get_or_create(&["POST", "/say \"hi\""])?.inc_by(2);
/// latency.get_or_create(&["/"])?.observe(0.05);
///
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert!(text.contains("http_requests_total{method=\"GET\",path=\"/\"} 1\n"));
/// assert!(text.contains("http_requests_total{method=\"POST\",path=\"/say \\\"hi\\\"\"} 2\n"));
/// assert!(text.contains("http_latency_seconds_bucket{path=\"/\",le=\"0.1\"} 1\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A family can also be a `static`, built on first use, and registered like any
/// static metric:
///
/// ```
/// use std::sync::LazyLock;
/// use torchlight::{Counter, Family, Metric, REGISTRY};
///
/// static ERRORS: LazyLock<Metric<Family<Counter>>> = LazyLock::new(|| {
///     let family = Family::new(&["kind"], Counter::new).expect("valid label names");
///     Metric::new("errors", "Errors by kind.", family)
/// });
///
/// REGISTRY.register(&*ERRORS)?;
/// ERRORS.get_or_create(&["timeout"])?.inc();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Design
///
/// A family maps label values to child metrics held by [`Arc`], in
/// [`SHARDS`](Self::SHARDS) `RwLock<HashMap>` shards:
///
/// - **Lookup** hashes the values once (SipHash with a per-family random key, so
///   attacker-chosen values cannot force collisions), takes the *read* lock of one
///   shard, finds the hash in its map and then the child by comparing the *full*
///   values with the borrowed `&[&str]` (length, then bytes, value by value), then
///   clones the `Arc`. No exclusive lock, no allocation.
/// - **Creation** builds the child and its key outside any lock (so the constructor,
///   user code, never runs under a lock), then takes the shard's write lock, checks
///   again and inserts. Two allocations stay: the child's `Arc` and its packed key
///   (an `Arc<str>`, packed on the stack first when it is at most 256 bytes), plus the
///   map's growth.
/// - **Keys** are the label values themselves, packed into one `Arc<str>`, each value
///   preceded by its length (one ASCII byte under 64 bytes), never a hash alone: the
///   map is keyed by the hash, and under each hash a slot holds the child, or the
///   children if 64-bit hashes ever collide, with their full values. `["ab", "c"]` and
///   `["a", "bc"]` are different children (tikv/rust-prometheus merges them).
/// - **No guard escapes**: every method returns an owned `Arc<M>`, so two calls in one
///   expression cannot deadlock (prometheus/client_rust#231).
///
/// # Cardinality limit: the overflow series
///
/// A family holds at most [`limit`](Self::limit) children (default
/// [`DEFAULT_LIMIT`](Self::DEFAULT_LIMIT)). Once it is full, a new combination of
/// values gets the family's single *overflow child*, exposed as
/// `name{otel_metric_overflow="true"}`, instead of a new child. This is the
/// OpenTelemetry SDK's policy and label (`otel.metric.overflow`), chosen over an error
/// because instrumentation code cannot do anything useful with an error except drop
/// the observation: with the overflow series the family's totals stay right
/// (`sum(rate(…))` still counts every request), the overflow is visible on a dashboard,
/// and memory stays bounded. Removing or clearing children makes room again.
///
/// # Exposition order
///
/// Children are written sorted by their label values (lexicographically, value by
/// value, by bytes), then the overflow child; so the output is deterministic. The
/// sorted list of children (their packed keys and handles) is cached between scrapes
/// and rebuilt only when children were created or removed since the last one: a
/// scrape of an unchanged family sorts nothing and allocates nothing, a changed one
/// allocates the new list once. A scrape reads all shards at one moment (holding
/// their read locks while it copies the handles, never while it writes), so it sees
/// each child once and never more children than the limit; the list is written with
/// no lock held (the writer is user code).
pub struct Family<M, F = fn() -> M> {
    /// Invariant: valid label names, distinct, none reserved by `M`'s type or equal to
    /// [`OVERFLOW_LABEL`](Self::OVERFLOW_LABEL).
    names: &'static [&'static str],
    make: F,
    limit: usize,
    /// Keys the hash of the label values; random per family.
    hasher: RandomState,
    /// Invariant: a key lives only in the shard [`Probe::shard`] names for its hash.
    shards: [RwLock<Shard<M>>; SHARDS],
    /// Invariant: the number of children in all shards, `<= limit`; changed only under
    /// the write lock of the shard that gains or loses the child.
    len: AtomicUsize,
    /// Counts changes to the set of children. Invariant: incremented under the write
    /// lock of the shard that changes, so a reader holding every shard's read lock
    /// sees the latest value.
    generation: AtomicU64,
    /// The children in exposition order, as of some generation.
    sorted: Sorted<M>,
    /// The child that stands in for every combination refused by the limit; created
    /// the first time the limit refuses one.
    overflow: RwLock<Option<Arc<M>>>,
}

impl<M: Series> Family<M> {
    /// A family whose children carry `label_names` and are built by `make` (a function
    /// such as `Counter::new`, or a closure that captures nothing, such as
    /// `|| Histogram::with_buckets(&BUCKETS)`), limited to
    /// [`DEFAULT_LIMIT`](Self::DEFAULT_LIMIT) children.
    ///
    /// # Errors
    ///
    /// [`LabelNamesError`] if a name is invalid, repeated, or reserved.
    pub fn new(
        label_names: &'static [&'static str],
        make: fn() -> M,
    ) -> Result<Self, LabelNamesError> {
        Self::with_constructor(label_names, make)
    }
}

impl<M: Series, F: Fn() -> M> Family<M, F> {
    /// The most children a family holds unless told otherwise: 2000, the OpenTelemetry
    /// SDK's default cardinality limit.
    pub const DEFAULT_LIMIT: usize = 2000;

    /// The label that marks the overflow child:
    /// `name{otel_metric_overflow="true"}`, as the OpenTelemetry SDK writes it.
    pub const OVERFLOW_LABEL: &'static str = "otel_metric_overflow";

    /// The number of shards the children are spread over.
    pub const SHARDS: usize = SHARDS;

    /// Like [`new`](Family::new) with any constructor, such as a closure that captures
    /// run-time bucket bounds.
    ///
    /// # Errors
    ///
    /// [`LabelNamesError`] if a name is invalid, repeated, or reserved.
    pub fn with_constructor(
        label_names: &'static [&'static str],
        make: F,
    ) -> Result<Self, LabelNamesError> {
        let reserved: &[&str] = match M::TYPE {
            MetricType::Histogram => &["le"],
            MetricType::Summary => &["quantile"],
            _ => &[],
        };
        for (i, label) in label_names.iter().enumerate() {
            if !is_label_name(label) {
                return Err(LabelNamesError::Invalid { label });
            }
            if reserved.contains(label) || *label == Self::OVERFLOW_LABEL {
                return Err(LabelNamesError::Reserved { label });
            }
            if label_names[..i].contains(label) {
                return Err(LabelNamesError::Duplicate { label });
            }
        }
        Ok(Self {
            names: label_names,
            make,
            limit: Self::DEFAULT_LIMIT,
            hasher: RandomState::new(),
            shards: core::array::from_fn(|_| RwLock::new(HashMap::default())),
            len: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            sorted: Sorted::new(),
            overflow: RwLock::new(None),
        })
    }

    /// Sets the most children the family holds before new combinations go to the
    /// overflow child. `0` sends everything to the overflow child.
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The label names, in exposition order.
    #[must_use]
    pub fn label_names(&self) -> &'static [&'static str] {
        self.names
    }

    /// The most children the family holds.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The number of children (not counting the overflow child).
    #[must_use]
    pub fn len(&self) -> usize {
        // ORDERING: Relaxed: a count, read on its own.
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the family has no children (not counting the overflow child).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The child for `values` (one per label name, in order), created at zero if it
    /// does not exist; or, when the family is full, the overflow child.
    ///
    /// An existing child costs a hash, a shared read lock and an `Arc` clone; nothing
    /// is allocated. Keep the handle where a path is hot.
    ///
    /// # Errors
    ///
    /// [`LabelCountError`] if `values` does not have one value per label name.
    pub fn get_or_create(&self, values: &[&str]) -> Result<Arc<M>, LabelCountError> {
        let probe = self.probe(values)?;
        let shard = &self.shards[probe.shard()];
        // Read before the lookup. ORDERING: Relaxed is enough: if this load sees the
        // family full because a racing thread just created this very child (its
        // increment of `len` happens under the shard's write lock), then this thread's
        // read lock below cannot come before that write lock (the load would then
        // precede the increment), so it comes after its release and the lookup finds
        // the child instead of sending it to the overflow.
        let full = self.len() >= self.limit;
        if let Some(child) = find(&read(shard), &probe) {
            return Ok(Arc::clone(child));
        }
        if full {
            return Ok(self.overflow_child());
        }
        // Built before locking: `make` is user code and must not run under a lock.
        let child = Arc::new((self.make)());
        let key = Key::new(probe.values);
        let mut map = write(shard);
        if let Some(existing) = find(&map, &probe) {
            return Ok(Arc::clone(existing));
        }
        // ORDERING: Relaxed: the count only has to be exact, which the atomic
        // read-modify-write guarantees; it publishes nothing.
        let reserved = self
            .len
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .is_ok();
        if !reserved {
            drop(map);
            return Ok(self.overflow_child());
        }
        match map.entry(probe.hash) {
            Entry::Vacant(slot) => {
                slot.insert(Slot::One(key, Arc::clone(&child)));
            }
            Entry::Occupied(mut slot) => slot.get_mut().push(key, Arc::clone(&child)),
        }
        self.changed();
        Ok(child)
    }

    /// The child for `values`, if it exists (never the overflow child).
    ///
    /// # Errors
    ///
    /// [`LabelCountError`] if `values` does not have one value per label name.
    pub fn get(&self, values: &[&str]) -> Result<Option<Arc<M>>, LabelCountError> {
        let probe = self.probe(values)?;
        Ok(find(&read(&self.shards[probe.shard()]), &probe).cloned())
    }

    /// Removes the child for `values` from the family and returns it. Handles to it
    /// stay valid but are no longer exposed.
    ///
    /// # Errors
    ///
    /// [`LabelCountError`] if `values` does not have one value per label name.
    pub fn remove(&self, values: &[&str]) -> Result<Option<Arc<M>>, LabelCountError> {
        let probe = self.probe(values)?;
        let mut map = write(&self.shards[probe.shard()]);
        let removed = match map.entry(probe.hash) {
            Entry::Vacant(_) => None,
            Entry::Occupied(mut slot) => {
                let removed = slot.get_mut().remove(probe.values);
                if slot.get().len() == 0 {
                    slot.remove();
                }
                removed
            }
        };
        if removed.is_some() {
            // ORDERING: Relaxed: see `get_or_create`.
            self.len.fetch_sub(1, Ordering::Relaxed);
            self.changed();
        }
        drop(map);
        // The child is dropped, if this was its last handle, after the lock is released.
        Ok(removed)
    }

    /// Removes every child and the overflow child. Handles stay valid.
    pub fn clear(&self) {
        for shard in &self.shards {
            let mut map = write(shard);
            let removed = core::mem::take(&mut *map);
            let count = removed.values().map(Slot::len).sum();
            // ORDERING: Relaxed: see `get_or_create`.
            self.len.fetch_sub(count, Ordering::Relaxed);
            if count > 0 {
                self.changed();
            }
            drop(map);
            // `removed` drops here, after the lock is released.
        }
        let overflow = write_lock(&self.overflow).take();
        drop(overflow);
    }

    fn probe<'a>(&self, values: &'a [&'a str]) -> Result<Probe<'a>, LabelCountError> {
        if values.len() != self.names.len() {
            return Err(LabelCountError {
                expected: self.names.len(),
                got: values.len(),
            });
        }
        // The hasher sees the values' bytes with `0xFF`, a byte UTF-8 never uses,
        // between them: with the number of values fixed, different values give
        // different input, so the last value needs no terminator (as `str::hash` would
        // write) and a lookup makes one `write` call fewer.
        let mut hasher = self.hasher.build_hasher();
        if let Some((last, rest)) = values.split_last() {
            for value in rest {
                hasher.write(value.as_bytes());
                hasher.write_u8(0xFF);
            }
            hasher.write(last.as_bytes());
        }
        Ok(Probe {
            hash: hasher.finish(),
            values,
        })
    }

    /// Records a change to the set of children; called under the changed shard's
    /// write lock.
    fn changed(&self) {
        // ORDERING: Relaxed: read only under every shard's read lock, which orders it
        // after this write lock's release (see `sorted.rs`).
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    fn overflow_child(&self) -> Arc<M> {
        if let Some(child) = read_lock(&self.overflow).as_ref() {
            return Arc::clone(child);
        }
        // Built before locking, and dropped after, if another thread won the race.
        let fresh = Arc::new((self.make)());
        let mut slot = write_lock(&self.overflow);
        let child = Arc::clone(slot.get_or_insert_with(|| Arc::clone(&fresh)));
        drop(slot);
        child
    }
}

impl<M, F> fmt::Debug for Family<M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("label_names", &self.names)
            .field("limit", &self.limit)
            // ORDERING: Relaxed: see `len`.
            .field("len", &self.len.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<M, F> Collect for Family<M, F>
where
    M: Series + Send + Sync,
    F: Fn() -> M + Sync,
{
    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    fn label_names(&self) -> &[&'static str] {
        self.names
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        // The cached sorted list, or a fresh one if children changed; written from this
        // scrape's own handle on it, with no lock held.
        let children = self.sorted.get(&self.shards, || {
            // ORDERING: Relaxed: called with every shard read-locked (see `changed`).
            self.generation.load(Ordering::Relaxed)
        });
        for (key, child) in children.iter().flatten() {
            let labels = ChildLabels {
                names: self.names,
                key,
            };
            child.encode_series(&labels, encoder)?;
        }
        let overflow = read_lock(&self.overflow).clone();
        if let Some(child) = overflow {
            child.encode_series(&[(Self::OVERFLOW_LABEL, "true")], encoder)?;
        }
        Ok(())
    }
}

/// A child's label pairs: the family's names with the values of its packed key, read
/// as they are written.
struct ChildLabels<'a> {
    names: &'static [&'static str],
    /// Invariant: one value per name.
    key: &'a Key,
}

impl EncodeLabels for ChildLabels<'_> {
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
        self.names
            .iter()
            .zip(self.key.values())
            .try_for_each(|(name, value)| labels.label(name, value))
    }
}

/// Why a [`Family`] could not be built from its label names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelNamesError {
    /// The name does not match `[a-zA-Z_][a-zA-Z0-9_]*` or starts with `__`.
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
                "invalid label name {label:?}: use letters, digits and '_', not starting \
                 with a digit or \"__\""
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

/// The label values given to a [`Family`] did not match its label names in number.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_of_the_same_bytes_hash_apart() {
        // Not needed for correctness (slots compare full values), but for the hash's
        // resistance to chosen collisions: the hashed input must differ.
        let family = Family::new(&["a", "b"], crate::Counter::new).expect("valid names");
        let hash = |values: &[&str]| family.probe(values).expect("two values").hash;
        assert_ne!(hash(&["ab", "c"]), hash(&["a", "bc"]));
        assert_ne!(hash(&["", "a"]), hash(&["a", ""]));
        assert_eq!(hash(&["a", "bc"]), hash(&["a", "bc"]));
    }
}
