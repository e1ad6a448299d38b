//! Families of metrics labelled by values known only at run time (a path, a status
//! code, a tenant), with a cardinality limit. Needs the `std` feature.
//!
//! Two fronts over one implementation: [`Family<M, N>`](Family), whose `N` label names
//! are written in the source (a `const fn` constructor, so it can be a `static`;
//! lookups take exactly `N` values, checked by the type system, and return no
//! `Result`), and [`DynFamily<M>`](DynFamily), whose names are chosen at run time
//! (checked when it is built, the number of values checked at each lookup).
//!
//! The design (locking, keys, the cardinality limit, the exposition order) is
//! documented on [`Family`], where users read it. Submodules: `table` (the children,
//! shared by both fronts), `dynamic` (`DynFamily` and its errors), `key` (the packed
//! label values), `shard` (the sharded maps and their slots), `sorted` (the exposition
//! order, cached between scrapes), `expiry` (expiry that waits for a scrape).

mod dynamic;
mod expiry;
mod key;
mod shard;
mod sorted;
mod table;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::collect::{Collect, MetricType, Series};
use crate::sample::Encoder;
pub use dynamic::{DynFamily, LabelCountError, LabelNamesError};
use table::Table;

/// Child metrics keyed by the values of `N` labels known at run time, with a
/// cardinality limit.
///
/// `M` is the child metric ([`Counter`](crate::Counter), [`Gauge`](crate::Gauge),
/// [`Histogram`](crate::Histogram), any [`Series`]); `N` the number of labels; `F`
/// builds a new child, so histograms get their buckets (by default a function
/// pointer, so the type can be written in a `static`). Children are [`Arc<M>`] handles that stay valid after they are removed
/// from the family (a removed child is no longer exposed; asking for its values again
/// creates a new child at zero).
///
/// The constructors are `const`, so a family is a `static` like any metric, with no
/// `LazyLock`. Lookups take exactly one value per label name, `[&str; N]`, so a wrong
/// count does not compile and they return no `Result`. The label names are checked
/// when the family is registered, as metric names are: an invalid, repeated or
/// reserved name (`le` on a histogram, `quantile` on a summary,
/// [`OVERFLOW_LABEL`](Self::OVERFLOW_LABEL)) is a [`RegisterError`](crate::RegisterError).
/// When the names are only known at run time (from a configuration, from `metrics`
/// facade keys), use [`DynFamily`], which checks them when it is built and checks the
/// number of values at each lookup.
///
/// ```
/// use torchlight::{Buckets, Counter, Family, Format, Histogram, Metric, Registry};
///
/// static LATENCY_BUCKETS: Buckets<3> = Buckets::new([0.01, 0.1, 1.0]);
///
/// static REQUESTS: Metric<Family<Counter, 2>> = Metric::new(
///     "http_requests",
///     "Requests served.",
///     Family::new(["method", "path"], Counter::new),
/// );
/// static LATENCY: Metric<Family<Histogram<3>, 1>> = Metric::new(
///     "http_latency_seconds",
///     "Time to serve.",
///     Family::new(["path"], || Histogram::with_buckets(&LATENCY_BUCKETS)).with_limit(100),
/// );
///
/// let registry = Registry::new();
/// registry.register(&REQUESTS)?;
/// registry.register(&LATENCY)?;
///
/// // Look a child up once and keep the handle on hot paths.
/// let home = REQUESTS.get_or_create(["GET", "/"]);
/// home.inc();
/// REQUESTS.get_or_create(["POST", "/say \"hi\""]).inc_by(2);
/// LATENCY.get_or_create(["/"]).observe(0.05);
///
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert!(text.contains("http_requests_total{method=\"GET\",path=\"/\"} 1\n"));
/// assert!(text.contains("http_requests_total{method=\"POST\",path=\"/say \\\"hi\\\"\"} 2\n"));
/// assert!(text.contains("http_latency_seconds_bucket{path=\"/\",le=\"0.1\"} 1\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A wrong number of values is a compile error:
///
/// ```compile_fail
/// use torchlight::{Counter, Family};
///
/// static REQUESTS: Family<Counter, 2> = Family::new(["method", "path"], Counter::new);
/// REQUESTS.get_or_create(["GET"]); // expected an array with 2 elements
/// ```
///
/// A bad label name is refused when the family is registered:
///
/// ```
/// use torchlight::{Family, Histogram, Metric, RegisterError, Registry};
///
/// static LATENCY: Metric<Family<Histogram, 1>> =
///     Metric::new("latency_seconds", "Time to serve.", Family::new(["le"], Histogram::new));
///
/// let refused = Registry::new().register(&LATENCY).unwrap_err();
/// assert_eq!(refused, RegisterError::ReservedLabelName { name: "latency_seconds", label: "le" });
/// assert_eq!(
///     refused.to_string(),
///     "metric \"latency_seconds\" cannot use label name \"le\": its type writes that label itself",
/// );
/// ```
///
/// # Design
///
/// A family maps label values to child metrics held by [`Arc`], in
/// [`SHARDS`](Self::SHARDS) `RwLock<HashMap>` shards:
///
/// - **Lookup** hashes the values once (SipHash with a per-family random key, drawn on
///   the first lookup, so attacker-chosen values cannot force collisions), takes the
///   *read* lock of one shard, finds the hash in its map and then the child by
///   comparing the *full* values with the borrowed `&str`s (length, then bytes, value
///   by value), then clones the `Arc`. No exclusive lock, no allocation.
/// - **Creation** builds the child and its key outside any lock (so the constructor,
///   user code, never runs under a lock), then takes the shard's write lock, checks
///   again and inserts. Two allocations stay: the child's `Arc` and its packed key
///   (an `Arc<str>`, packed on the stack first when it is at most 256 bytes), plus the
///   map's growth. An empty family has allocated nothing.
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
///
/// # Expiry that waits for a scrape
///
/// With [`with_idle_timeout`](Self::with_idle_timeout), a child nobody uses goes away,
/// but never before a scrape has read its final value. A *scrape* is any
/// [`Registry::encode`](crate::Registry::encode) or `encode_to` that includes the
/// family (so a request to any server serving its registry); each one first looks at
/// every child:
///
/// - a child is **used** at a scrape if a lookup ([`get_or_create`](Self::get_or_create),
///   [`get`](Self::get)) handed out its handle since the previous scrape looked, or a
///   handle to it (an `Arc` a lookup returned) is alive outside the family at that
///   moment; its *last use* is the time of the last scrape that found it used;
/// - a scrape that finds **no handle alive** writes a value no update can change
///   without a new lookup: once the family's children are all written without an
///   error from the encoder, the child is *exposed*;
/// - a later scrape **removes** an exposed child if no lookup handed it out since, no
///   handle is alive, and its last use is at least the timeout ago; that scrape does
///   not write it. The series ends with the value the exposing scrape wrote.
///
/// So a child is removed at the earliest by the second scrape after its last use, and
/// never while a handle to it is alive: **keeping a handle keeps the child** (a
/// handle kept forever keeps it forever). A later lookup of the same values creates
/// a new child, at zero: a new series. The cardinality limit counts live children, so
/// expiry makes room; the overflow child never expires. "Written" means handed to the
/// encoder: a sink that fails afterwards (a full buffer, a closed connection) does not
/// undo the exposure, so a timeout of several scrape intervals leaves room for a
/// failed scrape. Lookups only store a flag (no clock, no allocation, no exclusive
/// lock); a scrape reads the clock once and takes each shard's write lock twice,
/// briefly. Two scrapes of one family at the same instant may see each other's
/// passing handles as alive, which only delays expiry.
///
/// ```
/// use std::time::Duration;
/// use torchlight::{Counter, Family, Format, Metric, Registry};
///
/// static JOBS: Metric<Family<Counter, 1>> = Metric::new(
///     "jobs",
///     "Jobs run, by tenant.",
///     Family::new(["tenant"], Counter::new).with_idle_timeout(Duration::ZERO),
/// );
/// let registry = Registry::new();
/// registry.register(&JOBS)?;
/// let scrape = || -> Result<String, std::fmt::Error> {
///     let mut text = String::new();
///     registry.encode(&mut text, Format::Text)?;
///     Ok(text)
/// };
///
/// JOBS.get_or_create(["acme"]).inc(); // the handle is dropped at once
/// assert!(scrape()?.contains("jobs_total{tenant=\"acme\"} 1\n")); // exposed
/// assert!(!scrape()?.contains("acme")); // unused since: removed
/// assert!(JOBS.is_empty());
///
/// let held = JOBS.get_or_create(["initech"]);
/// held.inc();
/// scrape()?;
/// scrape()?; // a handle is alive: kept
/// held.inc();
/// drop(held);
/// assert!(scrape()?.contains("jobs_total{tenant=\"initech\"} 2\n")); // final value
/// assert!(!scrape()?.contains("initech"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Family<M, const N: usize, F = fn() -> M> {
    /// Checked at registration (valid, distinct, none reserved by `M`'s type or equal
    /// to [`OVERFLOW_LABEL`](Self::OVERFLOW_LABEL)), like every metric's label names.
    names: [&'static str; N],
    table: Table<M, F>,
}

impl<M, const N: usize, F> Family<M, N, F> {
    /// The most children a family holds unless told otherwise: 2000, the OpenTelemetry
    /// SDK's default cardinality limit.
    pub const DEFAULT_LIMIT: usize = table::DEFAULT_LIMIT;

    /// The label that marks the overflow child:
    /// `name{otel_metric_overflow="true"}`, as the OpenTelemetry SDK writes it.
    pub const OVERFLOW_LABEL: &'static str = table::OVERFLOW_LABEL;

    /// The number of shards the children are spread over.
    pub const SHARDS: usize = shard::SHARDS;
}

impl<M: Series, const N: usize> Family<M, N> {
    /// A family whose children carry `label_names` and are built by `make` (a function
    /// such as `Counter::new`, or a closure that captures nothing, such as
    /// `|| Histogram::with_buckets(&BUCKETS)`), limited to
    /// [`DEFAULT_LIMIT`](Self::DEFAULT_LIMIT) children. The names are checked when
    /// the family is registered.
    #[must_use]
    pub const fn new(label_names: [&'static str; N], make: fn() -> M) -> Self {
        Self::with_constructor(label_names, make)
    }
}

impl<M: Series, const N: usize, F: Fn() -> M> Family<M, N, F> {
    /// Like [`new`](Family::new) with any constructor, such as a closure that captures
    /// run-time bucket bounds (the family's type then names the closure's, so it is
    /// not for `static`s).
    #[must_use]
    pub const fn with_constructor(label_names: [&'static str; N], make: F) -> Self {
        Self {
            names: label_names,
            table: Table::new(make),
        }
    }

    /// Sets the most children the family holds before new combinations go to the
    /// overflow child. `0` sends everything to the overflow child.
    #[must_use]
    pub const fn with_limit(mut self, limit: usize) -> Self {
        self.table.set_limit(limit);
        self
    }

    /// Removes children once they have gone unused for `timeout` and a scrape has
    /// read their final value; see [Expiry that waits for a
    /// scrape](Self#expiry-that-waits-for-a-scrape) for exactly when. With
    /// `Duration::ZERO` a child goes at the first scrape after the one that exposed it.
    #[must_use]
    pub const fn with_idle_timeout(mut self, timeout: Duration) -> Self {
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
    pub const fn label_names(&self) -> &[&'static str; N] {
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

    /// The child for `values` (one per label name, in order), created at zero if it
    /// does not exist; or, when the family is full, the overflow child.
    ///
    /// An existing child costs a hash, a shared read lock and an `Arc` clone (with an
    /// idle timeout, also the store of a flag); nothing is allocated. Keep the handle
    /// where a path is hot (a kept handle keeps its child from expiring).
    pub fn get_or_create(&self, values: [&str; N]) -> Arc<M> {
        self.table.get_or_create(&values)
    }

    /// The child for `values`, if it exists (never the overflow child).
    #[must_use]
    pub fn get(&self, values: [&str; N]) -> Option<Arc<M>> {
        self.table.get(&values)
    }

    /// Removes the child for `values` from the family and returns it. Handles to it
    /// stay valid but are no longer exposed.
    pub fn remove(&self, values: [&str; N]) -> Option<Arc<M>> {
        self.table.remove(&values)
    }

    /// Removes every child and the overflow child. Handles stay valid.
    pub fn clear(&self) {
        self.table.clear();
    }

    /// Removes every child for which `keep(values, child)` returns `false` (never the
    /// overflow child). Handles to a removed child stay valid but are no longer
    /// exposed, as with [`remove`](Self::remove), so updates through them are lost
    /// from the exposition.
    ///
    /// `keep` runs with no lock held, over the children as a scrape would see them at
    /// the call; a child created meanwhile is not offered, and one removed and created
    /// again meanwhile is a new child and stays.
    ///
    /// ```
    /// use torchlight::{Counter, Family};
    ///
    /// let family = Family::new(["tenant"], Counter::new);
    /// family.get_or_create(["acme"]).inc_by(5);
    /// family.get_or_create(["initech"]).inc();
    /// family.retain(|[tenant], requests| *tenant == "acme" || requests.get() > 1);
    /// assert!(family.get(["acme"]).is_some());
    /// assert!(family.get(["initech"]).is_none());
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&[&str; N], &M) -> bool) {
        self.table.retain(|values, child| {
            // One value per name: the table holds exactly `N` for this family.
            <&[&str; N]>::try_from(values).map_or(true, |values| keep(values, child))
        });
    }
}

impl<M, const N: usize, F> fmt::Debug for Family<M, N, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("label_names", &self.names)
            .field("limit", &self.table.limit())
            .field("idle_timeout", &self.table.idle_timeout())
            .field("len", &self.table.len())
            .finish_non_exhaustive()
    }
}

impl<M, const N: usize, F> Collect for Family<M, N, F>
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
