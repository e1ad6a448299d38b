//! The quickstart: an app on 127.0.0.1:8080 whose `GET /` answers `hello`, timed by
//! the histogram `req_time_seconds`, with errors counted and in-flight requests
//! tracked, and the metrics server on 127.0.0.1:8000, with the process metrics and
//! `app_up`, a gauge an asynchronous collector sets by connecting to the app at each
//! scrape.
//!
//! ```text
//! cargo run --release -p torchlight-async-std --example quickstart -- [--app-addr ADDR] [--metrics-addr ADDR] [--web-config FILE]
//! curl http://127.0.0.1:8080/ && curl http://127.0.0.1:8000/metrics
//! ```
//!
//! Ctrl-C stops both servers.
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use async_std::net::TcpListener;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use smol_hyper::rt::FuturesIo;
use torchlight::{AsyncCollector, ExemplarCounter, ExemplarHistogram, Gauge, Metric, REGISTRY};
use torchlight_async_std::{Options, RuntimeClock, WebConfig, start_http_server};
use torchlight_example_cli::examples::{self, APP_ADDR, METRICS_ADDR};
use torchlight_example_cli::{TraceId, report};

static REQ_TIME: Metric<ExemplarHistogram> = Metric::new(
    "req_time_seconds",
    "time spent in requests",
    ExemplarHistogram::new(),
);
static REQ_ERRORS: Metric<ExemplarCounter> =
    Metric::new("req_errors", "requests that failed", ExemplarCounter::new());
static REQ_IN_PROGRESS: Metric<Gauge> =
    Metric::new("req_in_progress", "requests being served", Gauge::new());
static APP_UP: Metric<Gauge> = Metric::new(
    "app_up",
    "whether the app accepts connections, checked at each scrape",
    Gauge::new(),
);

/// The application's handler: `hello` at `/`, an error anywhere else. Like the seed's
/// `@time(REQ_TIME)`, the attributes time every call, count the `Err`s and track the
/// calls in flight, from the first poll until the future completes or is dropped. Each
/// observation and error carries the request's trace id as its exemplar (OpenMetrics).
#[torchlight::timed(REQ_TIME, clock = RuntimeClock, exemplar = || [("trace_id", trace_id)])]
#[torchlight::count_errors(REQ_ERRORS, exemplar = || [("trace_id", trace_id)])]
#[torchlight::track_in_progress(REQ_IN_PROGRESS)]
async fn req(request: &Request<Incoming>, trace_id: &str) -> Result<&'static str, StatusCode> {
    match request.uri().path() {
        "/" => Ok("hello"),
        _ => Err(StatusCode::NOT_FOUND),
    }
}

/// Serves one request with `req`.
async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // A real app takes the id from its tracer (or the request's `traceparent`).
    let trace_id = TraceId::generate();
    let (status, body) = match req(&request, trace_id.as_str()).await {
        Ok(body) => (StatusCode::OK, body),
        Err(status) => (status, "not found"),
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    Ok(response)
}

fn main() -> ExitCode {
    let args = examples::quickstart(env!("CARGO_PKG_NAME")).parse_args();
    let [app_addr, metrics_addr] = args.addresses;
    report(run(app_addr, metrics_addr, args.web_config.as_deref()))
}

fn run(
    app_addr: SocketAddr,
    metrics_addr: SocketAddr,
    web_config: Option<&Path>,
) -> Result<(), Box<dyn Error>> {
    REGISTRY.register(&REQ_TIME)?;
    REGISTRY.register(&REQ_ERRORS)?;
    REGISTRY.register(&REQ_IN_PROGRESS)?;
    REGISTRY.register(&APP_UP)?;
    // CPU, memory, file descriptors, start time: what Go's and Python's clients expose.
    torchlight::process::register(&REGISTRY)?;
    // HTTPS and basic authentication, as exporter-toolkit's web configuration file says.
    let mut options = Options::from(metrics_addr);
    if let Some(file) = web_config {
        options = WebConfig::from_file(file)?.apply(options);
    }
    let (interrupt, interrupted) = async_std::channel::bounded(1);
    ctrlc::set_handler(move || {
        let _ = interrupt.try_send(());
    })?;

    async_std::task::block_on(async {
        let metrics = start_http_server(options)
            .await
            .map_err(|error| METRICS_ADDR.blame(metrics_addr, error))?;
        let app = TcpListener::bind(app_addr)
            .await
            .map_err(|error| APP_ADDR.blame(app_addr, error))?;
        println!("app:     http://{}/", app.local_addr()?);
        // Computed before each scrape, on the server's runtime, within 5 s (the default).
        let app_local = app.local_addr()?;
        REGISTRY.register_async(AsyncCollector::new("app_up", move || async move {
            let up = async_std::net::TcpStream::connect(app_local).await.is_ok();
            APP_UP.set(i64::from(up));
            Ok::<(), std::io::Error>(())
        }))?;
        println!("metrics: {}", metrics.metrics_url());

        let serving = async_std::task::spawn(async move {
            loop {
                let Ok((stream, _)) = app.accept().await else {
                    continue;
                };
                let connection = http1::Builder::new()
                    .serve_connection(FuturesIo::new(stream), service_fn(handle));
                async_std::task::spawn(connection);
            }
        });
        // Until Ctrl-C; then the metrics server closes, and the app with it.
        metrics.serve_until(interrupted.recv()).await?;
        serving.cancel().await;
        println!("stopped");
        Ok(())
    })
}
