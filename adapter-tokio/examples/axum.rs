//! Embedding in axum: mount `torchlight_tokio::axum::metrics` on any path.
//!
//! ```text
//! cargo run -p torchlight-tokio --features axum --example axum -- [--app-addr ADDR]    # then: curl http://127.0.0.1:8080/metrics
//! ```
#![forbid(unsafe_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;

use torchlight_example_cli::examples::{self, APP_ADDR};
use torchlight_example_cli::report;

#[tokio::main]
async fn main() -> ExitCode {
    let [app_addr] = examples::axum(env!("CARGO_PKG_NAME")).parse();
    report(run(app_addr).await)
}

async fn run(app_addr: SocketAddr) -> Result<(), Box<dyn Error>> {
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "my app" }))
        .route(
            "/metrics",
            torchlight_tokio::axum::metrics(&torchlight::REGISTRY),
        );
    let listener = tokio::net::TcpListener::bind(app_addr)
        .await
        .map_err(|error| APP_ADDR.blame(app_addr, error))?;
    println!(
        "app with metrics: http://{}/metrics",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
