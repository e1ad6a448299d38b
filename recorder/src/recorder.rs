//! [`TorchlightRecorder`]: the `metrics` facade's `Recorder`, writing into a torchlight
//! [`Registry`].
//!
//! # How a recording finds its series
//!
//! `counter!("name", "key" => "value").increment(1)` asks the recorder for a handle
//! (`register_counter`) on every call, so that lookup is the hot path:
//!
//! 1. the name, as recorded, in a map of names (one shared *read* lock); a name seen
//!    for the first time is spelled for the registry (as recorded where it accepts
//!    UTF-8 names, sanitised for a legacy one: see [`names`](crate::names)), and
//!    names spelled alike share one entry;
//! 2. the set of label keys in that name's [`LabelSets`] (a read lock, a comparison of
//!    a few keys);
//! 3. the child in that set's torchlight [`DynFamily`](torchlight::DynFamily) (its lookup:
//!    one hash, one shard's read lock, no allocation for an existing child).
//!
//! The handle is the family's own `Arc` child, so the recording itself is the
//! torchlight operation (`Counter::inc_by`, `FloatGauge::add`, `Histogram::observe`).
//! Before all three steps, a bounded cache keyed by the recorded `Key` (its hash is
//! computed once, at compile time for literal keys) returns a series resolved before
//! (see `cache.rs`): a repeated call costs one shard's read lock and an `Arc` clone.
//! With an idle timeout there is no such cache: a cached handle would keep its series
//! from ever expiring, so each call takes the three steps.
//!
//! # Registration, descriptions and clashes
//!
//! A name's first use registers one family with the registry
//! ([`Registry::register_owned`]), with the description and unit given by
//! `describe_*!` so far. The registry checks it against everything registered there,
//! native torchlight metrics included: if it refuses (a clash, such as `a.b` beside
//! `a_b`, which a scraper asking for `underscores` would read alike; an empty name),
//! the error is reported once and that name records into no-op handles from then on, so
//! the output never holds two families of one name. A description that arrives after
//! the first use re-registers the family with it (unregister, register: a scrape
//! running at that instant can miss the family once).
//!
//! A unit is written (`# UNIT`, OpenMetrics) only when the family name already ends
//! in `_<unit>`, as OpenMetrics requires; torchlight never renames a metric to add
//! one. `Unit::Count` is no unit.
//!
//! # Memory
//!
//! Metric names and label names become `'static` torchlight metadata: each distinct
//! name leaks its spelled name and description once (again when re-described), and
//! each set of label keys its label names (at most [`MAX_LABEL_SETS`] per name).
//! Label *values* are never leaked: they live in the family, bounded by its limit.
//!
//! [`MAX_LABEL_SETS`]: crate::MAX_LABEL_SETS

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use torchlight::{Metric, RegisterError, Registry, Series};

use crate::buckets::Buckets;
use crate::cache::{Cache, Handle};
use crate::child::{CounterChild, GaugeChild, HistogramChild};
use crate::error::RecordError;
use crate::label_sets::{Exposed, LabelSets, Make, Settings};

/// A `metrics` recorder that exposes what it records through a torchlight
/// [`Registry`], next to the registry's native metrics.
///
/// Build it with [`Builder`](crate::Builder) (or install it with
/// [`install`](crate::install)); see the [crate] docs for an example. Cloning is cheap:
/// clones share every series.
#[derive(Clone)]
pub struct TorchlightRecorder {
    inner: Arc<Inner>,
}

struct Inner {
    registry: &'static Registry,
    settings: Settings,
    buckets: Buckets,
    /// Recorded keys to their series: the fast path; `None` with an idle timeout.
    cache: Option<Cache>,
    /// Names as recorded (and as spelled for the registry) to their entry.
    entries: RwLock<HashMap<Box<str>, Entry>>,
    /// Descriptions by spelled name, from `describe_*!`.
    descriptions: Mutex<HashMap<String, Description>>,
    /// (spelled name, kind) pairs whose kind mismatch was reported.
    mismatches: Mutex<HashSet<(String, Kind)>>,
}

/// A description given by `describe_*!`, leaked as registry metadata needs.
#[derive(Clone, Copy)]
struct Description {
    help: &'static str,
    unit: Option<&'static str>,
}

/// What a spelled name records into.
#[derive(Clone)]
enum Entry {
    Counter(Arc<Named<CounterChild>>),
    Gauge(Arc<Named<GaugeChild>>),
    Histogram(Arc<Named<HistogramChild>>),
    /// The registry refused the name (reported once).
    Refused,
}

impl Entry {
    fn kind(&self) -> Option<Kind> {
        match self {
            Self::Counter(_) => Some(Kind::Counter),
            Self::Gauge(_) => Some(Kind::Gauge),
            Self::Histogram(_) => Some(Kind::Histogram),
            Self::Refused => None,
        }
    }
}

/// The facade's three kinds of metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// A registered name: its families and the metric that exposes them.
struct Named<M> {
    sets: Arc<LabelSets<M>>,
    /// The registered metric; replaced when a description arrives later.
    metric: Mutex<Arc<Metric<Exposed<M>>>>,
}

impl TorchlightRecorder {
    pub(crate) fn new(registry: &'static Registry, settings: Settings, buckets: Buckets) -> Self {
        Self {
            inner: Arc::new(Inner {
                registry,
                cache: settings.idle_timeout.is_none().then(Cache::new),
                settings,
                buckets,
                entries: RwLock::new(HashMap::new()),
                descriptions: Mutex::new(HashMap::new()),
                mismatches: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// The registry this recorder registers its families in.
    #[must_use]
    pub fn registry(&self) -> &'static Registry {
        self.inner.registry
    }
}

impl fmt::Debug for TorchlightRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self
            .inner
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("TorchlightRecorder")
            .field("registry", &self.inner.registry)
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// The entry for `name` as recorded, creating (and registering) it as `kind` on
    /// first use.
    fn entry(&self, name: &str, kind: Kind) -> Entry {
        if let Some(entry) = self.read_entries().get(name) {
            return entry.clone();
        }
        let sanitised = self.settings.spelling.metric_name(name).into_owned();
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get(name) {
            return entry.clone();
        }
        let mut refusal = None;
        let entry = match entries.get(sanitised.as_str()) {
            Some(entry) => entry.clone(),
            None => {
                let entry = self.create(&sanitised, kind).unwrap_or_else(|error| {
                    refusal = Some(error);
                    Entry::Refused
                });
                entries.insert(sanitised.clone().into_boxed_str(), entry.clone());
                entry
            }
        };
        entries.insert(Box::from(name), entry.clone());
        drop(entries);
        // Reported with no lock held: the hook is user code, and may record.
        if let Some(error) = refusal {
            (self.settings.report)(&error);
        }
        entry
    }

    fn read_entries(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Box<str>, Entry>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new name as `kind` (called once per spelled name, under the
    /// entries' write lock, so two threads cannot register it twice).
    fn create(&self, sanitised: &str, kind: Kind) -> Result<Entry, RecordError> {
        let name: &'static str = Box::leak(Box::from(sanitised));
        let registered = match kind {
            Kind::Counter => self
                .register(name, Arc::new(CounterChild::default))
                .map(Entry::Counter),
            Kind::Gauge => self
                .register(name, Arc::new(GaugeChild::default))
                .map(Entry::Gauge),
            Kind::Histogram => {
                let layout = self.buckets.layout(name);
                self.register(name, Arc::new(move || HistogramChild::new(layout)))
                    .map(Entry::Histogram)
            }
        };
        registered.map_err(|source| RecordError::Register {
            name: sanitised.to_owned(),
            source,
        })
    }

    fn register<M: Series + Send + Sync + 'static>(
        &self,
        name: &'static str,
        make: Make<M>,
    ) -> Result<Arc<Named<M>>, RegisterError> {
        let sets = Arc::new(LabelSets::new(name, make));
        let description = self.description(name);
        let metric = self.register_metric(name, description, &sets)?;
        Ok(Arc::new(Named {
            sets,
            metric: Mutex::new(metric),
        }))
    }

    /// Registers `sets` under `name`, with the unit only if the registry accepts it
    /// (the name must end in `_<unit>`; the registry owns that rule).
    fn register_metric<M: Series + Send + Sync + 'static>(
        &self,
        name: &'static str,
        description: Description,
        sets: &Arc<LabelSets<M>>,
    ) -> Result<Arc<Metric<Exposed<M>>>, RegisterError> {
        let plain = || Metric::new(name, description.help, Exposed(Arc::clone(sets)));
        if let Some(unit) = description.unit {
            let metric = Arc::new(plain().with_unit(unit));
            match self.registry.register_owned(Arc::clone(&metric)) {
                Ok(()) => return Ok(metric),
                Err(RegisterError::InvalidUnit { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let metric = Arc::new(plain());
        self.registry.register_owned(Arc::clone(&metric))?;
        Ok(metric)
    }

    fn description(&self, sanitised: &str) -> Description {
        self.descriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sanitised)
            .copied()
            .unwrap_or(Description {
                help: "",
                unit: None,
            })
    }

    /// Remembers a description and applies it to a family already registered.
    fn describe(&self, name: &str, unit: Option<Unit>, help: &str, kind: Kind) {
        let sanitised = self.settings.spelling.metric_name(name).into_owned();
        let unit = unit
            .filter(|unit| *unit != Unit::Count)
            .map(|unit| unit.as_str());
        {
            let mut descriptions = self
                .descriptions
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(known) = descriptions.get(&sanitised) {
                if known.help == help && known.unit == unit {
                    return;
                }
            }
            let description = Description {
                help: Box::leak(Box::from(help)),
                unit,
            };
            descriptions.insert(sanitised.clone(), description);
        }
        let entry = self.read_entries().get(sanitised.as_str()).cloned();
        match entry {
            Some(Entry::Counter(named)) if kind == Kind::Counter => self.redescribe(&named),
            Some(Entry::Gauge(named)) if kind == Kind::Gauge => self.redescribe(&named),
            Some(Entry::Histogram(named)) if kind == Kind::Histogram => self.redescribe(&named),
            _ => {}
        }
    }

    /// Re-registers `named` with the current description.
    fn redescribe<M: Series + Send + Sync + 'static>(&self, named: &Named<M>) {
        let refusal = {
            let mut metric = named.metric.lock().unwrap_or_else(PoisonError::into_inner);
            let name = metric.metadata().name();
            let description = self.description(name);
            self.registry.unregister(&metric);
            match self.register_metric(name, description, &named.sets) {
                Ok(new) => {
                    *metric = new;
                    None
                }
                Err(source) => {
                    // The old registration was valid a moment ago; keep serving it.
                    let _ = self.registry.register_owned(Arc::clone(&metric));
                    Some(RecordError::Register {
                        name: name.to_owned(),
                        source,
                    })
                }
            }
        };
        if let Some(error) = refusal {
            (self.settings.report)(&error);
        }
    }

    /// Reports that `name`, a `first`, was used as a `now`, once per pair.
    fn mismatch(&self, name: &str, first: Kind, now: Kind) {
        let sanitised = self.settings.spelling.metric_name(name).into_owned();
        let new = self
            .mismatches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((sanitised.clone(), now));
        if new {
            (self.settings.report)(&RecordError::KindMismatch {
                name: sanitised,
                first: first.as_str(),
                now: now.as_str(),
            });
        }
    }
}

impl Recorder for TorchlightRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner
            .describe(key.as_str(), unit, &description, Kind::Counter);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner
            .describe(key.as_str(), unit, &description, Kind::Gauge);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner
            .describe(key.as_str(), unit, &description, Kind::Histogram);
    }

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> Counter {
        self.inner
            .resolve::<CounterChild>(key)
            .map_or_else(Counter::noop, Counter::from_arc)
    }

    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> Gauge {
        self.inner
            .resolve::<GaugeChild>(key)
            .map_or_else(Gauge::noop, Gauge::from_arc)
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        self.inner
            .resolve::<HistogramChild>(key)
            .map_or_else(Histogram::noop, Histogram::from_arc)
    }
}

/// A child type and where it sits in the recorder's enums: what lets one
/// [`Inner::resolve`] serve the three kinds.
trait Child: Series + Send + Sync + Sized + 'static {
    const KIND: Kind;
    /// The cached child, if `handle` is of this kind.
    fn cached(handle: Handle) -> Option<Arc<Self>>;
    /// The cache entry for `child`.
    fn handle(child: Arc<Self>) -> Handle;
    /// The name's label sets, if `entry` is of this kind.
    fn sets(entry: &Entry) -> Option<&Arc<LabelSets<Self>>>;
}

/// `Child` for a child type whose `Kind`, `Handle` and `Entry` variants are all
/// named `$kind`.
macro_rules! child {
    ($child:ty, $kind:ident) => {
        impl Child for $child {
            const KIND: Kind = Kind::$kind;

            fn cached(handle: Handle) -> Option<Arc<Self>> {
                match handle {
                    Handle::$kind(child) => Some(child),
                    _ => None,
                }
            }

            fn handle(child: Arc<Self>) -> Handle {
                Handle::$kind(child)
            }

            fn sets(entry: &Entry) -> Option<&Arc<LabelSets<Self>>> {
                match entry {
                    Entry::$kind(named) => Some(&named.sets),
                    _ => None,
                }
            }
        }
    };
}

child!(CounterChild, Counter);
child!(GaugeChild, Gauge);
child!(HistogramChild, Histogram);

impl Inner {
    /// The series `key` records into as an `M`: from the cache, else looked up (and
    /// created) through the name's entry and cached. `None` when refused (reported
    /// once).
    fn resolve<M: Child>(&self, key: &Key) -> Option<Arc<M>> {
        let cache = self.cache.as_ref();
        if let Some(child) = cache.and_then(|cache| cache.get(key)).and_then(M::cached) {
            return Some(child);
        }
        let entry = self.entry(key.name(), M::KIND);
        let Some(sets) = M::sets(&entry) else {
            if let Some(first) = entry.kind() {
                self.mismatch(key.name(), first, M::KIND);
            }
            return None;
        };
        let child = sets.child(key.labels(), &self.settings)?;
        if let Some(cache) = cache {
            cache.insert(key, M::handle(Arc::clone(&child)));
        }
        Some(child)
    }
}
