//! Case 13: time per request of a minimal axum app (`GET /users/{id}` → `hello`),
//! in-process through `tower::ServiceExt::oneshot` (no network), its body read to the
//! end. Paths are `case13_tower::request::<library>`:
//!
//! - `bare`: the app alone;
//! - `floor`: behind a layer that records nothing but, like every metrics layer here,
//!   wraps the response body, so axum boxes the route's service, future and body once
//!   more: the least any layer that times a response to its end costs in axum;
//! - `torchlight`: behind torchlight-tower's `MetricsLayer` (defaults: classic
//!   histogram with exemplars, no body sizes);
//! - `axum_prometheus`: behind axum-prometheus's `PrometheusMetricLayer`, its recorder
//!   installed as its `pair()` does.
//!
//! The report subtracts `bare` from each row (`cargo xtask bench --filter case13`);
//! by hand: `cargo bench -p torchlight-bench --bench tower`.
#![forbid(unsafe_code)]

fn main() {
    divan::main();
}

/// 2000 samples of 20 requests: a request takes about a microsecond, so a sample is
/// ~20 µs, well above the timer's precision, and 2000 of them make the median stable
/// on a shared 2-core machine (measured: medians within ±2 % between runs).
#[divan::bench_group(sample_count = 2000, sample_size = 20)]
mod case13_tower {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use divan::Bencher;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

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

    mod request {
        use super::*;

        #[divan::bench]
        fn bare(bencher: Bencher<'_, '_>) {
            let app = app();
            bencher.bench_local(|| serve(&app));
        }

        #[divan::bench]
        fn floor(bencher: Bencher<'_, '_>) {
            let layer = tower::util::MapResponseLayer::new(|response: axum::response::Response| {
                response.map(|body| body.map_frame(|frame| frame))
            });
            let app = app().layer(layer);
            bencher.bench_local(|| serve(&app));
        }

        #[divan::bench]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let registry: &'static torchlight::Registry =
                Box::leak(Box::new(torchlight::Registry::new()));
            let layer = torchlight_tower::MetricsLayer::new(registry).expect("a fresh registry");
            let app = app().layer(layer);
            bencher.bench_local(|| serve(&app));
        }

        #[divan::bench]
        fn axum_prometheus(bencher: Bencher<'_, '_>) {
            // `pair()` spawns its recorder's upkeep task on tokio: give it a runtime
            // (never driven here, so the upkeep does not run during the measurement).
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a tokio runtime");
            let _context = runtime.enter();
            let (layer, handle) = axum_prometheus::PrometheusMetricLayer::pair();
            let app = app().layer(layer);
            bencher.bench_local(|| serve(&app));
            divan::black_box(handle.render());
        }
    }
}
