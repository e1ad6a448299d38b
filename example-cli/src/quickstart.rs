//! The quickstarts' application, the same on every runtime: three instrumented
//! request metrics, the `app_up` gauge, the handler, the metrics server's options, the
//! remote-write pusher's and the OTLP exporter's. Each adapter's `examples/quickstart.rs`
//! adds only what its runtime does (listen, spawn, start the pushers, stop on Ctrl-C)
//! around it.

use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use torchlight::{ExemplarCounter, ExemplarHistogram, Gauge, Metric, REGISTRY};
use torchlight_server::push::{OtlpPush, PushError, PushOptions};
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

/// The remote-write pusher's options: the global registry to `url` every `interval`,
/// each failure reported on stderr once per outage ([`Outage`]).
///
/// # Errors
///
/// [`PushError::Url`] for a URL the pusher cannot use.
pub fn remote_write(url: &str, interval: Duration) -> Result<PushOptions, PushError> {
    Ok(reported(PushOptions::new(url)?.with_interval(interval)))
}

/// The OTLP exporter (service `quickstart`) and its pusher's options: the global
/// registry to `{endpoint}/v1/metrics` every `interval` (`endpoint` is a base URL, as
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is), the other settings from the `OTEL_*` variables,
/// each failure reported on stderr once per outage ([`Outage`]).
///
/// # Errors
///
/// [`PushError::Url`] for an endpoint the pusher cannot use.
pub fn otlp(endpoint: &str, interval: Duration) -> Result<(PushOptions, OtlpPush), PushError> {
    // The environment first, so that what the flags say wins, as the OTLP spec asks.
    let push = OtlpPush::new()
        .with_endpoint(endpoint)
        .with_service_name("quickstart")
        .with_interval(interval);
    Ok((reported(push.options()?), push))
}

/// `options` with each failure of the pushes to their URL reported on stderr, once per
/// outage.
fn reported(options: PushOptions) -> PushOptions {
    let outage = Outage::new(options.endpoint().url());
    options.with_report(move |result| {
        if let Some(line) = outage.report(result) {
            eprintln!("{line}");
        }
    })
}

/// Whether pushes to a URL are failing, so that an outage is reported twice (when the
/// first attempt fails and when one succeeds again) rather than at every attempt.
#[derive(Debug)]
pub struct Outage {
    url: Arc<str>,
    failing: AtomicBool,
}

impl Outage {
    /// No outage yet, of pushes to `url`.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.into(),
            failing: AtomicBool::new(false),
        }
    }

    /// The line to print after an attempt that ended with `result`, if any:
    /// `push to URL failing: …` at the first failure, `push to URL recovered` at the
    /// first success after failures.
    pub fn report(&self, result: Result<(), &PushError>) -> Option<String> {
        // Relaxed: the flag orders nothing else; one pusher reports one attempt at a time.
        let was_failing = self.failing.swap(result.is_err(), Ordering::Relaxed);
        match (result, was_failing) {
            (Err(error), false) => Some(format!("push to {} failing: {error}", self.url)),
            (Ok(()), true) => Some(format!("push to {} recovered", self.url)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_reported_once_and_its_end_once() {
        let outage = Outage::new("http://r/api/v1/write");
        let error = PushError::Timeout {
            url: "http://r/api/v1/write".to_owned(),
            after: Duration::from_secs(10),
        };
        assert_eq!(outage.report(Ok(())), None);
        assert_eq!(
            outage.report(Err(&error)).as_deref(),
            Some(
                "push to http://r/api/v1/write failing: http://r/api/v1/write did not \
                 answer within 10s"
            )
        );
        assert_eq!(outage.report(Err(&error)), None);
        assert_eq!(outage.report(Err(&error)), None);
        assert_eq!(
            outage.report(Ok(())).as_deref(),
            Some("push to http://r/api/v1/write recovered")
        );
        assert_eq!(outage.report(Ok(())), None);
        assert!(outage.report(Err(&error)).is_some(), "a second outage");
    }
}
