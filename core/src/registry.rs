//! Registries: where metrics are gathered for a scrape, without allocating.
//!
//! A [`Registry`] is an intrusive, append-only linked list threaded through the
//! `'static` [`Metric`]s registered in it: each `Metric` carries a [`Node`] with the
//! link, so registering allocates nothing and a scrape walks the list without a lock.
//! Writers (registration, rare) serialise on a spin lock; readers (scrapes) only follow
//! `Acquire`-loaded links. The order of exposition is the order of registration.
//!
//! This module uses `unsafe` for exactly two things, both justified where they happen:
//! writing a node's type-erased entry once before the node is published, and turning
//! the published `*const Node` links back into the `&'static Node`s they came from.
//!
//! Invariant: a scrape sees a prefix of the registration order, and every node it
//! reaches has its entry written (the entry is written before the `Release` store of
//! the link to the node; readers load links with `Acquire`). `core/tests/loom.rs`
//! model-checks a scrape racing two registrations, with the entry in loom's cell so a
//! weakened ordering is a reported race; `core/tests/stress/registry.rs` stress-tests
//! it with hundreds of registrations.
#![allow(unsafe_code)]

#[cfg(all(feature = "std", not(loom)))]
mod collectors;
#[cfg(feature = "std")]
mod owned;

#[cfg(all(feature = "std", not(loom)))]
pub use collectors::{AsyncCollector, CollectorError};

use core::fmt;
use core::ptr;

use crate::collect::{Collect, MetricType};
use crate::created::WallClock;
use crate::encoding::{
    ByteSink, Chunked, EncodeError, Exposition, FamilyHead, FmtSink, Otlp, RemoteWrite, encode_end,
    encode_family, encode_remote_write_family, otlp, snappy_compress,
};
use crate::metric::{Entry, Metadata, Metric, Node};
use crate::name::{NameValidation, escape_alike, is_label_name};
use crate::sync::{AtomicPtr, Ordering, SpinLock, const_fn};

/// The process-wide default registry, like Python's `prometheus_client.REGISTRY`: the
/// adapters serve it unless told otherwise.
#[cfg(not(loom))]
pub static REGISTRY: Registry = Registry::new();

// SAFETY: `Node` (in `metric.rs`) is `Sync` here, beside the protocol that makes it
// sound: `entry` is the only field that is not `Sync` by itself. It is written once,
// before publication, by the one thread that won `claimed` (so no other thread can
// reach it yet), and only read after an `Acquire` load of a link that published it.
unsafe impl Sync for Node {}

/// The entry of a node reached through a published link.
fn entry_of(node: &Node) -> Option<&'static dyn Entry> {
    node.entry.with(|entry| {
        // SAFETY: callers reach `node` only through an `Acquire` load of a published
        // link, which happens after the single write of `entry` (see its invariant),
        // and nothing writes it again.
        unsafe { *entry }
    })
}

/// Follows a link loaded with `Acquire`.
fn follow(link: *mut Node) -> Option<&'static Node> {
    // SAFETY: every non-null link was made from a `&'static Node` (the `next`
    // invariant), so it is valid, aligned and immutable-shared forever.
    unsafe { link.cast_const().as_ref() }
}

/// A set of metric families that are exposed together.
///
/// ```
/// use torchlight::{Counter, Metric, Registry, RegisterError};
///
/// static A: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
/// static B: Metric<Counter> = Metric::new("jobs_total", "Jobs again.", Counter::new());
///
/// let registry = Registry::new();
/// registry.register(&A)?;
/// // `jobs_total` is the same counter family as `jobs`:
/// assert!(matches!(registry.register(&B), Err(RegisterError::Clash { .. })));
/// # Ok::<(), RegisterError>(())
/// ```
pub struct Registry {
    /// First node, or null.
    head: AtomicPtr<Node>,
    /// Last node, or null. Read and written only under `writers`.
    tail: AtomicPtr<Node>,
    /// Serialises registrations (static and owned) and their clash checks.
    writers: SpinLock,
    /// The name grammar registration checks.
    validation: NameValidation,
    /// Where registrations read the created timestamp they give each metric.
    created_clock: CreatedClock,
    /// `Arc`-owned families, exposed after the static ones.
    #[cfg(feature = "std")]
    owned: owned::Owned,
    /// Asynchronous collectors, once the first is registered.
    #[cfg(all(feature = "std", not(loom)))]
    collectors: collectors::Slot,
}

impl Registry {
    const_fn! {
        /// An empty registry accepting UTF-8 metric and label names
        /// ([`NameValidation::Utf8`], as client_golang and `prometheus_client` 0.26
        /// do): a name outside the legacy grammar reaches each scraper escaped as it
        /// negotiated ([`Escaping`](crate::Escaping)).
        #[must_use]
        pub const fn new() -> Self {
            Self::with_name_validation(NameValidation::Utf8)
        }
    }

    const_fn! {
        /// An empty registry accepting only legacy names
        /// ([`NameValidation::Legacy`]): every scraper reads every name as registered.
        ///
        /// ```
        /// use torchlight::{Counter, Metric, Registry, RegisterError};
        ///
        /// static DOTTED: Metric<Counter> =
        ///     Metric::new("http.server.requests", "Requests.", Counter::new());
        /// let registry = Registry::legacy();
        /// assert!(matches!(registry.register(&DOTTED), Err(RegisterError::InvalidName { .. })));
        /// ```
        #[must_use]
        pub const fn legacy() -> Self {
            Self::with_name_validation(NameValidation::Legacy)
        }
    }

    const_fn! {
        /// An empty registry checking names with `validation`.
        #[must_use]
        pub const fn with_name_validation(validation: NameValidation) -> Self {
            Self {
                head: AtomicPtr::new(ptr::null_mut()),
                tail: AtomicPtr::new(ptr::null_mut()),
                writers: SpinLock::new(),
                validation,
                created_clock: CreatedClock::DEFAULT,
                #[cfg(feature = "std")]
                owned: owned::Owned::new(),
                #[cfg(all(feature = "std", not(loom)))]
                collectors: collectors::Slot::new(),
            }
        }
    }

    /// The name grammar this registry's registrations check.
    #[must_use]
    pub const fn name_validation(&self) -> NameValidation {
        self.validation
    }

    const_fn! {
        /// Sets where a registration reads the created timestamp it gives the metric
        /// (see [`register`](Self::register)): `clock`, or with `None` nowhere, so
        /// metrics registered here carry none (nor do protobuf's `created_timestamp`
        /// and OpenMetrics' `_created` then). By default, the system's wall clock with
        /// `std`, and no clock without. A `Family` (`std`) stamps each child with the
        /// system's wall clock when it creates it, whatever its registry's clock.
        ///
        /// ```
        /// use core::time::Duration;
        /// use torchlight::{Counter, Format, ManualClock, Metric, Registry};
        ///
        /// // A target without `std` keeps the time itself, say from a real-time clock.
        /// static WALL: ManualClock = ManualClock::new();
        /// static REGISTRY: Registry = Registry::new().with_created_clock(Some(&WALL));
        /// static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
        ///
        /// WALL.set(Duration::from_secs(1_700_000_000));
        /// REGISTRY.register(&JOBS)?;
        /// let mut text = String::new();
        /// REGISTRY.encode(&mut text, Format::OpenMetrics.with_created_samples(true))?;
        /// assert!(text.contains("jobs_created 1.7e+09\n"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[must_use]
        pub const fn with_created_clock(mut self, clock: Option<&'static dyn WallClock>) -> Self {
            self.created_clock = match clock {
                Some(clock) => CreatedClock::Given(clock),
                None => CreatedClock::None,
            };
            self
        }
    }

    /// The created timestamp a registration gives now.
    fn created_now(&self) -> Option<core::time::Duration> {
        match self.created_clock {
            CreatedClock::Given(clock) => clock.unix_time(),
            #[cfg(all(feature = "std", not(loom)))]
            CreatedClock::System => crate::created::system_time(),
            CreatedClock::None => None,
        }
    }

    /// Adds `metric` to the exposition, after checking its name, help, unit and label
    /// names and that no registered family produces a sample name it would produce,
    /// as written or as any [`Escaping`](crate::Escaping) writes it (`a.b` and `a_b`
    /// are one family to a scraper that asked for `underscores`: the second is
    /// refused, [`RegisterError::Clash`]).
    ///
    /// A metric can be in one registry, once; registration is permanent (for metrics
    /// that come and go, see `register_owned` with the `std` feature).
    ///
    /// Registration is when a metric's series start for its scrapers: it sets their
    /// created timestamp ([`Collect::set_created`]) to the time of the registry's clock
    /// (see [`with_created_clock`](Self::with_created_clock): the system's wall clock
    /// with `std`). A `Family` stamps each child when it creates it instead.
    ///
    /// # Errors
    ///
    /// [`RegisterError`] says which rule was broken; nothing is registered then.
    pub fn register<M: Collect>(&self, metric: &'static Metric<M>) -> Result<(), RegisterError> {
        self.register_with(metric, || self.link(metric))
    }

    /// The registration step static and owned metrics share: validate, take `writers`,
    /// claim the node, check for clashes (giving the claim back on an error), then,
    /// still under `writers`, `publish` the metric.
    fn register_with<M: Collect>(
        &self,
        metric: &Metric<M>,
        publish: impl FnOnce(),
    ) -> Result<(), RegisterError> {
        let metric_type = metric.inner().metric_type();
        validate(
            self.validation,
            metric.metadata(),
            metric_type,
            metric.inner().label_names(),
        )?;

        let _writers = self.writers.lock();
        // ORDERING: Relaxed: `claimed` only arbitrates between registrations, which
        // are serialised by `writers` or, across registries, by this swap alone; the
        // entry it guards is published by the Release store of the link in `link`.
        if metric.node.claimed.swap(true, Ordering::Relaxed) {
            return Err(RegisterError::AlreadyRegistered {
                name: metric.metadata().name(),
            });
        }
        if let Err(error) = self.check_clashes(metric.metadata(), metric_type) {
            metric.node.claimed.store(false, Ordering::Relaxed);
            return Err(error);
        }
        // Before publishing, so the first scrape sees it; only a registration that
        // claimed the metric stamps it.
        metric.inner().set_created(self.created_now());
        publish();
        Ok(())
    }

    /// Appends a claimed static metric to the list; the caller holds `writers`.
    fn link<M: Collect>(&self, metric: &'static Metric<M>) {
        let entry: &'static dyn Entry = metric;
        metric.node.entry.with_mut(|slot| {
            // SAFETY: this registration won `claimed` above, and the node is not yet
            // reachable from any registry, so no other thread reads or writes `entry`.
            unsafe { *slot = Some(entry) }
        });

        let node: *mut Node = ptr::from_ref(&metric.node).cast_mut();
        // ORDERING: `tail` is only touched under `writers`, Relaxed is enough.
        match follow(self.tail.load(Ordering::Relaxed)) {
            // ORDERING: Release pairs with the Acquire loads in `entries`: a reader
            // that sees the link sees the node's entry, written above.
            Some(last) => last.next.store(node, Ordering::Release),
            // ORDERING: Release, as for `next` above.
            None => self.head.store(node, Ordering::Release),
        }
        self.tail.store(node, Ordering::Relaxed);
    }

    fn check_clashes(&self, new: &Metadata, new_type: MetricType) -> Result<(), RegisterError> {
        for entry in self.entries() {
            check_clash(entry, new, new_type)?;
        }
        #[cfg(feature = "std")]
        for entry in self.owned.snapshot() {
            check_clash(&*entry, new, new_type)?;
        }
        Ok(())
    }

    fn entries(&self) -> impl Iterator<Item = &'static dyn Entry> {
        // ORDERING: Acquire pairs with the Release stores in `register`: a reader that
        // sees a link sees the node's entry.
        let mut link = self.head.load(Ordering::Acquire);
        core::iter::from_fn(move || {
            let node = follow(link)?;
            // ORDERING: Acquire, as for `head` above.
            link = node.next.load(Ordering::Acquire);
            entry_of(node)
        })
    }

    /// Writes every registered family in `format` (ending with `# EOF` for
    /// OpenMetrics) as bytes into `out`: a `Vec<u8>` (`std`), a fixed buffer through
    /// [`SliceSink`](crate::SliceSink), or any [`ByteSink`]. The fastest way to encode:
    /// keep the buffer between scrapes.
    ///
    /// Allocates nothing for this crate's metric types registered with
    /// [`register`](Self::register) (counters, gauges, histograms, summaries, infos,
    /// state sets, `Labelled`), beyond what a growing `Vec` asks for. The exceptions,
    /// with `std`: a `Family` allocates once in a scrape after its children changed
    /// (it rebuilds its sorted list; nothing when they did not), and metrics added with
    /// `register_owned` are copied into a `Vec` of handles (one allocation per scrape
    /// when there are any). Your own [`Collect`] implementations allocate what they do.
    ///
    /// ```
    /// use torchlight::{Counter, Format, Metric, Registry};
    ///
    /// static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
    /// let registry = Registry::new();
    /// registry.register(&JOBS)?;
    ///
    /// # #[cfg(feature = "std")] {
    /// let mut body = Vec::new();
    /// registry.encode_to(&mut body, Format::OpenMetrics)?;
    /// assert_eq!(body, b"# HELP jobs Jobs run.\n# TYPE jobs counter\njobs_total 0.0\n# EOF\n");
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`EncodeError::Full`] when `out` runs out of room, [`EncodeError::Write`] when it
    /// fails, [`EncodeError::Collect`] when a collector fails; the exposition written
    /// so far is then incomplete.
    pub fn encode_to<B: ByteSink + ?Sized>(
        &self,
        out: &mut B,
        format: impl Into<Exposition>,
    ) -> Result<(), EncodeError> {
        self.write_exposition(out, format.into(), true)
    }

    /// Like [`encode_to`](Self::encode_to) but without the OpenMetrics `# EOF` line, for
    /// concatenating several registries into one exposition (add the `# EOF` once).
    ///
    /// # Errors
    ///
    /// As [`encode_to`](Self::encode_to).
    pub fn encode_families_to<B: ByteSink + ?Sized>(
        &self,
        out: &mut B,
        format: impl Into<Exposition>,
    ) -> Result<(), EncodeError> {
        self.write_exposition(out, format.into(), false)
    }

    /// Every family through one chunk, then `# EOF` if asked (and OpenMetrics).
    fn write_exposition<B: ByteSink + ?Sized>(
        &self,
        out: &mut B,
        exposition: Exposition,
        eof: bool,
    ) -> Result<(), EncodeError> {
        let mut chunked = Chunked::new(out);
        self.write_families(&mut chunked, exposition)?;
        if eof {
            encode_end(&mut chunked, exposition.format())?;
        }
        chunked.flush()
    }

    fn write_families<B: ByteSink + ?Sized>(
        &self,
        out: &mut Chunked<'_, B>,
        format: Exposition,
    ) -> Result<(), EncodeError> {
        self.each_entry(|entry| encode_entry(out, format, entry))
    }

    /// Calls `f` with every registered family, in exposition order.
    fn each_entry(
        &self,
        mut f: impl FnMut(&dyn Entry) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        for entry in self.entries() {
            f(entry)?;
        }
        // Handles copied out first: no lock is held while the writer runs. Nothing is
        // allocated when no owned metric is registered.
        #[cfg(feature = "std")]
        for entry in self.owned.snapshot() {
            f(&*entry)?;
        }
        Ok(())
    }

    /// Writes every registered family as one uncompressed Prometheus remote-write 1.0
    /// `WriteRequest` (protobuf) into `out`, which must keep what it wrote like
    /// [`Format::Protobuf`](crate::Format::Protobuf)'s sinks (a `Vec<u8>`, a [`SliceSink`](crate::SliceSink)):
    /// the series as a scrape would store them, labels sorted, each sample at
    /// `request`'s timestamp (the mapping is in `encoding/remote_write.rs`). Compress it
    /// with [`snappy_compress`](crate::snappy_compress) to send it, or call
    /// [`encode_remote_write`](Self::encode_remote_write), which does both.
    ///
    /// Allocates nothing beyond what [`encode_to`](Self::encode_to) allocates.
    ///
    /// # Errors
    ///
    /// As [`encode_to`](Self::encode_to), and [`EncodeError::Unsupported`] for a sink
    /// that cannot rewrite what it holds.
    pub fn encode_write_request<B: ByteSink + ?Sized>(
        &self,
        out: &mut B,
        request: &RemoteWrite<'_>,
    ) -> Result<(), EncodeError> {
        let mut chunked = Chunked::new(out);
        self.each_entry(|entry| {
            let (head, collector) = family_head(entry);
            encode_remote_write_family(&mut chunked, &head, request, |encoder| {
                collector.encode(encoder)
            })
        })?;
        chunked.flush()
    }

    /// Writes the body of a Prometheus remote-write 1.0 request into `out`: the
    /// `WriteRequest` of [`encode_write_request`](Self::encode_write_request), built in
    /// `scratch`, compressed with snappy's block format. Send it with
    /// [`RemoteWrite::HEADERS`]. Needs no allocator: firmware builds a request this
    /// way and sends it through its own transport.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Full`] when `scratch` cannot hold the uncompressed request or
    /// `out` the compressed one; otherwise as
    /// [`encode_write_request`](Self::encode_write_request).
    pub fn encode_remote_write<B: ByteSink + ?Sized>(
        &self,
        scratch: &mut [u8],
        out: &mut B,
        request: &RemoteWrite<'_>,
    ) -> Result<(), EncodeError> {
        let mut proto = crate::SliceSink::new(scratch);
        self.encode_write_request(&mut proto, request)?;
        snappy_compress(proto.filled(), out)
    }

    /// Writes every registered family as one OTLP `ExportMetricsServiceRequest`
    /// (protobuf, the body of an OTLP/HTTP export to `/v1/metrics`; send it with
    /// [`Otlp::HEADERS`]) into `out`, which must keep what it wrote like
    /// [`Format::Protobuf`](crate::Format::Protobuf)'s sinks (a `Vec<u8>`, a [`SliceSink`](crate::SliceSink)):
    /// one resource, the scope `torchlight`, a `Metric` per family with series, mapped
    /// as OpenTelemetry's Prometheus compatibility specification says (the table is in
    /// `encoding/otlp.rs`), cumulative points counting from `request`'s start time.
    /// Needs no allocator.
    ///
    /// Allocates nothing beyond what [`encode_to`](Self::encode_to) allocates.
    ///
    /// # Errors
    ///
    /// As [`encode_to`](Self::encode_to), and [`EncodeError::Unsupported`] for a sink
    /// that cannot rewrite what it holds.
    pub fn encode_otlp<B: ByteSink + ?Sized>(
        &self,
        out: &mut B,
        request: &Otlp<'_>,
    ) -> Result<(), EncodeError> {
        let mut chunked = Chunked::new(out);
        let open = otlp::begin(&mut chunked, request)?;
        self.each_entry(|entry| {
            let (head, collector) = family_head(entry);
            // The start time is the request's for every family: where a registry keeps
            // a creation time per metric, it goes here.
            let start = request.start_time_unix_nano();
            otlp::encode_family(&mut chunked, &head, start, request, |encoder| {
                collector.encode(encoder)
            })
        })?;
        otlp::end(&mut chunked, open)?;
        chunked.flush()
    }

    /// Writes every registered family in `format` (ending with `# EOF` for
    /// OpenMetrics) into any [`fmt::Write`], such as a `String`: a convenience over
    /// [`encode_to`](Self::encode_to), which it calls, handing `w` the exposition in
    /// chunks of a few hundred bytes, each checked to be UTF-8 (`encode_to` into a
    /// `Vec<u8>` skips that check). Allocates what [`encode_to`](Self::encode_to)
    /// allocates, plus whatever the writer does.
    ///
    /// # Errors
    ///
    /// When `w` fails or a collector fails.
    pub fn encode(&self, w: &mut dyn fmt::Write, format: impl Into<Exposition>) -> fmt::Result {
        Ok(self.encode_to(&mut FmtSink { w }, format)?)
    }

    /// Like [`encode`](Self::encode) but without the OpenMetrics `# EOF` line, for
    /// concatenating several registries into one exposition (add the `# EOF` once).
    ///
    /// # Errors
    ///
    /// When `w` fails or a collector fails.
    pub fn encode_families(
        &self,
        w: &mut dyn fmt::Write,
        format: impl Into<Exposition>,
    ) -> fmt::Result {
        Ok(self.encode_families_to(&mut FmtSink { w }, format)?)
    }
}

/// Where a registry's registrations read created timestamps.
#[derive(Clone, Copy)]
enum CreatedClock {
    /// The system's wall clock.
    #[cfg(all(feature = "std", not(loom)))]
    System,
    /// The user's.
    Given(&'static dyn WallClock),
    /// None: metrics carry no created timestamp.
    None,
}

impl CreatedClock {
    /// The system's wall clock where there is one.
    #[cfg(all(feature = "std", not(loom)))]
    const DEFAULT: Self = Self::System;
    #[cfg(not(all(feature = "std", not(loom))))]
    const DEFAULT: Self = Self::None;
}

/// Fails if `new` would produce a sample name that `entry` produces.
fn check_clash(
    entry: &dyn Entry,
    new: &Metadata,
    new_type: MetricType,
) -> Result<(), RegisterError> {
    let new_family = new.family(new_type);
    let existing_type = entry.collector().metric_type();
    let existing = entry.metadata().family(existing_type);
    let clash = [""].iter().chain(existing_type.sample_suffixes()).any(|a| {
        [""].iter()
            .chain(new_type.sample_suffixes())
            .any(|b| escape_alike(existing, a, new_family, b, false))
    });
    if clash {
        return Err(RegisterError::Clash {
            name: new.name(),
            existing: entry.metadata().name(),
        });
    }
    Ok(())
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        list.entries(self.entries().map(Entry::metadata));
        #[cfg(feature = "std")]
        for entry in self.owned.snapshot() {
            list.entry(entry.metadata());
        }
        list.finish()
    }
}

/// Writes one registered family: its metadata lines, then its samples.
fn encode_entry<B: ByteSink + ?Sized>(
    out: &mut Chunked<'_, B>,
    format: Exposition,
    entry: &dyn Entry,
) -> Result<(), EncodeError> {
    let (head, collector) = family_head(entry);
    encode_family(out, format, &head, |encoder| collector.encode(encoder))
}

/// A registered family's metadata as the formats take it, and its collector.
fn family_head(entry: &dyn Entry) -> (FamilyHead<'_>, &dyn Collect) {
    let collector = entry.collector();
    let metadata = entry.metadata();
    let metric_type = collector.metric_type();
    let head = FamilyHead {
        name: metadata.family(metric_type),
        metric_type,
        help: metadata.help(),
        unit: metadata.unit(),
        // A collector that declares no label names may still write labels (the
        // `metrics` recorder's families, whose label sets come at run time): only
        // declared names, all legacy, let the formats skip looking at each one.
        legacy_labels: {
            let names = collector.label_names();
            !names.is_empty() && names.iter().all(|name| is_label_name(name))
        },
    };
    (head, collector)
}

/// The label a run-time family writes on its overflow series (`Family::OVERFLOW_LABEL`,
/// as the OpenTelemetry SDK writes it), reserved here for every metric.
pub(crate) const OVERFLOW_LABEL: &str = "otel_metric_overflow";

/// Checks a family's metadata and label names against the exposition rules.
fn validate(
    validation: NameValidation,
    metadata: &Metadata,
    metric_type: MetricType,
    label_names: &[&'static str],
) -> Result<(), RegisterError> {
    let name = metadata.name();
    if !validation.is_metric_name(name) {
        return Err(RegisterError::InvalidName { name });
    }
    // A state set's family name is also the label that names its states.
    if metric_type == MetricType::StateSet
        && !validation.is_label_name(metadata.family(metric_type))
    {
        return Err(RegisterError::InvalidName { name });
    }
    if let Some(unit) = metadata.unit() {
        let unit_ok = !unit.is_empty()
            && unit
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
            && !matches!(metric_type, MetricType::Info | MetricType::StateSet);
        let family = metadata.family(metric_type);
        let suffix_ok = family.len() > unit.len()
            && family.ends_with(unit)
            && family.as_bytes()[family.len() - unit.len() - 1] == b'_';
        if !unit_ok || !suffix_ok {
            return Err(RegisterError::InvalidUnit { name, unit });
        }
    }
    let reserved: &[&str] = match metric_type {
        MetricType::Histogram => &["le"],
        MetricType::Summary => &["quantile"],
        MetricType::StateSet => &[metadata.family(metric_type)],
        _ => &[],
    };
    for (i, label) in label_names.iter().enumerate() {
        if !validation.is_label_name(label) {
            return Err(RegisterError::InvalidLabelName { name, label });
        }
        // A family writes `otel_metric_overflow` on its overflow series; the registry
        // cannot tell a family from other collectors, so no metric may use it. Names
        // that a scheme writes as a reserved one, or as another label, are refused too.
        let alike = |other: &str| escape_alike(label, "", other, "", true);
        if reserved.iter().any(|r| alike(r)) || alike(OVERFLOW_LABEL) {
            return Err(RegisterError::ReservedLabelName { name, label });
        }
        if label_names[..i].iter().any(|other| alike(other)) {
            return Err(RegisterError::DuplicateLabelName { name, label });
        }
    }
    Ok(())
}

/// Why a metric could not be registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// The metric name is empty, or, in a [`Registry::legacy`], does not match
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*` (for a state set, which uses its name as a label
    /// name, `[a-zA-Z_][a-zA-Z0-9_]*` without a leading `__`).
    InvalidName {
        /// The rejected name.
        name: &'static str,
    },
    /// A label name is empty or starts with `__`, or, in a [`Registry::legacy`], does
    /// not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    InvalidLabelName {
        /// The metric.
        name: &'static str,
        /// The rejected label name.
        label: &'static str,
    },
    /// A label name the exposition writes itself: `le` on histograms, `quantile` on
    /// summaries, the family name on state sets, `otel_metric_overflow` (on a label
    /// family's overflow series) on any metric.
    ReservedLabelName {
        /// The metric.
        name: &'static str,
        /// The reserved label name.
        label: &'static str,
    },
    /// The same label name twice, or two that an [`Escaping`](crate::Escaping) writes
    /// alike (`a.b` and `a_b`).
    DuplicateLabelName {
        /// The metric.
        name: &'static str,
        /// The repeated label name.
        label: &'static str,
    },
    /// The unit is empty, has characters outside `[a-zA-Z0-9_:]`, is set on an info
    /// or state set, or is not the suffix `_<unit>` of the family name.
    InvalidUnit {
        /// The metric.
        name: &'static str,
        /// The rejected unit.
        unit: &'static str,
    },
    /// Another registered family already produces one of this family's sample names,
    /// as written or as an [`Escaping`](crate::Escaping) writes both (`a.b` and `a_b`).
    Clash {
        /// The metric being registered.
        name: &'static str,
        /// The registered metric it clashes with.
        existing: &'static str,
    },
    /// This metric is already in a registry (owned metrics: until unregistered).
    AlreadyRegistered {
        /// The metric.
        name: &'static str,
    },
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName { name } => write!(
                f,
                "invalid metric name {name:?}: a name must not be empty, and a legacy registry \
                 takes only letters, digits, '_' and ':', not starting with a digit \
                 (a state set's name is also a label name: no ':' and no leading \"__\")"
            ),
            Self::InvalidLabelName { name, label } => write!(
                f,
                "metric {name:?} has invalid label name {label:?}: a label name must not be empty \
                 or start with \"__\", and a legacy registry takes only letters, digits and '_', \
                 not starting with a digit"
            ),
            Self::ReservedLabelName { name, label } if *label == OVERFLOW_LABEL => write!(
                f,
                "metric {name:?} cannot use label name {label:?}: a label family writes it on \
                 its overflow series; pick another name"
            ),
            Self::ReservedLabelName { name, label } => write!(
                f,
                "metric {name:?} cannot use label name {label:?}: its type writes that label itself"
            ),
            Self::DuplicateLabelName { name, label } => write!(
                f,
                "metric {name:?} names label {label:?} twice (or two labels a scraper's name \
                 escaping writes alike, such as \"a.b\" and \"a_b\"); rename one"
            ),
            Self::InvalidUnit { name, unit } => write!(
                f,
                "metric {name:?} cannot have unit {unit:?}: the name must end in \"_{unit}\" \
                 and infos and state sets take no unit"
            ),
            Self::Clash { name, existing } => write!(
                f,
                "metric {name:?} would expose sample names that {existing:?} already exposes \
                 (as written, or as a scraper's name escaping writes both, such as \"a.b\" and \
                 \"a_b\"); rename one of them"
            ),
            Self::AlreadyRegistered { name } => write!(f, "metric {name:?} is already registered"),
        }
    }
}

impl core::error::Error for RegisterError {}
