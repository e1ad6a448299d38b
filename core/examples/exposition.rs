//! Registers a few `static` metrics, records values and prints both expositions.
//!
//! ```sh
//! cargo run -p torchlight --example exposition
//! ```
//!
//! The HTTP adapters serve the same bytes on `/metrics`; this example only prints them.

use std::error::Error;
use std::process::ExitCode;

use torchlight::{
    Buckets, Counter, FloatCounter, FloatGauge, Format, Gauge, Histogram, Labelled, Metric,
    REGISTRY,
};
use torchlight_example_cli::{examples, report};

torchlight::label_value! {
    /// The HTTP method of a request.
    enum Method { Get = "GET", Post = "POST" }
}
torchlight::label_value! {
    /// The class of a response's status code.
    enum Class { Ok = "2xx", Client = "4xx", Server = "5xx" }
}
torchlight::label_set! {
    /// The labels of a response: method and status class (2 × 3 = 6 series).
    struct Route { method: Method, class: Class }
}

/// Latency buckets for a fast service: 1 ms to 1 s.
const LATENCY: Buckets<4> = Buckets::new([0.001, 0.01, 0.1, 1.0]);

static RESPONSES: Metric<Labelled<Route, Counter, 6>> = Metric::new(
    "http_responses",
    "Responses sent, by method and status class.",
    Labelled::new([const { Counter::new() }; 6]),
);
static REQUEST_TIME: Metric<Histogram<4>> = Metric::new(
    "http_request_duration_seconds",
    "Time spent answering requests.",
    Histogram::with_buckets(&LATENCY),
)
.with_unit("seconds");
static BYTES_SENT: Metric<FloatCounter> = Metric::new(
    "http_sent_bytes",
    "Bytes of response bodies sent.",
    FloatCounter::new(),
)
.with_unit("bytes");
static IN_PROGRESS: Metric<Gauge> = Metric::new(
    "http_requests_in_progress",
    "Requests being answered right now.",
    Gauge::new(),
);
static TEMPERATURE: Metric<FloatGauge> = Metric::new(
    "cpu_temperature_celsius",
    "CPU temperature, with a \"quoted\" word and a \\ backslash in the help.",
    FloatGauge::new(),
);

fn main() -> ExitCode {
    let [] = examples::exposition(env!("CARGO_PKG_NAME")).parse();
    report(run())
}

fn run() -> Result<(), Box<dyn Error>> {
    REGISTRY.register(&RESPONSES)?;
    REGISTRY.register(&REQUEST_TIME)?;
    REGISTRY.register(&BYTES_SENT)?;
    REGISTRY.register(&IN_PROGRESS)?;
    REGISTRY.register(&TEMPERATURE)?;

    for (method, class, seconds, bytes) in [
        (Method::Get, Class::Ok, 0.0004, 512.0),
        (Method::Get, Class::Ok, 0.003, 2048.0),
        (Method::Post, Class::Client, 0.02, 64.0),
        (Method::Post, Class::Server, 2.5, 0.0),
    ] {
        RESPONSES.get(Route { method, class }).inc();
        REQUEST_TIME.observe(seconds);
        BYTES_SENT.inc_by(bytes);
    }
    IN_PROGRESS.set(3);
    TEMPERATURE.set(61.5);

    let mut text = String::new();
    REGISTRY.encode(&mut text, Format::Text)?;
    print!("--- {} ---\n{text}\n", Format::Text.content_type());

    let mut openmetrics = String::new();
    REGISTRY.encode(&mut openmetrics, Format::OpenMetrics)?;
    print!(
        "--- {} ---\n{openmetrics}",
        Format::OpenMetrics.content_type()
    );
    Ok(())
}
