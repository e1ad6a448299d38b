//! Case 8: memory per series and allocations per new label child, for label values
//! known only at run time.
//!
//! Each library holds one counter family, `children_total`, with one label `user`; a
//! new child is created and incremented once for each value of
//! [`child_labels`](crate::workload::child_labels), given as a `&str` (the library
//! copies it if it needs to own it).

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

/// An empty family in `library`, boxed; `None` for the floor, which has no family.
#[must_use]
pub fn build(library: Library) -> Option<Box<dyn Children>> {
    match library {
        Library::Torchlight => Some(Box::new(Torchlight::new())),
        Library::Prometheus => Some(Box::new(Prometheus::new())),
        Library::PrometheusClient => Some(Box::new(PrometheusClient::new())),
        Library::Metrics => Some(Box::new(Metrics::new())),
        Library::Measured => Some(Box::new(Measured::new())),
        Library::Floor => None,
    }
}

/// More children than any run of case 8 creates, so none goes to torchlight's
/// overflow child (its default limit is 2000; the peers have no limit).
const TORCHLIGHT_LIMIT: usize = 1 << 20;

/// torchlight: `Family<Counter, 1>::get_or_create` with the borrowed value.
#[derive(Debug)]
pub struct Torchlight(torchlight::Family<torchlight::Counter, 1>);

impl Children for Torchlight {
    fn new() -> Self {
        Self(
            torchlight::Family::new(["user"], torchlight::Counter::new)
                .with_limit(TORCHLIGHT_LIMIT),
        )
    }

    fn insert(&self, user: &str) {
        self.0.get_or_create([user]).inc();
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

#[cfg(test)]
mod tests {
    use super::{Children, Torchlight};
    use crate::workload::child_labels;

    #[test]
    fn torchlight_gives_every_value_its_own_child_past_the_default_limit() {
        let family = Torchlight::new();
        let labels = child_labels(3_000);
        for label in &labels {
            family.insert(label);
        }
        assert_eq!(family.0.len(), 3_000, "no value went to the overflow child");
        let child = family.0.get(["user-002999"]).unwrap();
        assert_eq!(child.get(), 1);
    }
}
