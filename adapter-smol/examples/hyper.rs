//! Embedding: your own hyper app on smol hands `/metrics` to `MetricsService` and
//! keeps its other routes.
//!
//! ```text
//! cargo run -p torchlight-smol --example hyper -- [--app-addr ADDR]    # then: curl http://127.0.0.1:8080/metrics
//! ```
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::error::Error;
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{Service as _, service_fn};
use hyper::{Request, Response};
use smol::Async;
use smol_hyper::rt::FuturesIo;
use torchlight_example_cli::examples::{self, APP_ADDR};
use torchlight_example_cli::report;
use torchlight_smol::MetricsService;

fn main() -> ExitCode {
    let [app_addr] = examples::hyper(env!("CARGO_PKG_NAME")).parse();
    report(run(app_addr))
}

fn run(app_addr: SocketAddr) -> Result<(), Box<dyn Error>> {
    smol::block_on(async {
        let metrics = MetricsService::new(&torchlight::REGISTRY);
        let listener = Async::<TcpListener>::bind(app_addr)
            .map_err(|error| APP_ADDR.blame(app_addr, error))?;
        println!(
            "app with metrics: http://{}/metrics",
            listener.get_ref().local_addr()?
        );
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let metrics = metrics.clone();
            let service = service_fn(move |request: Request<Incoming>| {
                let metrics = metrics.clone();
                async move {
                    if request.uri().path() == "/metrics" {
                        metrics.call(request).await
                    } else {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"my app"))))
                    }
                }
            });
            smol::spawn(http1::Builder::new().serve_connection(FuturesIo::new(stream), service))
                .detach();
        }
    })
}
