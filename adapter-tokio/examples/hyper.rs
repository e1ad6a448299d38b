//! Embedding: your own hyper app on tokio hands `/metrics` to `MetricsService` and
//! keeps its other routes.
//!
//! ```text
//! cargo run -p torchlight-tokio --example hyper    # then: curl http://127.0.0.1:8080/metrics
//! ```
#![forbid(unsafe_code)]

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{Service as _, service_fn};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use torchlight_tokio::MetricsService;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let metrics = MetricsService::new(&torchlight::REGISTRY);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!(
        "app with metrics: http://{}/metrics",
        listener.local_addr()?
    );
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let service = service_fn(move |request: Request<Incoming>| async move {
                    if request.uri().path() == "/metrics" {
                        metrics.call(request).await
                    } else {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"my app"))))
                    }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
