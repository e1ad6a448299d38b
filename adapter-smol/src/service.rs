//! The embeddable handler: [`MetricsService`], a hyper `Service` that answers like
//! the server does (`/metrics`, `/`, 404, 405), for your own hyper-based apps.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use torchlight::Registry;
use torchlight::exposure::{self, Route};

use crate::runtime::{Runtime, Smol};

/// A hyper [`Service`](hyper::service::Service) serving a registry's metrics at
/// `/metrics` (and the small page at `/`), with the same routing, negotiation and
/// compression as the server. The request body is never read.
///
/// Encoding runs on smol's blocking pool ([`smol::unblock`]), so a large registry does
/// not stall the executor.
///
/// Route `/metrics` to it from your own service — see `examples/hyper.rs`:
///
/// ```no_run
/// use hyper::service::Service as _;
/// use torchlight_smol::MetricsService;
///
/// # async fn handle(request: hyper::Request<hyper::body::Incoming>) {
/// let metrics: MetricsService = MetricsService::new(&torchlight::REGISTRY);
/// let response = metrics.call(request).await;
/// # }
/// ```
pub struct MetricsService<R = Smol> {
    registry: &'static Registry,
    runtime: PhantomData<fn() -> R>,
}

impl MetricsService {
    /// A service for `registry`.
    #[must_use]
    pub const fn new(registry: &'static Registry) -> Self {
        Self::on_runtime(registry)
    }
}

impl<R> MetricsService<R> {
    /// A service for `registry` that encodes on `R`'s blocking pool.
    #[doc(hidden)]
    #[must_use]
    pub const fn on_runtime(registry: &'static Registry) -> Self {
        Self {
            registry,
            runtime: PhantomData,
        }
    }
}

impl<R> Clone for MetricsService<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for MetricsService<R> {}

impl<R> fmt::Debug for MetricsService<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsService")
            .field("registry", &self.registry)
            .finish()
    }
}

impl<R: Runtime, B> hyper::service::Service<Request<B>> for MetricsService<R> {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let route = route(&request);
        let registry = self.registry;
        Box::pin(async move { Ok(respond::<R>(route, registry).await) })
    }
}

/// Routes a hyper request with the core's exposure protocol.
pub(crate) fn route<B>(request: &Request<B>) -> Route {
    route_head(request.method(), request.uri().path(), request.headers())
}

/// Routes a request head given in parts.
pub(crate) fn route_head(method: &hyper::Method, path: &str, headers: &HeaderMap) -> Route {
    let accept = joined(headers, &ACCEPT);
    let accept_encoding = joined(headers, &ACCEPT_ENCODING);
    exposure::Request::new(method.as_str(), path)
        .with_accept(accept.as_deref())
        .with_accept_encoding(accept_encoding.as_deref())
        .route()
}

/// Answers `route`, encoding off the executor's threads when it encodes.
pub(crate) async fn respond<R: Runtime>(
    route: Route,
    registry: &'static Registry,
) -> Response<Full<Bytes>> {
    if !route.encodes() {
        return into_hyper(route.respond(registry));
    }
    into_hyper(R::unblock(move || route.respond(registry)).await)
}

/// All values of header `name`, joined with `,` as RFC 9110 §5.3 allows.
fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
    let mut joined = values.next()?.to_owned();
    for value in values {
        joined.push(',');
        joined.push_str(value);
    }
    Some(joined)
}

fn into_hyper(response: exposure::Response) -> Response<Full<Bytes>> {
    let status =
        StatusCode::from_u16(response.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_length = response.content_length();
    let headers: Vec<_> = response.headers().to_vec();
    let mut hyper_response = Response::new(Full::new(Bytes::from(response.into_body())));
    *hyper_response.status_mut() = status;
    let hyper_headers = hyper_response.headers_mut();
    for (name, value) in headers {
        // The core's header names are lowercase tokens and its values visible ASCII.
        hyper_headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    hyper_headers.insert(CONTENT_LENGTH, HeaderValue::from(content_length));
    hyper_response
}
