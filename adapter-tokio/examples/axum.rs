//! Embedding in axum: mount `torchlight_tokio::axum::metrics` on any path.
//!
//! ```text
//! cargo run -p torchlight-tokio --features axum --example axum    # then: curl http://127.0.0.1:8080/metrics
//! ```
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "my app" }))
        .route(
            "/metrics",
            torchlight_tokio::axum::metrics(&torchlight::REGISTRY),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
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
