//! [`Builder`]: the recorder's options, checked as they are given.

use std::fmt;

use torchlight::{DEFAULT_BUCKETS, DynFamily, Registry};

use crate::child::{CounterChild, Layout};
use crate::error::{BuildError, InstallError, RecordError};
use crate::label_sets::Settings;
use crate::names;
use crate::recorder::TorchlightRecorder;

/// Options of a [`TorchlightRecorder`]: histogram buckets per metric name, prefix or
/// suffix, global labels, the cardinality limit and where errors are reported.
///
/// ```
/// use torchlight::{Format, Registry};
/// use torchlight_metrics::Builder;
///
/// static REGISTRY: Registry = Registry::new();
///
/// let recorder = Builder::new(&REGISTRY)
///     .buckets(&[0.01, 0.1, 1.0])?
///     .buckets_for_prefix("db_", &[0.001, 0.01])?
///     .global_label("service", "checkout")
///     .limit(500)
///     .build();
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
    buckets: Buckets,
    globals: Vec<(String, String)>,
    limit: usize,
    report: Box<dyn Fn(&RecordError) + Send + Sync>,
}

impl Builder {
    /// A recorder for `registry` (usually [`torchlight::REGISTRY`], the one the
    /// adapters serve by default) with torchlight's defaults: histograms with
    /// [`DEFAULT_BUCKETS`] (Python `prometheus_client`'s), no global labels, each
    /// family limited to [`DynFamily::DEFAULT_LIMIT`] children, errors written to
    /// standard error.
    #[must_use]
    pub fn new(registry: &'static Registry) -> Self {
        Self {
            registry,
            buckets: Buckets::default(),
            globals: Vec::new(),
            limit: DynFamily::<CounterChild>::DEFAULT_LIMIT,
            report: Box::new(|error| std::eprintln!("torchlight-metrics: {error}")),
        }
    }

    /// The bucket bounds of every histogram no `buckets_for_*` option matches.
    ///
    /// # Errors
    ///
    /// [`BuildError::Buckets`] if `bounds` is empty, longer than
    /// [`MAX_BUCKETS`](crate::MAX_BUCKETS), or not finite and strictly increasing.
    pub fn buckets(mut self, bounds: &[f64]) -> Result<Self, BuildError> {
        self.buckets.default = Layout::new(bounds).map_err(|e| BuildError::buckets("", &e))?;
        Ok(self)
    }

    /// The bucket bounds of the histogram named `name` (sanitised, as recorded names
    /// are). Takes precedence over prefixes and suffixes.
    ///
    /// # Errors
    ///
    /// As [`buckets`](Self::buckets).
    pub fn buckets_for_name(mut self, name: &str, bounds: &[f64]) -> Result<Self, BuildError> {
        let layout = Layout::new(bounds).map_err(|e| BuildError::buckets(name, &e))?;
        self.buckets
            .names
            .push((names::metric_name(name).into_owned(), layout));
        Ok(self)
    }

    /// The bucket bounds of histograms whose name starts with `prefix`; the longest
    /// matching prefix wins, and a prefix wins over a suffix.
    ///
    /// # Errors
    ///
    /// As [`buckets`](Self::buckets).
    pub fn buckets_for_prefix(mut self, prefix: &str, bounds: &[f64]) -> Result<Self, BuildError> {
        let layout = Layout::new(bounds).map_err(|e| BuildError::buckets(prefix, &e))?;
        self.buckets
            .prefixes
            .push((names::metric_name(prefix).into_owned(), layout));
        Ok(self)
    }

    /// The bucket bounds of histograms whose name ends with `suffix`; the longest
    /// matching suffix wins.
    ///
    /// # Errors
    ///
    /// As [`buckets`](Self::buckets).
    pub fn buckets_for_suffix(mut self, suffix: &str, bounds: &[f64]) -> Result<Self, BuildError> {
        let layout = Layout::new(bounds).map_err(|e| BuildError::buckets(suffix, &e))?;
        self.buckets
            .suffixes
            .push((names::metric_name(suffix).into_owned(), layout));
        Ok(self)
    }

    /// Adds the label `name="value"` to every series this recorder records, before
    /// the recorded labels; a recorded label of the same name takes precedence. A
    /// second call with the same name replaces the value.
    #[must_use]
    pub fn global_label(mut self, name: &str, value: &str) -> Self {
        let name = names::label_name(name).into_owned();
        self.globals.retain(|(known, _)| *known != name);
        self.globals.push((name, value.to_owned()));
        self
    }

    /// The most children each family holds (see [`DynFamily::with_limit`]); past it, new
    /// combinations of label values share the family's overflow series
    /// `{otel_metric_overflow="true"}`, so totals stay right and memory bounded.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Where [`RecordError`]s go (each is reported once) instead of standard error:
    /// a logger, a counter, a test's list.
    ///
    /// The hook runs on the recording thread with none of the recorder's locks held.
    #[must_use]
    pub fn on_error(mut self, report: impl Fn(&RecordError) + Send + Sync + 'static) -> Self {
        self.report = Box::new(report);
        self
    }

    /// The recorder, for [`metrics::set_global_recorder`] or
    /// [`metrics::with_local_recorder`].
    #[must_use]
    pub fn build(self) -> TorchlightRecorder {
        let settings = Settings {
            globals: self.globals,
            limit: self.limit,
            report: self.report,
        };
        TorchlightRecorder::new(self.registry, settings, self.buckets)
    }

    /// Builds the recorder and makes it the process's `metrics` recorder.
    ///
    /// # Errors
    ///
    /// [`InstallError::AlreadyInstalled`] if a recorder is installed already.
    pub fn install(self) -> Result<(), InstallError> {
        metrics::set_global_recorder(self.build()).map_err(|_| InstallError::AlreadyInstalled)
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("registry", &self.registry)
            .field("buckets", &self.buckets)
            .field("globals", &self.globals)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// Histogram bucket layouts: the default and those chosen per name, prefix, suffix.
#[derive(Debug)]
pub(crate) struct Buckets {
    default: Layout,
    names: Vec<(String, Layout)>,
    prefixes: Vec<(String, Layout)>,
    suffixes: Vec<(String, Layout)>,
}

impl Default for Buckets {
    fn default() -> Self {
        let default = Layout::new(DEFAULT_BUCKETS.bounds())
            .expect("DEFAULT_BUCKETS are valid and fewer than MAX_BUCKETS");
        Self {
            default,
            names: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
        }
    }
}

impl Buckets {
    /// The layout for the histogram named `name` (sanitised): the last one given for
    /// the full name, else the longest matching prefix, else the longest matching
    /// suffix (the last one given among equally long ones), else the default.
    pub(crate) fn layout(&self, name: &str) -> Layout {
        if let Some((_, layout)) = self.names.iter().rev().find(|(full, _)| full == name) {
            return *layout;
        }
        let longest = |list: &[(String, Layout)], matches: &dyn Fn(&str) -> bool| {
            list.iter()
                .filter(|(pattern, _)| matches(pattern))
                .max_by_key(|(pattern, _)| pattern.len())
                .map(|(_, layout)| *layout)
        };
        longest(&self.prefixes, &|prefix| name.starts_with(prefix))
            .or_else(|| longest(&self.suffixes, &|suffix| name.ends_with(suffix)))
            .unwrap_or(self.default)
    }
}
