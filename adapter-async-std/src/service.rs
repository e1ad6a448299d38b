//! The embeddable handler: [`MetricsService`], a hyper `Service` that answers like
//! the server does (`/metrics`, `/`, 404, 405), for your own hyper-based apps.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::Service;
use hyper::{Request, Response};
use torchlight::Registry;

use crate::runtime::AsyncStd;

/// A hyper [`Service`] serving a registry's metrics at `/metrics` (and the small page
/// at `/`), with the same routing, negotiation and compression as the server. The
/// request body is never read.
///
/// Encoding runs on async-std's blocking pool (`async_std::task::spawn_blocking`), so
/// a large registry does not stall the executor.
///
/// Route `/metrics` to it from your own service — see `examples/hyper.rs`:
///
/// ```no_run
/// use hyper::service::Service as _;
/// use torchlight_async_std::MetricsService;
///
/// # async fn handle(request: hyper::Request<hyper::body::Incoming>) {
/// let metrics = MetricsService::new(&torchlight::REGISTRY);
/// let response = metrics.call(request).await;
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MetricsService(torchlight_smol::MetricsService<AsyncStd>);

impl MetricsService {
    /// A service for `registry`.
    #[must_use]
    pub const fn new(registry: &'static Registry) -> Self {
        Self(torchlight_smol::MetricsService::on_runtime(registry))
    }
}

impl<B> Service<Request<B>> for MetricsService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = <torchlight_smol::MetricsService<AsyncStd> as Service<Request<B>>>::Future;

    fn call(&self, request: Request<B>) -> Self::Future {
        self.0.call(request)
    }
}
