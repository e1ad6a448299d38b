//! Families of metrics labelled by values known only at run time (a path, a status
//! code, a tenant), with a cardinality limit. Needs the `std` feature.
//!
//! The design (locking, keys, the cardinality limit, the exposition order) is
//! documented on [`Family`], where users read it.

use std::boxed::Box;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::string::String;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::vec::Vec;

use crate::collect::{Collect, Series};
use crate::encoding::MetricType;
use crate::name::is_label_name;
use crate::sample::{EncodeLabels, Encoder, LabelEncoder};
use crate::sync::{AtomicUsize, Ordering};

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
///   (built in place in a `Box<str>`), plus the map's growth.
/// - **Keys** are the label values themselves, packed into one `Box<str>`, each value
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
/// value, by bytes), then the overflow child; so the output is deterministic. A scrape
/// copies the children's handles into a `Vec` and their packed keys into one buffer,
/// shard by shard, and writes them with no lock held (the writer is user code). Shards
/// are read one after another, so a scrape racing removals and creations can mix
/// moments (and then show a few more children than the limit), but never shows a child
/// twice: a combination of values always lives in the same shard.
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
    /// The size of the last scrape's buffer of packed keys: the next one starts at
    /// that capacity instead of growing to it. Only a hint.
    packed_hint: AtomicUsize,
    /// The child that stands in for every combination refused by the limit; created
    /// the first time the limit refuses one.
    overflow: RwLock<Option<Arc<M>>>,
}

/// Children by the hash of their values. The map compares hashes only; the [`Slot`]
/// under a hash compares the full values.
type Shard<M> = HashMap<u64, Slot<M>, BuildHasherDefault<PassThrough>>;

/// 16 shards: enough that threads working on different children rarely share a lock
/// word (a read lock is still one atomic read-modify-write on it), few enough that a
/// family costs about a kilobyte empty. dashmap makes the same trade with
/// `4 × cores` rounded to a power of two; a fixed count keeps the type simple.
const SHARDS: usize = 16;

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
            packed_hint: AtomicUsize::new(0),
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
        // Copy the handles and the packed keys out, shard by shard, so that no lock is
        // held while the writer runs. The keys go one after another into one buffer,
        // which then reads as one packed sequence of `children.len() × width` values.
        let mut children: Vec<Arc<M>> = Vec::with_capacity(self.len());
        // ORDERING: Relaxed: a capacity hint; any value is correct.
        let mut packed = String::with_capacity(self.packed_hint.load(Ordering::Relaxed));
        for shard in &self.shards {
            let map = read(shard);
            for (key, child) in map.values().flat_map(Slot::iter) {
                packed.push_str(&key.0);
                children.push(Arc::clone(child));
            }
        }
        // ORDERING: Relaxed: see above.
        self.packed_hint.store(packed.len(), Ordering::Relaxed);
        // Decode every key once, into one flat table of borrowed values, and sort row
        // numbers: comparing packed keys directly would decode both on every comparison.
        let width = self.names.len();
        let mut values: Vec<&str> = Vec::with_capacity(children.len() * width);
        values.extend(Values(&packed));
        let row = |index: usize| &values[index * width..(index + 1) * width];
        let mut order: Vec<usize> = (0..children.len()).collect();
        order.sort_unstable_by(|&a, &b| row(a).cmp(row(b)));
        for index in order {
            let labels = ChildLabels {
                names: self.names,
                values: row(index),
            };
            children[index].encode_series(&labels, encoder)?;
        }
        let overflow = read_lock(&self.overflow).clone();
        if let Some(child) = overflow {
            child.encode_series(&[(Self::OVERFLOW_LABEL, "true")], encoder)?;
        }
        Ok(())
    }
}

/// A child's label pairs: the family's names with its decoded values.
struct ChildLabels<'a> {
    names: &'static [&'static str],
    /// Invariant: one value per name.
    values: &'a [&'a str],
}

impl EncodeLabels for ChildLabels<'_> {
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
        self.names
            .iter()
            .zip(self.values)
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

fn read<M>(shard: &RwLock<Shard<M>>) -> RwLockReadGuard<'_, Shard<M>> {
    read_lock(shard)
}

fn write<M>(shard: &RwLock<Shard<M>>) -> RwLockWriteGuard<'_, Shard<M>> {
    write_lock(shard)
}

// A poisoned lock only means a thread panicked while holding it; no code here can
// leave a map half-updated (inserts and removals are single calls), so carry on.
fn read_lock<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// The child for `probe` in `map`, if there is one.
#[inline]
fn find<'m, M>(map: &'m Shard<M>, probe: &Probe<'_>) -> Option<&'m Arc<M>> {
    map.get(&probe.hash)?.get(probe.values)
}

/// A child's label values, owned: one allocation for all of them.
///
/// Invariant: for each value in order, its byte length as a [`Prefix`], then the value.
/// The prefix bytes are ASCII, so the whole key is a `str`, and keys packed one after
/// another read as one sequence of values.
struct Key(Box<str>);

impl Key {
    fn new(values: &[&str]) -> Self {
        let capacity = values
            .iter()
            .map(|value| Prefix::new(value.len()).len() + value.len())
            .sum();
        let mut packed = String::with_capacity(capacity);
        for value in values {
            Prefix::new(value.len()).push_to(&mut packed);
            packed.push_str(value);
        }
        // Exactly `capacity` bytes long, so this keeps the buffer: one allocation.
        Self(packed.into_boxed_str())
    }

    /// Whether the key holds exactly `values`: lengths first, then bytes, value by
    /// value, without decoding into anything.
    #[inline]
    fn holds(&self, values: &[&str]) -> bool {
        let mut rest = self.0.as_bytes();
        for value in values {
            let Some((len, tail)) = Prefix::read(rest) else {
                return false;
            };
            let Some((stored, tail)) = tail.split_at_checked(len) else {
                return false;
            };
            if stored != value.as_bytes() {
                return false;
            }
            rest = tail;
        }
        rest.is_empty()
    }
}

/// The children whose values have the same hash: one, unless 64-bit hashes collide.
enum Slot<M> {
    One(Key, Arc<M>),
    /// Invariant: at least two children, with different keys, except for the empty
    /// slot [`remove`](Self::remove) leaves for the map to drop. Boxed, not a `Vec`, so
    /// that it fits beside `One`'s niche and a slot takes no more room than `One`.
    Many(Box<[(Key, Arc<M>)]>),
}

impl<M> Slot<M> {
    #[inline]
    fn get(&self, values: &[&str]) -> Option<&Arc<M>> {
        match self {
            Self::One(key, child) => key.holds(values).then_some(child),
            Self::Many(children) => children
                .iter()
                .find_map(|(key, child)| key.holds(values).then_some(child)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::One(..) => 1,
            Self::Many(children) => children.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&Key, &Arc<M>)> {
        let (one, many) = match self {
            Self::One(key, child) => (Some((key, child)), &[][..]),
            Self::Many(children) => (None, &children[..]),
        };
        one.into_iter()
            .chain(many.iter().map(|(key, child)| (key, child)))
    }

    /// Adds a child whose values are not in the slot yet.
    fn push(&mut self, key: Key, child: Arc<M>) {
        let children = match core::mem::replace(self, Self::Many(Box::default())) {
            Self::One(first_key, first) => Box::from([(first_key, first), (key, child)]),
            Self::Many(children) => {
                let mut children = Vec::from(children);
                children.push((key, child));
                children.into_boxed_slice()
            }
        };
        *self = Self::Many(children);
    }

    /// Removes the child for `values`, if the slot has it. Removing the only child
    /// leaves the slot empty (`len() == 0`): the caller removes it from the map.
    fn remove(&mut self, values: &[&str]) -> Option<Arc<M>> {
        let index = self.iter().position(|(key, _)| key.holds(values))?;
        // An empty `Many` does not allocate.
        let mut children = match core::mem::replace(self, Self::Many(Box::default())) {
            Self::One(key, child) => Vec::from([(key, child)]),
            Self::Many(children) => Vec::from(children),
        };
        let (_, child) = children.swap_remove(index);
        *self = if children.len() == 1 {
            let (key, last) = children.swap_remove(0);
            Self::One(key, last)
        } else {
            Self::Many(children.into_boxed_slice())
        };
        Some(child)
    }
}

/// Label values being looked up, borrowed from the caller.
struct Probe<'a> {
    hash: u64,
    values: &'a [&'a str],
}

impl Probe<'_> {
    /// Bits 32..36 of the hash pick the shard: the map inside uses the low bits for the
    /// bucket and the top seven for its tags, so these stay independent of both.
    fn shard(&self) -> usize {
        // Masked to 0..16: the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let index = ((self.hash >> 32) as usize) % SHARDS;
        index
    }
}

/// A value's byte length as it precedes the value in a [`Key`]: little-endian groups
/// of [`Prefix::BITS`] bits, one ASCII byte each, [`Prefix::MORE`] set on every byte
/// but the last. A value under 64 bytes (nearly all of them) takes one byte; a `usize`
/// takes at most 11.
struct Prefix {
    bytes: [u8; Prefix::MAX],
    len: usize,
}

impl Prefix {
    /// Length bits per byte: 6, leaving [`MORE`](Self::MORE) and a clear top bit, so
    /// every prefix byte is ASCII.
    const BITS: u32 = 6;
    /// Marks a byte that another one follows.
    const MORE: u8 = 0x40;
    /// The low [`BITS`](Self::BITS) bits.
    const MASK: u8 = 0x3f;
    /// Bytes for the largest `usize`: `ceil(64 / 6)`.
    const MAX: usize = usize::BITS.div_ceil(Self::BITS) as usize;

    fn new(mut len: usize) -> Self {
        let mut bytes = [0; Self::MAX];
        let mut used = 0;
        loop {
            // Masked to 6 bits: the cast cannot truncate.
            #[allow(clippy::cast_possible_truncation)]
            let group = (len as u8) & Self::MASK;
            len >>= Self::BITS;
            if len == 0 {
                bytes[used] = group;
                return Self {
                    bytes,
                    len: used + 1,
                };
            }
            bytes[used] = group | Self::MORE;
            used += 1;
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn push_to(&self, packed: &mut String) {
        // Every byte is below 0x80: one ASCII `char` each.
        packed.extend(self.bytes[..self.len].iter().copied().map(char::from));
    }

    /// Splits the first value off `packed`: `None` when `packed` is empty (or, which
    /// the invariant on [`Key`] rules out, malformed).
    fn split(packed: &str) -> Option<(&str, &str)> {
        let (len, rest) = Self::read(packed.as_bytes())?;
        let start = packed.len() - rest.len();
        let end = start.checked_add(len)?;
        Some((packed.get(start..end)?, packed.get(end..)?))
    }

    /// Reads a prefix off the front of `bytes`: the length and what follows it.
    #[inline]
    fn read(bytes: &[u8]) -> Option<(usize, &[u8])> {
        let (&first, mut rest) = bytes.split_first()?;
        if first & Self::MORE == 0 {
            return Some((usize::from(first), rest));
        }
        let mut len = usize::from(first & Self::MASK);
        let mut shift = Self::BITS;
        loop {
            let (&byte, tail) = rest.split_first()?;
            rest = tail;
            let group = usize::from(byte & Self::MASK);
            len |= group.checked_shl(shift)?;
            if byte & Self::MORE == 0 {
                return Some((len, rest));
            }
            shift += Self::BITS;
        }
    }
}

/// The values of a packed key (or of several packed keys one after another), in order.
struct Values<'a>(&'a str);

impl<'a> Iterator for Values<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (value, rest) = Prefix::split(self.0)?;
        self.0 = rest;
        Some(value)
    }
}

/// The map's hasher: passes through the hash the family already computed, so values
/// are hashed once per lookup.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is ever called (the map's keys are `u64`s); fold anything
        // else in rather than lose it.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(values: &[&str]) -> Key {
        Key::new(values)
    }

    fn decoded(key: &Key) -> Vec<&str> {
        Values(&key.0).collect()
    }

    #[test]
    fn keys_round_trip_any_value() {
        let long = "é".repeat(5_000);
        let values = [
            "",
            "ab",
            "ünï\"\\\n",
            "0000000000000003abc",
            "\u{0}\u{3f}\u{40}\u{7f}",
            &long[..62],
            &long[..64],
            &long[..4_094],
            &long[..4_096],
            &long,
            "x",
        ];
        let key = packed(&values);
        assert_eq!(decoded(&key), values);
        // Exactly the prefixes and the values: nothing allocated beyond them.
        // One byte under 64, two under 4096, three under 262 144.
        let prefixes = 7 + 2 * 2 + 2 * 3;
        let bytes: usize = values.iter().map(|v| v.len()).sum();
        assert_eq!(key.0.len(), prefixes + bytes);
        // Keys one after another read as one sequence (what a scrape decodes).
        let both = [&*packed(&["a", "bc"]).0, &*key.0].concat();
        let decoded: Vec<&str> = Values(&both).collect();
        assert_eq!(decoded[..2], ["a", "bc"]);
        assert_eq!(decoded[2..], values);
    }

    #[test]
    fn prefixes_round_trip_every_length_class() {
        for len in [
            0,
            1,
            63,
            64,
            4_095,
            4_096,
            1 << 30,
            usize::MAX - 1,
            usize::MAX,
        ] {
            let prefix = Prefix::new(len);
            let bytes = &prefix.bytes[..prefix.len()];
            assert!(bytes.is_ascii(), "{len}: {bytes:?}");
            assert_eq!(Prefix::read(bytes), Some((len, &[][..])), "{len}");
        }
        assert_eq!(Prefix::new(63).len(), 1);
        assert_eq!(Prefix::new(64).len(), 2);
        assert_eq!(Prefix::new(usize::MAX).len(), Prefix::MAX);
        // A truncated or overlong prefix is rejected, not misread.
        assert_eq!(Prefix::read(&[Prefix::MORE]), None);
        assert_eq!(Prefix::read(&[Prefix::MORE | 1; 12]), None);
    }

    #[test]
    fn keys_compare_full_values() {
        // Same concatenation, different split: never the same key.
        let key = packed(&["a", "bc"]);
        assert!(key.holds(&["a", "bc"]));
        assert!(!key.holds(&["ab", "c"]));
        assert!(!packed(&["ab", "c"]).holds(&["a", "bc"]));
        // Fewer, more, shorter, longer, other values: all different.
        assert!(!key.holds(&["a"]));
        assert!(!packed(&["a"]).holds(&["a", ""]));
        assert!(!key.holds(&["a", "b"]));
        assert!(!packed(&["a", "b"]).holds(&["a", "bc"]));
        assert!(!key.holds(&["a", "bd"]));
    }

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

    #[test]
    fn a_slot_keeps_children_whose_hashes_collide_apart() {
        let (a, b, c) = (Arc::new(1), Arc::new(2), Arc::new(3));
        let mut slot = Slot::One(packed(&["a"]), Arc::clone(&a));
        slot.push(packed(&["b"]), Arc::clone(&b));
        slot.push(packed(&["c"]), Arc::clone(&c));
        assert_eq!(slot.len(), 3);
        assert_eq!(slot.iter().count(), 3);
        assert!(slot.get(&["b"]).is_some_and(|child| Arc::ptr_eq(child, &b)));
        assert!(slot.get(&["d"]).is_none());
        assert!(slot.remove(&["d"]).is_none());
        assert!(
            slot.remove(&["b"])
                .is_some_and(|child| Arc::ptr_eq(&child, &b))
        );
        assert!(
            slot.remove(&["a"])
                .is_some_and(|child| Arc::ptr_eq(&child, &a))
        );
        // Back to one child: removing it empties the slot.
        assert!(matches!(slot, Slot::One(..)));
        assert!(slot.get(&["c"]).is_some_and(|child| Arc::ptr_eq(child, &c)));
        assert!(slot.remove(&["a"]).is_none());
        assert!(
            slot.remove(&["c"])
                .is_some_and(|child| Arc::ptr_eq(&child, &c))
        );
        assert_eq!(slot.len(), 0);
        assert!(slot.get(&["c"]).is_none());
    }

    #[test]
    fn a_slot_is_no_larger_than_a_key_and_a_handle() {
        // The `Many` case lives in the niche of `One`'s key pointer: a map entry
        // (hash, slot) stays 32 bytes on 64-bit targets.
        assert_eq!(size_of::<Slot<u64>>(), size_of::<(Key, Arc<u64>)>());
    }
}
