//! An axum handler for `/metrics` in your own axum app (feature `axum`).

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::HeaderMap;
use hyper::{Method, Response};
use torchlight::Registry;

use crate::service::{respond, route_head};

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
    ::axum::routing::get(move |method: Method, headers: HeaderMap| async move {
        exposition(registry, &method, &headers).await
    })
}

async fn exposition(
    registry: &'static Registry,
    method: &Method,
    headers: &HeaderMap,
) -> Response<Full<Bytes>> {
    respond(route_head(method, "/metrics", headers), registry).await
}
