//! Case 8: memory per series and allocations per new label child, for label values
//! known only at run time.
//!
//! Each library holds one counter family, `children_total`, with one label `user`; a
//! new child is created and incremented once for each value of
//! [`child_labels`](crate::workload::child_labels), given as a `&str` (the library
//! copies it if it needs to own it). torchlight's run-time label families are built on
//! another branch: their row is added when that branch is merged.

use core::fmt;

use prometheus_client::encoding::EncodeLabelSet;

use crate::Library;

/// A counter family whose label value is known only at run time.
pub trait Children {
    /// An empty family.
    fn new() -> Self
    where
        Self: Sized;

    /// Creates the child for `user` and increments it.
    fn insert(&self, user: &str);
}

/// An empty family in `library`, boxed; `None` for libraries without a run-time
/// labelled family here (the floor, and torchlight until its families are merged).
#[must_use]
pub fn build(library: Library) -> Option<Box<dyn Children>> {
    match library {
        Library::Prometheus => Some(Box::new(Prometheus::new())),
        Library::PrometheusClient => Some(Box::new(PrometheusClient::new())),
        Library::Metrics => Some(Box::new(Metrics::new())),
        Library::Measured => Some(Box::new(Measured::new())),
        Library::Torchlight | Library::Floor => None,
    }
}

/// `prometheus`: `IntCounterVec::with_label_values`.
#[derive(Debug)]
pub struct Prometheus(prometheus::IntCounterVec);

impl Children for Prometheus {
    fn new() -> Self {
        Self(
            prometheus::IntCounterVec::new(
                prometheus::Opts::new("children_total", "help text"),
                &["user"],
            )
            .expect("the bench family is valid"),
        )
    }

    fn insert(&self, user: &str) {
        self.0.with_label_values(&[user]).inc();
    }
}

/// `prometheus-client`'s label set for the new-child case.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UserLabel {
    user: String,
}

/// `prometheus-client`: `Family::get_or_create` with an owned label set.
#[derive(Debug)]
pub struct PrometheusClient(
    prometheus_client::metrics::family::Family<
        UserLabel,
        prometheus_client::metrics::counter::Counter,
    >,
);

impl Children for PrometheusClient {
    fn new() -> Self {
        Self(prometheus_client::metrics::family::Family::default())
    }

    fn insert(&self, user: &str) {
        self.0
            .get_or_create(&UserLabel {
                user: user.to_owned(),
            })
            .inc();
    }
}

/// `metrics` with a `PrometheusRecorder`: the `counter!` macro with an owned label
/// value.
pub struct Metrics(metrics_exporter_prometheus::PrometheusRecorder);

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Children for Metrics {
    fn new() -> Self {
        Self(metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder())
    }

    fn insert(&self, user: &str) {
        metrics::with_local_recorder(&self.0, || {
            metrics::counter!("children_total", "user" => user.to_owned()).increment(1);
        });
    }
}

/// `measured`'s label group for the new-child case, interned with `paracord`.
#[derive(Clone, Copy, PartialEq, Debug, measured::LabelGroup)]
#[label(set = UserSet)]
struct UserGroup<'a> {
    #[label(dynamic_with = paracord::ParaCord)]
    user: &'a str,
}

/// `measured`: a `CounterVec` over a `paracord`-interned label.
pub struct Measured(measured::CounterVec<UserSet>);

impl fmt::Debug for Measured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Measured").finish_non_exhaustive()
    }
}

impl Children for Measured {
    fn new() -> Self {
        Self(measured::CounterVec::with_label_set(UserSet {
            user: paracord::ParaCord::default(),
        }))
    }

    fn insert(&self, user: &str) {
        self.0.inc(UserGroup { user });
    }
}
