//! The one request path, and the embeddable [`MetricsService`] built on it.
//!
//! Every request the server answers (in both modes) and every request an app hands to
//! a `MetricsService` goes through [`Exposure::answer`]: route → authorize → (shared)
//! encode → answer, each step in its file of `exposure/`. The server adds only what a
//! server owns around it (connection slots, limits, TLS, shutdown).

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, HeaderMap, HeaderName};
use hyper::{Method, Request, Response};

use crate::exposure::encode::Flights;
use crate::exposure::{self, Authenticate, Credentials, Route, Target, authorize};
use crate::registry::ServedRegistry;
use crate::runtime::Runtime;

/// What answering needs, shared by every connection of a server or every clone of a
/// service: the registry, the basic-auth check, and the encodings in flight.
pub(crate) struct Exposure {
    registry: ServedRegistry,
    /// Basic authentication when set.
    users: Option<Arc<dyn Authenticate>>,
    /// Whether OpenMetrics answers carry `_created` samples.
    created_samples: bool,
    flights: Arc<Flights>,
}

/// A request head as the exposure protocol reads it.
pub(crate) struct Head {
    route: Route,
    /// Read only where basic authentication is required.
    credentials: Option<Credentials>,
}

impl Exposure {
    pub(crate) fn new(
        registry: ServedRegistry,
        users: Option<Arc<dyn Authenticate>>,
        created_samples: bool,
    ) -> Self {
        Self {
            registry,
            users,
            created_samples,
            flights: Arc::default(),
        }
    }

    /// Step 1: routes a request head given in parts (`path` without the query is
    /// enough) and reads its credentials where they are needed.
    pub(crate) fn head(&self, method: &Method, path: &str, headers: &HeaderMap) -> Head {
        let accept = joined(headers, &ACCEPT);
        let accept_encoding = joined(headers, &ACCEPT_ENCODING);
        let route = exposure::Request::new(method.as_str(), path)
            .with_accept(accept.as_deref())
            .with_accept_encoding(accept_encoding.as_deref())
            .with_created_samples(self.created_samples)
            .route();
        let credentials = self.users.as_ref().and_then(|_| {
            let authorization = headers.get(AUTHORIZATION)?.to_str().ok()?;
            Credentials::parse(authorization)
        });
        Head { route, credentials }
    }

    /// Steps 2 to 4: authorizes (on the blocking pool), encodes (shared with concurrent
    /// requests for the same format), answers.
    pub(crate) async fn answer<R: Runtime>(&self, head: Head) -> exposure::Response {
        let Head { route, credentials } = head;
        let route = match &self.users {
            Some(users) => authorize::<R>(route, credentials, Arc::clone(users)).await,
            None => route,
        };
        let encoded = match route.target() {
            Target::Exposition { format, gzip } => {
                self.flights.encode::<R>(&self.registry, format, gzip).await
            }
            _ => None,
        };
        route.answer(encoded)
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

/// A hyper [`Service`](hyper::service::Service) serving a registry's metrics at
/// `/metrics` (and the small page at `/`) exactly as the server does: the same
/// routing, negotiation, compression, error answers and basic authentication, and
/// concurrent scrapes of one format sharing one encoding. The request body is never
/// read.
///
/// Encoding runs on `R`'s blocking pool, so a large registry does not stall the
/// runtime; a collector that panics gives a 500, like one that returns an error. The
/// registry's asynchronous collectors run first, on `R`, under their timeouts.
/// Cloning is cheap, and clones share their encodings in flight.
///
/// What the service does not do is what the app that embeds it owns: the listener,
/// TLS, connection limits and shutdown.
///
/// Each adapter names it with its runtime: `torchlight_tokio::MetricsService` and so
/// on, whose docs show it embedded in an app.
pub struct MetricsService<R> {
    exposure: Arc<Exposure>,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> MetricsService<R> {
    /// A service for `registry`: a `&'static Registry` (such as
    /// [`REGISTRY`](torchlight::REGISTRY)) or an `Arc<Registry>`, as
    /// [`Options::with_registry`](crate::Options::with_registry) takes.
    #[must_use]
    pub fn new(registry: impl Into<ServedRegistry>) -> Self {
        Self {
            exposure: Arc::new(Exposure::new(registry.into(), None, false)),
            runtime: PhantomData,
        }
    }

    /// Requires HTTP basic authentication on every request, as
    /// [`Options::with_basic_auth`](crate::Options::with_basic_auth) does for the
    /// server.
    #[must_use]
    pub fn with_basic_auth(self, users: impl Authenticate + 'static) -> Self {
        let exposure = &self.exposure;
        Self {
            exposure: Arc::new(Exposure::new(
                exposure.registry.clone(),
                Some(Arc::new(users)),
                exposure.created_samples,
            )),
            runtime: PhantomData,
        }
    }

    /// Writes OpenMetrics `_created` samples, as
    /// [`Options::with_created_samples`](crate::Options::with_created_samples) does for
    /// the server.
    #[must_use]
    pub fn with_created_samples(self, created_samples: bool) -> Self {
        let exposure = &self.exposure;
        Self {
            exposure: Arc::new(Exposure::new(
                exposure.registry.clone(),
                exposure.users.clone(),
                created_samples,
            )),
            runtime: PhantomData,
        }
    }

    /// The registry it serves.
    #[must_use]
    pub fn registry(&self) -> &ServedRegistry {
        &self.exposure.registry
    }

    /// Answers a request given by its head's parts (`path` without the query is
    /// enough), for frameworks that hand those out rather than a hyper `Request`
    /// (axum's extractors). The head is read at once; the future owns what it needs.
    pub fn respond_to(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> impl Future<Output = Response<Full<Bytes>>> + Send + use<R> {
        let head = self.exposure.head(method, path, headers);
        let exposure = Arc::clone(&self.exposure);
        async move { exposure.answer::<R>(head).await.to_hyper() }
    }
}

impl<R> Clone for MetricsService<R> {
    fn clone(&self) -> Self {
        Self {
            exposure: Arc::clone(&self.exposure),
            runtime: PhantomData,
        }
    }
}

impl<R> fmt::Debug for MetricsService<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsService")
            .field("registry", &self.exposure.registry)
            .field("basic_auth", &self.exposure.users.is_some())
            .field("created_samples", &self.exposure.created_samples)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime, B> hyper::service::Service<Request<B>> for MetricsService<R> {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let response = self.respond_to(request.method(), request.uri().path(), request.headers());
        Box::pin(async move { Ok(response.await) })
    }
}
