//! An axum handler for `/metrics` in your own axum app (feature `axum`).

use hyper::Method;
use hyper::header::HeaderMap;
use torchlight::Registry;

use crate::MetricsService;

/// A method router serving `registry`'s exposition for `GET` and `HEAD` wherever it is
/// mounted, negotiated and compressed like the server's `/metrics`.
///
/// ```no_run
/// let app: axum::Router = axum::Router::new()
///     .route("/metrics", torchlight_tokio::axum::metrics(&torchlight::REGISTRY));
/// ```
pub fn metrics<S>(registry: &'static Registry) -> ::axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let service = MetricsService::new(registry);
    ::axum::routing::get(move |method: Method, headers: HeaderMap| async move {
        service.respond_to(&method, "/metrics", &headers).await
    })
}
