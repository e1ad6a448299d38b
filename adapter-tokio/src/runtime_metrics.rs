//! tokio's runtime metrics, as Prometheus families read at scrape time:
//! [`register_runtime_metrics`].
//!
//! Their names, types and cost are on [`register_runtime_metrics`].

use std::fmt;
use std::sync::Arc;

use tokio::runtime::Handle;
use torchlight::{
    Collect, EncodeLabels, Encoder, LabelEncoder, Metric, MetricType, RegisterError, Registry,
};

/// One family of tokio runtime metrics, reading the runtime whose handle it holds.
/// [`register_runtime_metrics`] registers all of them.
#[derive(Clone, Debug)]
pub struct RuntimeMetric {
    handle: Handle,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Workers,
    AliveTasks,
    GlobalQueueDepth,
    WorkerBusy,
    WorkerParks,
}

impl Kind {
    const ALL: [Self; 5] = [
        Self::Workers,
        Self::AliveTasks,
        Self::GlobalQueueDepth,
        Self::WorkerBusy,
        Self::WorkerParks,
    ];

    const fn name(self) -> &'static str {
        match self {
            Self::Workers => "tokio_workers",
            Self::AliveTasks => "tokio_alive_tasks",
            Self::GlobalQueueDepth => "tokio_global_queue_depth",
            Self::WorkerBusy => "tokio_worker_busy_seconds_total",
            Self::WorkerParks => "tokio_worker_parks_total",
        }
    }

    const fn help(self) -> &'static str {
        match self {
            Self::Workers => "Worker threads of the tokio runtime.",
            Self::AliveTasks => "Tasks spawned on the tokio runtime and not yet finished.",
            Self::GlobalQueueDepth => "Tasks waiting in the tokio runtime's global queue.",
            Self::WorkerBusy => "Time each tokio worker thread spent busy (not parked).",
            Self::WorkerParks => "Times each tokio worker thread parked to wait for work.",
        }
    }
}

/// The `worker` label.
struct Worker(usize);

impl EncodeLabels for Worker {
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
        labels.label_display("worker", &self.0)
    }
}

impl Collect for RuntimeMetric {
    fn metric_type(&self) -> MetricType {
        match self.kind {
            Kind::WorkerBusy | Kind::WorkerParks => MetricType::Counter,
            Kind::Workers | Kind::AliveTasks | Kind::GlobalQueueDepth => MetricType::Gauge,
        }
    }

    fn label_names(&self) -> &[&'static str] {
        match self.kind {
            Kind::WorkerBusy | Kind::WorkerParks => &["worker"],
            Kind::Workers | Kind::AliveTasks | Kind::GlobalQueueDepth => &[],
        }
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        let metrics = self.handle.metrics();
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        match self.kind {
            Kind::Workers => encoder.gauge_i64(&(), count(metrics.num_workers())),
            Kind::AliveTasks => encoder.gauge_i64(&(), count(metrics.num_alive_tasks())),
            Kind::GlobalQueueDepth => encoder.gauge_i64(&(), count(metrics.global_queue_depth())),
            #[cfg(target_has_atomic = "64")]
            Kind::WorkerBusy => (0..metrics.num_workers()).try_for_each(|worker| {
                let busy = metrics.worker_total_busy_duration(worker);
                encoder.counter(&Worker(worker), busy.as_secs_f64())
            }),
            #[cfg(target_has_atomic = "64")]
            Kind::WorkerParks => (0..metrics.num_workers()).try_for_each(|worker| {
                encoder.counter_u64(&Worker(worker), metrics.worker_park_count(worker))
            }),
            #[cfg(not(target_has_atomic = "64"))]
            Kind::WorkerBusy | Kind::WorkerParks => Ok(()),
        }
    }
}

/// Registers the metrics of the tokio runtime `handle` belongs to in `registry`, read
/// at each scrape. One line:
///
/// ```
/// use torchlight::{Format, Registry};
/// use torchlight_tokio::register_runtime_metrics;
///
/// let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
/// let registry = Registry::new();
/// register_runtime_metrics(&registry, runtime.handle())?;
///
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert!(text.contains("\ntokio_workers 2\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Only what tokio exposes on stable Rust, without `--cfg tokio_unstable`
/// (`tokio::runtime::RuntimeMetrics`), named by Prometheus conventions (base units,
/// `_total` counters, one `worker` label per worker thread):
///
/// | name | type | tokio method |
/// |---|---|---|
/// | `tokio_workers` | gauge | `num_workers` |
/// | `tokio_alive_tasks` | gauge | `num_alive_tasks` |
/// | `tokio_global_queue_depth` | gauge | `global_queue_depth` |
/// | `tokio_worker_busy_seconds_total{worker}` | counter | `worker_total_busy_duration` |
/// | `tokio_worker_parks_total{worker}` | counter | `worker_park_count` |
///
/// The two per-worker counters need 64-bit atomics (tokio gates them so); on other
/// targets their families are written without samples. The metrics behind
/// `tokio_unstable` (steals, polls, blocking threads, poll-time histograms) are not
/// exposed: they would make this crate's build depend on the user's `RUSTFLAGS`.
///
/// A scrape reads them through tokio's metrics handle, a few loads per worker: it
/// allocates nothing and spawns no task.
///
/// # Errors
///
/// [`RegisterError::Clash`] when a family of the same name is registered already
/// (another runtime's, under the same names); then none is registered.
pub fn register_runtime_metrics(registry: &Registry, handle: &Handle) -> Result<(), RegisterError> {
    registry.register_owned_all(Kind::ALL.map(|kind| {
        let family = RuntimeMetric {
            handle: handle.clone(),
            kind,
        };
        Arc::new(Metric::new(kind.name(), kind.help(), family))
    }))
}
