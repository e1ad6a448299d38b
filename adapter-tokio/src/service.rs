//! The embeddable handler: [`MetricsService`], a hyper `Service` that answers like
//! the server does (`/metrics`, `/`, 404, 405), for your own hyper-based apps.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use torchlight::Registry;
use torchlight::exposure::{self, Route};

/// A hyper [`Service`](hyper::service::Service) serving a registry's metrics at
/// `/metrics` (and the small page at `/`), with the same routing, negotiation and
/// compression as the server. The request body is never read.
///
/// Encoding runs on tokio's blocking pool ([`tokio::task::spawn_blocking`]), so a
/// large registry does not stall the runtime's workers.
///
/// Route `/metrics` to it from your own service — see `examples/hyper.rs`:
///
/// ```no_run
/// use hyper::service::Service as _;
/// use torchlight_tokio::MetricsService;
///
/// # async fn handle(request: hyper::Request<hyper::body::Incoming>) {
/// let metrics = MetricsService::new(&torchlight::REGISTRY);
/// let response = metrics.call(request).await;
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MetricsService {
    registry: &'static Registry,
}

impl MetricsService {
    /// A service for `registry`.
    #[must_use]
    pub const fn new(registry: &'static Registry) -> Self {
        Self { registry }
    }
}

impl<B> hyper::service::Service<Request<B>> for MetricsService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let route = route(&request);
        let registry = self.registry;
        Box::pin(async move { Ok(respond(route, registry).await) })
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

/// Answers `route`, encoding off the async workers when it encodes.
pub(crate) async fn respond(route: Route, registry: &'static Registry) -> Response<Full<Bytes>> {
    if !route.encodes() {
        return into_hyper(route.respond(registry));
    }
    match tokio::task::spawn_blocking(move || route.respond(registry)).await {
        Ok(response) => into_hyper(response),
        // The encoding panicked (a user `Collect` impl) or the runtime is shutting down.
        Err(_) => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
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
