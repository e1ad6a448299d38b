//! The hyper glue: [`MetricsService`], a hyper `Service` answering with the core's
//! sans-IO exposure protocol, and the conversions every answer goes through.
//!
//! HTTP semantics are decided only by `torchlight::exposure` (`Request::route`,
//! `Route::respond`, `Response::internal_server_error`); this module moves a hyper
//! request head into it and its `Response` back out.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use torchlight::Registry;
use torchlight::exposure::{self, Route};

use crate::runtime::Runtime;

/// A hyper [`Service`](hyper::service::Service) serving a registry's metrics at
/// `/metrics` (and the small page at `/`), with the server's routing, negotiation,
/// compression and error answers. The request body is never read.
///
/// Encoding runs on `R`'s blocking pool, so a large registry does not stall the
/// runtime; a collector that panics gives a 500, like one that returns an error. The
/// registry's asynchronous collectors run first, on `R`, under their timeouts.
/// Each call encodes on its own (the server, unlike this embeddable service, shares
/// one encoding between concurrent scrapes).
///
/// Each adapter names it with its runtime: `torchlight_tokio::MetricsService` and so
/// on, whose docs show it embedded in an app.
pub struct MetricsService<R> {
    registry: &'static Registry,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> MetricsService<R> {
    /// A service for `registry`.
    #[must_use]
    pub const fn new(registry: &'static Registry) -> Self {
        Self {
            registry,
            runtime: PhantomData,
        }
    }

    /// Answers a request given by its head's parts (`path` without the query is
    /// enough), for frameworks that hand those out rather than a hyper `Request`
    /// (axum's extractors). The head is read at once; the future owns what it needs.
    pub fn respond_to(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> impl Future<Output = Response<Full<Bytes>>> + Send + 'static {
        respond::<R>(route_head(method, path, headers), self.registry)
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
fn route_head(method: &Method, path: &str, headers: &HeaderMap) -> Route {
    let accept = joined(headers, &ACCEPT);
    let accept_encoding = joined(headers, &ACCEPT_ENCODING);
    exposure::Request::new(method.as_str(), path)
        .with_accept(accept.as_deref())
        .with_accept_encoding(accept_encoding.as_deref())
        .route()
}

/// Answers `route`, encoding on `R`'s blocking pool when it encodes.
async fn respond<R: Runtime>(route: Route, registry: &'static Registry) -> Response<Full<Bytes>> {
    if !route.encodes() {
        return Answer::from(route.respond(registry)).to_hyper();
    }
    crate::collectors::collect::<R>(registry).await;
    R::unblock(move || answer(route, registry)).await.to_hyper()
}

/// `route.respond(registry)`, with a panicking collector answered as a failing one.
pub(crate) fn answer(route: Route, registry: &Registry) -> Answer {
    // A panic leaves nothing half-updated that this thread reads afterwards: the
    // registry is only read, and the response is discarded.
    let response = panic::catch_unwind(AssertUnwindSafe(|| route.respond(registry)))
        .unwrap_or_else(|_| exposure::Response::internal_server_error(route));
    Answer::from(response)
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

/// An exposure response ready to be sent any number of times: the body is shared.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    status: StatusCode,
    headers: Vec<(&'static str, &'static str)>,
    body: Bytes,
    content_length: usize,
}

impl From<exposure::Response> for Answer {
    fn from(response: exposure::Response) -> Self {
        Self {
            status: StatusCode::from_u16(response.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: response.headers().to_vec(),
            content_length: response.content_length(),
            body: Bytes::from(response.into_body()),
        }
    }
}

impl Answer {
    /// The hyper response (the body is shared, not copied).
    pub(crate) fn to_hyper(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body.clone()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for &(name, value) in &self.headers {
            // The core's header names are lowercase tokens and its values visible ASCII.
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers.insert(CONTENT_LENGTH, HeaderValue::from(self.content_length));
        response
    }
}
