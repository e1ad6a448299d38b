//! Time per request of a minimal axum app (`GET /users/{id}` → `hello`), in-process
//! through `tower::ServiceExt::oneshot` (no network): bare, behind torchlight-tower's
//! `MetricsLayer`, behind axum-prometheus's `PrometheusMetricLayer` (its recorder
//! installed, as its `pair()` does), and behind a layer that only wraps the body (the
//! floor any body-watching layer pays in axum). The layers' overhead is each time minus the bare
//! one. Run by hand:
//!
//! ```text
//! cargo bench -p torchlight-bench --bench tower
//! ```
#![forbid(unsafe_code)]

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use divan::Bencher;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

fn main() {
    divan::main();
}

fn app() -> Router {
    Router::new().route("/users/{id}", get(|| async { "hello" }))
}

/// One request through `app`, its body read to the end.
fn serve(app: &Router) {
    let request = axum::http::Request::get("/users/7")
        .body(Body::empty())
        .expect("a request");
    futures_lite::future::block_on(async {
        let response = app.clone().oneshot(request).await.expect("infallible");
        let body = response.into_body().collect().await.expect("a body");
        divan::black_box(body);
    });
}

#[divan::bench]
fn bare(bencher: Bencher<'_, '_>) {
    let app = app();
    bencher.bench_local(|| serve(&app));
}

/// The floor under any layer that watches the response body: a layer that records
/// nothing but, like the metrics layers, wraps the body (so axum boxes the route's
/// service, future and body once more). What a layer adds above this is its own work.
#[divan::bench]
fn pass_through_layer(bencher: Bencher<'_, '_>) {
    let layer = tower::util::MapResponseLayer::new(|response: axum::response::Response| {
        response.map(|body| body.map_frame(|frame| frame))
    });
    let app = app().layer(layer);
    bencher.bench_local(|| serve(&app));
}

#[divan::bench]
fn torchlight_tower(bencher: Bencher<'_, '_>) {
    let registry: &'static torchlight::Registry = Box::leak(Box::new(torchlight::Registry::new()));
    let layer = torchlight_tower::MetricsLayer::new(registry).expect("a fresh registry");
    let app = app().layer(layer);
    bencher.bench_local(|| serve(&app));
}

#[divan::bench]
fn axum_prometheus(bencher: Bencher<'_, '_>) {
    // `pair()` spawns its recorder's upkeep task on tokio: give it a runtime (never
    // driven here, so the upkeep does not run during the measurement).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let _context = runtime.enter();
    let (layer, handle) = axum_prometheus::PrometheusMetricLayer::pair();
    let app = app().layer(layer);
    bencher.bench_local(|| serve(&app));
    divan::black_box(handle.render());
}
