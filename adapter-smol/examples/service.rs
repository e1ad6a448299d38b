//! Request metrics for an axum app on smol: the layer needs nothing from tokio, so the
//! same router (axum without its tokio features) runs on hyper over smol, behind
//! `torchlight-tower`'s `MetricsLayer`, with the metrics server beside it.
//!
//! ```text
//! cargo run -p torchlight-smol --example service -- [--app-addr ADDR] [--metrics-addr ADDR]
//! curl http://127.0.0.1:8080/users/7 && curl http://127.0.0.1:8000/metrics
//! ```
#![forbid(unsafe_code)]

use std::error::Error;
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::time::Duration;

use axum_routing::Router;
use axum_routing::body::Body;
use axum_routing::http::StatusCode;
use axum_routing::routing::{get, post};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use smol::Async;
use smol_hyper::rt::FuturesIo;
use torchlight::REGISTRY;
use torchlight_example_cli::examples::{self, APP_ADDR, METRICS_ADDR};
use torchlight_example_cli::report;
use torchlight_smol::{Options, start_http_server};
use torchlight_tower::MetricsLayer;
use tower::ServiceExt as _;

fn main() -> ExitCode {
    let [app_addr, metrics_addr] = examples::service(env!("CARGO_PKG_NAME")).parse();
    report(run(app_addr, metrics_addr))
}

fn run(app_addr: SocketAddr, metrics_addr: SocketAddr) -> Result<(), Box<dyn Error>> {
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/users/{id}", get(|| async { StatusCode::OK }))
        .route("/users", post(|| async { StatusCode::CREATED }))
        .route(
            "/slow",
            get(|| async {
                smol::Timer::after(Duration::from_millis(50)).await;
                StatusCode::OK
            }),
        )
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        // The one line: every route (and the 404 fallback) behind the layer.
        .layer(MetricsLayer::new(&REGISTRY)?);

    let (stop, stopped) = smol::channel::bounded::<()>(1);
    ctrlc::set_handler(move || {
        let _ = stop.try_send(());
    })?;
    smol::block_on(async {
        let mut metrics = start_http_server(Options::from(metrics_addr))
            .await
            .map_err(|error| METRICS_ADDR.blame(metrics_addr, error))?;
        let listener = Async::<TcpListener>::bind(app_addr)
            .map_err(|error| APP_ADDR.blame(app_addr, error))?;
        println!("app:     http://{}/", listener.get_ref().local_addr()?);
        println!("metrics: {}", metrics.metrics_url());
        let accept = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let app = app.clone();
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    app.clone().oneshot(request.map(Body::new))
                });
                smol::spawn(
                    http1::Builder::new().serve_connection(FuturesIo::new(stream), service),
                )
                .detach();
            }
        };
        smol::future::or(accept, async {
            let _ = stopped.recv().await;
        })
        .await;
        metrics.close().await?;
        println!("stopped");
        Ok(())
    })
}
