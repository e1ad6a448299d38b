//! [`Builder`]: the recorder's options, set with `with_*` and checked by
//! [`Builder::build`].

use std::fmt;
use std::time::Duration;

use torchlight::{DynFamily, Registry};

use crate::buckets::{Buckets, Matcher, Request, Spec};
use crate::child::CounterChild;
use crate::error::{BuildError, InstallError, RecordError};
use crate::label_sets::Settings;
use crate::names::Spelling;
use crate::recorder::TorchlightRecorder;

/// Options of a [`TorchlightRecorder`]: histogram buckets (or native histograms) per
/// metric name, prefix or suffix, global labels, the cardinality limit and where errors
/// are reported.
///
/// Every option is a `with_*` method that returns the builder, so they chain; what
/// can be wrong with them (bucket bounds, native factors) is checked once, by [`build`](Self::build)
/// or [`install`](Self::install).
///
/// ```
/// use torchlight::{Format, Registry};
/// use torchlight_metrics::Builder;
///
/// static REGISTRY: Registry = Registry::new();
///
/// let recorder = Builder::new(&REGISTRY)
///     .with_buckets(&[0.01, 0.1, 1.0])
///     .with_buckets_for_prefix("db_", &[0.001, 0.01])
///     .with_global_label("service", "checkout")
///     .with_limit(500)
///     .build()?;
/// metrics::with_local_recorder(&recorder, || {
///     metrics::histogram!("db_query_seconds").record(0.005);
/// });
///
/// let mut text = String::new();
/// REGISTRY.encode(&mut text, Format::Text)?;
/// assert!(text.contains("db_query_seconds_bucket{service=\"checkout\",le=\"0.01\"} 1\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Builder {
    registry: &'static Registry,
    /// In the order given; checked by `build`.
    buckets: Vec<Spec>,
    globals: Vec<(String, String)>,
    limit: usize,
    idle_timeout: Option<Duration>,
    report: Box<dyn Fn(&RecordError) + Send + Sync>,
}

impl Builder {
    /// A recorder for `registry` (usually [`torchlight::REGISTRY`], the one the
    /// adapters serve by default) with torchlight's defaults: histograms with
    /// [`DEFAULT_BUCKETS`](torchlight::DEFAULT_BUCKETS) (Python `prometheus_client`'s),
    /// no global labels, each family limited to [`DynFamily::DEFAULT_LIMIT`] children,
    /// errors written to standard error.
    #[must_use]
    pub fn new(registry: &'static Registry) -> Self {
        Self {
            registry,
            buckets: Vec::new(),
            globals: Vec::new(),
            limit: DynFamily::<CounterChild>::DEFAULT_LIMIT,
            idle_timeout: None,
            report: Box::new(|error| std::eprintln!("torchlight-metrics: {error}")),
        }
    }

    /// The bucket bounds of every histogram no `with_buckets_for_*` option matches; a
    /// later call replaces them. [`build`](Self::build) checks them.
    #[must_use]
    pub fn with_buckets(self, bounds: &[f64]) -> Self {
        self.with_spec(Matcher::Default, "", Request::Bounds(bounds.to_vec()))
    }

    /// The bucket bounds of the histogram named `name` (as exposed: sanitised for a
    /// legacy registry, as recorded names are). Takes precedence over prefixes and suffixes; the last one given for a name
    /// wins. [`build`](Self::build) checks them.
    #[must_use]
    pub fn with_buckets_for_name(self, name: &str, bounds: &[f64]) -> Self {
        self.with_spec(Matcher::Name, name, Request::Bounds(bounds.to_vec()))
    }

    /// The bucket bounds of histograms whose name starts with `prefix`; the longest
    /// matching prefix wins, and a prefix wins over a suffix. [`build`](Self::build)
    /// checks them.
    #[must_use]
    pub fn with_buckets_for_prefix(self, prefix: &str, bounds: &[f64]) -> Self {
        self.with_spec(Matcher::Prefix, prefix, Request::Bounds(bounds.to_vec()))
    }

    /// The bucket bounds of histograms whose name ends with `suffix`; the longest
    /// matching suffix wins. [`build`](Self::build) checks them.
    #[must_use]
    pub fn with_buckets_for_suffix(self, suffix: &str, bounds: &[f64]) -> Self {
        self.with_spec(Matcher::Suffix, suffix, Request::Bounds(bounds.to_vec()))
    }

    /// Makes every histogram no `with_*_for_*` option matches a native histogram
    /// whose buckets grow by at most `factor` (1.1 is client_golang's suggestion):
    /// torchlight's [`NativeHistogram`](torchlight::NativeHistogram) with its default
    /// bound of 160 buckets, past which the resolution drops as client_golang's does,
    /// and client_golang's zero threshold. Prometheus scraping protobuf gets the
    /// native buckets; text scrapers only `+Inf`, `_sum` and `_count`. A series costs
    /// about 14.6 KiB. A later call, or [`with_buckets`](Self::with_buckets), replaces
    /// it. [`build`](Self::build) checks that `factor` is above 1.
    #[must_use]
    pub fn with_native_histograms(self, factor: f64) -> Self {
        self.with_spec(Matcher::Default, "", Request::Native(factor))
    }

    /// Makes the histogram named `name` (as exposed, as for
    /// [`with_buckets_for_name`](Self::with_buckets_for_name)) a native
    /// histogram, as [`with_native_histograms`](Self::with_native_histograms)
    /// describes. A native setting competes with the bucket settings as one of them:
    /// a name wins over prefixes and suffixes, the last one given for a name wins.
    #[must_use]
    pub fn with_native_histogram_for_name(self, name: &str, factor: f64) -> Self {
        self.with_spec(Matcher::Name, name, Request::Native(factor))
    }

    /// Makes histograms whose name starts with `prefix` native histograms (see
    /// [`with_native_histograms`](Self::with_native_histograms)); the longest
    /// matching prefix of either kind wins, and a prefix wins over a suffix.
    #[must_use]
    pub fn with_native_histogram_for_prefix(self, prefix: &str, factor: f64) -> Self {
        self.with_spec(Matcher::Prefix, prefix, Request::Native(factor))
    }

    /// Makes histograms whose name ends with `suffix` native histograms (see
    /// [`with_native_histograms`](Self::with_native_histograms)); the longest
    /// matching suffix of either kind wins.
    #[must_use]
    pub fn with_native_histogram_for_suffix(self, suffix: &str, factor: f64) -> Self {
        self.with_spec(Matcher::Suffix, suffix, Request::Native(factor))
    }

    fn with_spec(mut self, matcher: Matcher, pattern: &str, request: Request) -> Self {
        self.buckets.push(Spec {
            matcher,
            pattern: pattern.to_owned(),
            request,
        });
        self
    }

    /// Adds the label `name="value"` to every series this recorder records, before
    /// the recorded labels; a recorded label of the same name takes precedence. A
    /// second call with the same name replaces the value.
    ///
    /// Only the series recorded through the `metrics` facade carry it: native
    /// torchlight metrics registered in the same registry are not this recorder's and
    /// keep exactly the labels they were defined with. For a label on every series of
    /// a process (`service`, `zone`), Prometheus' target labels (relabelling, or
    /// `labels` in the scrape configuration) cover both kinds.
    #[must_use]
    pub fn with_global_label(mut self, name: &str, value: &str) -> Self {
        let name = Spelling::of(self.registry).label_name(name).into_owned();
        self.globals.retain(|(known, _)| *known != name);
        self.globals.push((name, value.to_owned()));
        self
    }

    /// The most children each family holds (see [`DynFamily::with_limit`]); past it, new
    /// combinations of label values share the family's overflow series
    /// `{otel_metric_overflow="true"}`, so totals stay right and memory bounded.
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Removes a series once it has gone unrecorded for `timeout` and a scrape has
    /// shown its final value: each family's
    /// [`DynFamily::with_idle_timeout`], for counters, gauges and histograms alike
    /// (`metrics-exporter-prometheus`' `idle_timeout`, without its kind mask). A
    /// series recorded again later starts anew (a counter from zero).
    ///
    /// "Recorded" means a `counter!`/`gauge!`/`histogram!` call resolved the series,
    /// or a handle from one is alive: a `metrics::Counter` (or gauge, histogram) kept
    /// in a struct keeps its series for as long as it lives, so updates through it are
    /// never lost (where the exporter lets the series go and drops them). With a
    /// timeout the recorder keeps no cache of handles (one would keep every series):
    /// each macro call resolves its series through the name, the label set and the
    /// family (read locks, no allocation for an existing series).
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Where [`RecordError`]s go (each is reported once) instead of standard error:
    /// a logger, a counter, a test's list.
    ///
    /// The hook runs on the recording thread with none of the recorder's locks held.
    #[must_use]
    pub fn with_error_hook(
        mut self,
        report: impl Fn(&RecordError) + Send + Sync + 'static,
    ) -> Self {
        self.report = Box::new(report);
        self
    }

    /// The registry the recorder writes into.
    #[must_use]
    pub fn registry(&self) -> &'static Registry {
        self.registry
    }

    /// The global labels (name as the registry gets it, value), in the order given.
    pub fn global_labels(&self) -> impl Iterator<Item = (&str, &str)> {
        self.globals
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Each family's cardinality limit.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The idle timeout set by [`with_idle_timeout`](Self::with_idle_timeout), if any.
    #[must_use]
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// The recorder, for [`metrics::set_global_recorder`] or
    /// [`metrics::with_local_recorder`].
    ///
    /// # Errors
    ///
    /// [`BuildError::Buckets`] for the first bucket bounds given that are empty,
    /// longer than [`MAX_BUCKETS`](crate::MAX_BUCKETS), or not finite and strictly
    /// increasing, or the first native histogram factor not above 1.
    pub fn build(self) -> Result<TorchlightRecorder, BuildError> {
        let spelling = Spelling::of(self.registry);
        let buckets = Buckets::new(&self.buckets, spelling)?;
        let settings = Settings {
            globals: self.globals,
            limit: self.limit,
            idle_timeout: self.idle_timeout,
            spelling,
            report: self.report,
        };
        Ok(TorchlightRecorder::new(self.registry, settings, buckets))
    }

    /// Builds the recorder and makes it the process's `metrics` recorder.
    ///
    /// # Errors
    ///
    /// [`InstallError::Build`] when [`build`](Self::build) fails,
    /// [`InstallError::AlreadyInstalled`] if a recorder is installed already.
    pub fn install(self) -> Result<(), InstallError> {
        let recorder = self.build().map_err(InstallError::Build)?;
        metrics::set_global_recorder(recorder).map_err(|_| InstallError::AlreadyInstalled)
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("registry", &self.registry)
            .field("buckets", &self.buckets)
            .field("globals", &self.globals)
            .field("limit", &self.limit)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}
