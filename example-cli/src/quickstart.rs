//! The quickstarts' application, the same on every runtime: three instrumented
//! request metrics, the `app_up` gauge, the handler, and the metrics server's
//! options. Each adapter's `examples/quickstart.rs` adds only what its runtime does
//! (listen, spawn, stop on Ctrl-C) around it.

use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;
use std::path::Path;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use torchlight::{ExemplarCounter, ExemplarHistogram, Gauge, Metric, REGISTRY};
use torchlight_server::{Options, WebConfig};

use crate::TraceId;

/// The time each request took, with the request's trace id as exemplar.
pub static REQ_TIME: Metric<ExemplarHistogram> = Metric::new(
    "req_time_seconds",
    "time spent in requests",
    ExemplarHistogram::new(),
);
/// The requests that failed, with the last one's trace id as exemplar.
pub static REQ_ERRORS: Metric<ExemplarCounter> =
    Metric::new("req_errors", "requests that failed", ExemplarCounter::new());
/// The requests being served.
pub static REQ_IN_PROGRESS: Metric<Gauge> =
    Metric::new("req_in_progress", "requests being served", Gauge::new());
/// Whether the app accepts connections: an asynchronous collector on the server's
/// runtime sets it before each scrape.
pub static APP_UP: Metric<Gauge> = Metric::new(
    "app_up",
    "whether the app accepts connections, checked at each scrape",
    Gauge::new(),
);

/// The application's handler: `hello` at `/`, an error anywhere else. Like Python's
/// `@time(REQ_TIME)`, the attributes time every call, count the `Err`s and track the
/// calls in flight, from the first poll until the future completes or is dropped. Each
/// observation and error carries the request's trace id as its exemplar (OpenMetrics).
#[torchlight::timed(REQ_TIME, exemplar = || [("trace_id", trace_id)])]
#[torchlight::count_errors(REQ_ERRORS, exemplar = || [("trace_id", trace_id)])]
#[torchlight::track_in_progress(REQ_IN_PROGRESS)]
async fn req(request: &Request<Incoming>, trace_id: &str) -> Result<&'static str, StatusCode> {
    match request.uri().path() {
        "/" => Ok("hello"),
        _ => Err(StatusCode::NOT_FOUND),
    }
}

/// Serves one request with `req`.
///
/// # Errors
///
/// Never: the `Infallible` is what hyper's `service_fn` asks for.
pub async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
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

/// Registers the app's metrics and the process metrics with the global registry, and
/// returns the metrics server's options: `metrics_addr`, with HTTPS and basic
/// authentication as exporter-toolkit's web configuration file `web_config` says.
///
/// # Errors
///
/// A metric the registry refuses (registered twice), or an unreadable or invalid web
/// configuration file.
pub fn setup(
    metrics_addr: SocketAddr,
    web_config: Option<&Path>,
) -> Result<Options, Box<dyn Error>> {
    REGISTRY.register(&REQ_TIME)?;
    REGISTRY.register(&REQ_ERRORS)?;
    REGISTRY.register(&REQ_IN_PROGRESS)?;
    REGISTRY.register(&APP_UP)?;
    // CPU, memory, file descriptors, start time: what Go's and Python's clients expose.
    torchlight::process::register(&REGISTRY)?;
    let mut options = Options::from(metrics_addr);
    if let Some(file) = web_config {
        options = WebConfig::from_file(file)?.apply(options);
    }
    Ok(options)
}
