//! The metrics the layer owns: one family per metric, each with the core's cardinality
//! limit, registered together on the user's registry. Names and units are
//! OpenTelemetry's semantic conventions v1.37.0 ("Semantic conventions for HTTP
//! metrics", stable; "Semantic conventions for RPC metrics", development), translated
//! to Prometheus as the OpenTelemetry specification's "Prometheus and OpenMetrics
//! Compatibility" says: dots to underscores, the unit as a suffix (`s` → `_seconds`,
//! `By` → `_bytes`, `ms` → `_milliseconds`).
//!
//! With an idle timeout, the families keyed by route and status expire idle children
//! (the core's expiry that waits for a scrape), and the duration cache is off: a cached
//! handle is a held handle, which keeps its child for good, and a cached weak one would
//! skip the lookup that tells the family the child is used. Each request then looks
//! its child up in the family (a hash and a shard read lock, no allocation).
//! `http_server_active_requests` does not expire: its label sets are a closed set
//! (method × scheme), so it is bounded already, and a request holds its child while
//! it is in flight anyway.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration as Timeout;

use torchlight::{
    Buckets, EncodeLabels, Encoder, ExemplarHistogram, Family, Gauge, Histogram, Metric,
    MetricType, NativeHistogram, RegisterError, Registry, Series,
};

use crate::attributes::{ACTIVE_PAIRS, Head, Labels};
use crate::cache::Cache;
use crate::traceparent::TraceContext;

/// `http.server.request.duration`'s advisory bucket boundaries, in seconds.
pub(crate) static DURATION_BUCKETS: Buckets<14> = Buckets::new([
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
]);

/// Body sizes, in bytes: the conventions advise no bounds; powers of 4 from 64 B to
/// 16 MiB cover a health check's answer to an upload in ten buckets.
pub(crate) static SIZE_BUCKETS: Buckets<10> = Buckets::new([
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
]);

/// `rpc.server.duration`, in milliseconds: the conventions advise no bounds; these are
/// the OpenTelemetry metrics SDK's default explicit bucket boundaries, made for
/// milliseconds.
pub(crate) static RPC_BUCKETS: Buckets<15> = Buckets::new([
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
]);

/// The growth factor of the optional native histogram: 1.1 (schema 3), the value
/// client_golang's documentation suggests for `NativeHistogramBucketFactor`.
const NATIVE_FACTOR: f64 = 1.1;

/// The labels of the HTTP duration and size histograms, in exposition order.
pub(crate) const HTTP_LABELS: [&str; 6] = [
    "http_request_method",
    "http_route",
    "http_response_status_code",
    "network_protocol_version",
    "url_scheme",
    "error_type",
];

/// The labels of `http_server_active_requests`: the conventions' required ones.
pub(crate) const ACTIVE_LABELS: [&str; 2] = ["http_request_method", "url_scheme"];

/// The labels of `rpc_server_duration_milliseconds`.
pub(crate) const RPC_LABELS: [&str; 4] = [
    "rpc_system",
    "rpc_service",
    "rpc_method",
    "rpc_grpc_status_code",
];

/// A child of the duration family: classic buckets that keep exemplars, or (with
/// [`Builder::with_native_histogram`](crate::Builder::with_native_histogram)) a
/// native histogram with the same classic buckets beside it.
// Each child lives in its own `Arc`, allocated once per label set; a `Box` would add an
// allocation per child and a pointer hop per observation to save the classic child
// 3.5 KB.
#[expect(
    clippy::large_enum_variant,
    reason = "one allocation per label set, see above"
)]
pub(crate) enum Duration {
    Classic(ExemplarHistogram<14>),
    Native(NativeHistogram<160, 14>),
}

impl Duration {
    fn classic() -> Self {
        Self::Classic(ExemplarHistogram::with_buckets(&DURATION_BUCKETS))
    }

    fn native() -> Self {
        Self::Native(NativeHistogram::with_buckets(
            NATIVE_FACTOR,
            &DURATION_BUCKETS,
        ))
    }

    /// Records `seconds`, with the trace as its bucket's exemplar when there is one
    /// (classic buckets only: the native histogram keeps none).
    pub(crate) fn observe(&self, seconds: f64, trace: Option<&TraceContext>) {
        match (self, trace) {
            (Self::Classic(histogram), Some(trace)) => {
                // The labels are two fixed names and 48 hex digits: always valid.
                let _ = histogram.observe_with_exemplar(seconds, &trace.labels());
            }
            (Self::Classic(histogram), None) => histogram.observe(seconds),
            (Self::Native(histogram), _) => histogram.observe(seconds),
        }
    }
}

impl Series for Duration {
    const TYPE: MetricType = MetricType::Histogram;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        match self {
            Self::Classic(histogram) => histogram.encode_series(labels, encoder),
            Self::Native(histogram) => histogram.encode_series(labels, encoder),
        }
    }
}

/// What the layer was asked to record; see [`Builder`](crate::Builder).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) native: bool,
    pub(crate) body_sizes: bool,
    pub(crate) limit: usize,
    pub(crate) idle_timeout: Option<Timeout>,
}

impl Settings {
    /// `family` with the layer's limit, and its idle timeout if one is set.
    fn apply<M: Series, const N: usize, F: Fn() -> M>(
        &self,
        family: Family<M, N, F>,
    ) -> Family<M, N, F> {
        let family = family.with_limit(self.limit);
        match self.idle_timeout {
            Some(timeout) => family.with_idle_timeout(timeout),
            None => family,
        }
    }
}

/// The layer's families, shared by every service it made.
pub(crate) struct Metrics {
    pub(crate) duration: Arc<Metric<Family<Duration, 6>>>,
    pub(crate) active: Arc<Metric<Family<Gauge, 2>>>,
    pub(crate) request_size: Option<Arc<Metric<Family<Histogram<10>, 6>>>>,
    pub(crate) response_size: Option<Arc<Metric<Family<Histogram<10>, 6>>>>,
    pub(crate) rpc: Arc<Metric<Family<ExemplarHistogram<15>, 4>>>,
    /// The default `url_scheme`, for requests whose URI names none (HTTP/1.1's
    /// origin form): `http`, or `https` behind TLS.
    pub(crate) https: bool,
    /// `duration`'s children by label set, so most requests skip its lookup; `None`
    /// when children expire (see the module docs).
    durations: Option<Cache<Arc<Duration>>>,
    /// `active`'s children by [`Head::active_index`]: methods and schemes are closed
    /// sets, so the children are found by indexing, and created (then exposed) only
    /// once a request has used them.
    active_children: [OnceLock<Arc<Gauge>>; ACTIVE_PAIRS],
}

impl Metrics {
    /// Creates the families and registers them on `registry`, all or none.
    pub(crate) fn register(
        registry: &Registry,
        settings: Settings,
        https: bool,
    ) -> Result<Self, RegisterError> {
        let make: fn() -> Duration = if settings.native {
            Duration::native
        } else {
            Duration::classic
        };
        let sizes = |name, help| {
            Arc::new(
                Metric::new(
                    name,
                    help,
                    settings.apply(Family::new(HTTP_LABELS, || {
                        Histogram::with_buckets(&SIZE_BUCKETS)
                    })),
                )
                .with_unit("bytes"),
            )
        };
        let metrics = Self {
            duration: Arc::new(
                Metric::new(
                    "http_server_request_duration_seconds",
                    "Duration of HTTP server requests.",
                    settings.apply(Family::new(HTTP_LABELS, make)),
                )
                .with_unit("seconds"),
            ),
            active: Arc::new(Metric::new(
                "http_server_active_requests",
                "Number of active HTTP server requests.",
                Family::new(ACTIVE_LABELS, Gauge::new).with_limit(settings.limit),
            )),
            request_size: settings.body_sizes.then(|| {
                sizes(
                    "http_server_request_body_size_bytes",
                    "Size of HTTP server request bodies.",
                )
            }),
            response_size: settings.body_sizes.then(|| {
                sizes(
                    "http_server_response_body_size_bytes",
                    "Size of HTTP server response bodies.",
                )
            }),
            rpc: Arc::new(
                Metric::new(
                    "rpc_server_duration_milliseconds",
                    "Measures the duration of inbound RPC.",
                    settings.apply(Family::new(RPC_LABELS, || {
                        ExemplarHistogram::with_buckets(&RPC_BUCKETS)
                    })),
                )
                .with_unit("milliseconds"),
            ),
            https,
            durations: settings.idle_timeout.is_none().then(Cache::new),
            active_children: [const { OnceLock::new() }; ACTIVE_PAIRS],
        };
        metrics.register_all(registry)?;
        Ok(metrics)
    }

    /// The `http_server_active_requests` child of `head`'s method and scheme.
    pub(crate) fn active(&self, head: Head) -> &Gauge {
        self.active_children[head.active_index()]
            .get_or_init(|| self.active.get_or_create([head.method(), head.scheme()]))
    }

    /// Records a request's duration in the child of `labels`, with its trace as the
    /// exemplar.
    pub(crate) fn observe_duration(
        &self,
        labels: &Labels<'_>,
        seconds: f64,
        trace: Option<&TraceContext>,
    ) {
        let lookup = || self.duration.get_or_create(labels.values());
        match &self.durations {
            Some(cache) => cache.with(labels, lookup, |child| child.observe(seconds, trace)),
            None => lookup().observe(seconds, trace),
        }
    }

    fn register_all(&self, registry: &Registry) -> Result<(), RegisterError> {
        registry.register_owned(Arc::clone(&self.duration))?;
        let rest = (|| {
            registry.register_owned(Arc::clone(&self.active))?;
            if let Some(size) = &self.request_size {
                registry.register_owned(Arc::clone(size))?;
            }
            if let Some(size) = &self.response_size {
                registry.register_owned(Arc::clone(size))?;
            }
            registry.register_owned(Arc::clone(&self.rpc))
        })();
        if rest.is_err() {
            // All or none: `unregister` is a no-op for what was not registered here.
            registry.unregister(&self.duration);
            registry.unregister(&self.active);
            for size in [&self.request_size, &self.response_size]
                .into_iter()
                .flatten()
            {
                registry.unregister(size);
            }
        }
        rest
    }

    /// Removes the families from `registry`.
    pub(crate) fn unregister(&self, registry: &Registry) {
        registry.unregister(&self.duration);
        registry.unregister(&self.active);
        for size in [&self.request_size, &self.response_size]
            .into_iter()
            .flatten()
        {
            registry.unregister(size);
        }
        registry.unregister(&self.rpc);
    }
}
