//! [`MetricsLayer`] and its [`Builder`]: the metrics are created and registered once,
//! when the layer is built; every service the layer wraps records into them.

use std::sync::Arc;

use torchlight::{Clock, Family, Gauge, RegisterError, Registry, StdClock};
use tower_layer::Layer;

use crate::metrics::{Metrics, Settings};
use crate::service::MetricsService;

/// A tower [`Layer`] that records every request of the services it wraps as
/// OpenTelemetry's HTTP server metrics (and a gRPC call as its RPC metric); see the
/// [crate docs](crate) for what it records.
///
/// Cloning it is cheap, and every clone records into the same metrics.
///
/// ```
/// use torchlight::Registry;
/// use torchlight_tower::MetricsLayer;
///
/// let registry = Registry::new();
/// let layer = MetricsLayer::new(&registry)?;
/// // `Router::new().route(…).layer(layer)` in axum, `ServiceBuilder::new().layer(layer)`…
/// # let _ = layer;
/// # Ok::<(), torchlight::RegisterError>(())
/// ```
#[derive(Clone)]
pub struct MetricsLayer<C = StdClock> {
    metrics: Arc<Metrics>,
    clock: C,
}

impl MetricsLayer {
    /// A layer with the default settings (classic histograms with exemplars, no body
    /// sizes, the core's default cardinality limit, [`StdClock`]), its metrics
    /// registered on `registry`.
    ///
    /// # Errors
    ///
    /// [`RegisterError`] when `registry` already has a metric of one of the layer's
    /// names (another layer registered there: clone that one instead); nothing is
    /// registered then.
    pub fn new(registry: &Registry) -> Result<Self, RegisterError> {
        Builder::new().build(registry)
    }

    /// Settings other than the defaults.
    pub fn builder() -> Builder {
        Builder::new()
    }
}

impl<C> MetricsLayer<C> {
    /// Removes the layer's metrics from `registry` (where it was built); services keep
    /// recording into them, unexposed.
    pub fn unregister(&self, registry: &Registry) {
        self.metrics.unregister(registry);
    }
}

impl<S, C: Clock + Clone> Layer<S> for MetricsLayer<C> {
    type Service = MetricsService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService::new(inner, Arc::clone(&self.metrics), self.clock.clone())
    }
}

impl<C> core::fmt::Debug for MetricsLayer<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MetricsLayer").finish_non_exhaustive()
    }
}

/// The settings of a [`MetricsLayer`]; [`build`](Self::build) registers its metrics.
///
/// ```
/// use torchlight::Registry;
/// use torchlight_tower::MetricsLayer;
///
/// let registry = Registry::new();
/// let layer = MetricsLayer::builder()
///     .with_native_histogram()
///     .with_body_sizes()
///     .with_limit(500)
///     .build(&registry)?;
/// # let _ = layer;
/// # Ok::<(), torchlight::RegisterError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Builder<C = StdClock> {
    settings: Settings,
    https: bool,
    clock: C,
}

impl Builder {
    /// The defaults: see [`MetricsLayer::new`].
    pub fn new() -> Self {
        Self {
            settings: Settings {
                native: false,
                body_sizes: false,
                limit: Family::<Gauge, 1>::DEFAULT_LIMIT,
                idle_timeout: None,
            },
            https: false,
            clock: StdClock,
        }
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> Builder<C> {
    /// Records the request duration as a native histogram (schema 3, growth factor
    /// 1.1) with the conventions' classic buckets beside it, so text scrapers still
    /// see those; protobuf scrapers get both. Native histograms keep no exemplars.
    pub fn with_native_histogram(mut self) -> Self {
        self.settings.native = true;
        self
    }

    /// Also records `http_server_request_body_size_bytes` (from the request's
    /// `Content-Length`; a request without one is not observed) and
    /// `http_server_response_body_size_bytes` (the bytes of the body's data frames).
    pub fn with_body_sizes(mut self) -> Self {
        self.settings.body_sizes = true;
        self
    }

    /// The most label sets each family keeps before new ones go to its
    /// `otel_metric_overflow="true"` series (default: the core's, 2000).
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.settings.limit = limit;
        self
    }

    /// Removes a label set's series (durations, body sizes, RPC durations) once no
    /// request has used it for `timeout` and a scrape has shown its final value: the
    /// core's [expiry that waits for a
    /// scrape](torchlight::Family#expiry-that-waits-for-a-scrape). A later request
    /// with those labels starts a new series. Each request then finds its series in
    /// the family (a hash and a shard read lock, no allocation) rather than in the
    /// layer's cache, whose handles would keep their series alive.
    /// `http_server_active_requests` never expires: its label sets (method × scheme)
    /// are bounded already.
    pub fn with_idle_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.settings.idle_timeout = Some(timeout);
        self
    }

    /// Records `url_scheme="https"` for requests whose URI names no scheme (HTTP/1.1
    /// requests, whose target has no scheme): for a service behind TLS.
    pub fn with_https(mut self) -> Self {
        self.https = true;
        self
    }

    /// Reads time from `clock` (a runtime's clock, a `ManualClock` in tests) instead
    /// of [`StdClock`].
    pub fn with_clock<D: Clock + Clone>(self, clock: D) -> Builder<D> {
        Builder {
            settings: self.settings,
            https: self.https,
            clock,
        }
    }

    /// Creates the layer's metrics and registers them on `registry`.
    ///
    /// # Errors
    ///
    /// As [`MetricsLayer::new`].
    pub fn build(self, registry: &Registry) -> Result<MetricsLayer<C>, RegisterError> {
        let metrics = Metrics::register(registry, self.settings, self.https)?;
        Ok(MetricsLayer {
            metrics: Arc::new(metrics),
            clock: self.clock,
        })
    }
}
