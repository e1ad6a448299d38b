//! Request metrics for an axum app in one line: `torchlight-tower`'s `MetricsLayer` on
//! the router, the metrics server beside it.
//!
//! ```text
//! cargo run -p torchlight-tokio --features axum --example service -- [--app-addr ADDR] [--metrics-addr ADDR]
//! curl http://127.0.0.1:8080/users/7 && curl http://127.0.0.1:8000/metrics
//! ```
#![forbid(unsafe_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use torchlight::REGISTRY;
use torchlight_example_cli::examples::{self, APP_ADDR, METRICS_ADDR};
use torchlight_example_cli::report;
use torchlight_tokio::{Options, start_http_server};
use torchlight_tower::MetricsLayer;

#[tokio::main]
async fn main() -> ExitCode {
    let [app_addr, metrics_addr] = examples::service(env!("CARGO_PKG_NAME")).parse();
    report(run(app_addr, metrics_addr).await)
}

async fn run(app_addr: SocketAddr, metrics_addr: SocketAddr) -> Result<(), Box<dyn Error>> {
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/users/{id}", get(|| async { StatusCode::OK }))
        .route("/users", post(|| async { StatusCode::CREATED }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                StatusCode::OK
            }),
        )
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        // The one line: every route (and the 404 fallback) behind the layer.
        .layer(MetricsLayer::new(&REGISTRY)?);

    let mut metrics = start_http_server(Options::from(metrics_addr))
        .await
        .map_err(|error| METRICS_ADDR.blame(metrics_addr, error))?;
    let listener = tokio::net::TcpListener::bind(app_addr)
        .await
        .map_err(|error| APP_ADDR.blame(app_addr, error))?;
    println!("app:     http://{}/", listener.local_addr()?);
    println!("metrics: {}", metrics.metrics_url());
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    metrics.close().await?;
    println!("stopped");
    Ok(())
}
