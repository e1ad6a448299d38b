//! An axum handler for `/metrics` in your own axum app (feature `axum`).

use hyper::Method;
use hyper::header::HeaderMap;

use crate::{MetricsService, ServedRegistry};

/// A method router serving `registry`'s exposition for `GET` and `HEAD` wherever it is
/// mounted, negotiated and compressed like the server's `/metrics`, concurrent scrapes
/// sharing one encoding. `registry` is a `&'static Registry` or an `Arc<Registry>`, as
/// [`Options::with_registry`](crate::Options::with_registry) takes.
///
/// ```no_run
/// let app: axum::Router = axum::Router::new()
///     .route("/metrics", torchlight_tokio::axum::metrics(&torchlight::REGISTRY));
/// ```
pub fn metrics<S>(registry: impl Into<ServedRegistry>) -> ::axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let service = MetricsService::new(registry);
    ::axum::routing::get(move |method: Method, headers: HeaderMap| {
        service.respond_to(&method, "/metrics", &headers)
    })
}
