//! The libraries compared, and the physical floor they are measured against.

use core::fmt;

/// A row of a benchmark table. The names are the last segment of a bench's path and
/// the `library` column of a result record, so `cargo xtask bench` can find them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Library {
    /// The physical floor: a bare `AtomicU64::fetch_add(1, Relaxed)` (or store), or a
    /// bare `Instant::now()`.
    Floor,
    /// This project's core crate.
    Torchlight,
    /// `prometheus` (tikv/rust-prometheus).
    Prometheus,
    /// `prometheus-client` (prometheus/client_rust).
    PrometheusClient,
    /// `metrics` with the `metrics-exporter-prometheus` recorder.
    Metrics,
    /// `measured`.
    Measured,
}

impl Library {
    /// The peers: the libraries torchlight is compared against.
    pub const PEERS: [Self; 4] = [
        Self::Prometheus,
        Self::PrometheusClient,
        Self::Metrics,
        Self::Measured,
    ];

    /// torchlight and the peers, in table order.
    pub const ALL: [Self; 5] = [
        Self::Torchlight,
        Self::Prometheus,
        Self::PrometheusClient,
        Self::Metrics,
        Self::Measured,
    ];

    /// The name used in bench paths and result records.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Floor => "floor",
            Self::Torchlight => "torchlight",
            Self::Prometheus => "prometheus",
            Self::PrometheusClient => "prometheus_client",
            Self::Metrics => "metrics",
            Self::Measured => "measured",
        }
    }
}

impl fmt::Display for Library {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
