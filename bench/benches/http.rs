//! Case 7 of `cargo xtask bench`: scrapes per second and latency of `/metrics` over
//! keep-alive loopback HTTP with 10 000 series, torchlight's tokio server against
//! `metrics-exporter-prometheus`'s HTTP listener (`torchlight_bench::http`).
//!
//! Not a divan bench: a fixed-time load (the same generator for both servers), printed
//! as result lines (`torchlight_bench::record`). Each server is started, its exposition
//! checked once (10 000 samples of value 1), loaded by `CLIENTS` keep-alive connections
//! for a warm-up and then the measured window, and stopped.
//!
//! Arguments: `--bench` (ignored, cargo passes it), `--quick` (a shorter window), and
//! filters: a server is measured when its `case7_http::<labels>::<library>` path
//! contains any filter (all of them when there is none); `<labels>` is `run_time`
//! (torchlight's `Family`, `metrics`) or `compile_time` (torchlight's `Labelled`).
//!
//! Case 10 (`case10_burst::<one|sixteen>::torchlight`): the same torchlight server with
//! 100 000 series receiving one scrape at a time, or sixteen at the same moment (an
//! HA pair, a federation layer and a few curls), each asking for gzip as Prometheus
//! does: the server threads' CPU time per round and every scrape's latency. Concurrent
//! scrapes share one encoding, so sixteen should cost well under twice one.
//!
//! Case 12 (`case12_tls::<http|https|https_basic_auth>::torchlight`): case 7's load on
//! the torchlight server with compile-time labels, over plain HTTP and over HTTPS
//! (rustls, `ring`, TLS 1.3, kept-alive connections whose handshake falls in the
//! warm-up): what TLS costs a scrape; and over HTTPS with basic authentication (one
//! user, a cost-10 bcrypt hash, every request carrying the right password): what
//! authenticating every scrape costs.
#![forbid(unsafe_code)]

use std::time::Duration;

use torchlight_bench::Library;
use torchlight_bench::http::{self, BURST_SERIES, Labels, SERIES, Server};
use torchlight_bench::record::Record;

/// Concurrent keep-alive clients: one per core, at least 2 and at most 8 (the client
/// threads share the machine with the server's workers).
fn clients() -> usize {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .clamp(2, 8)
}

fn main() {
    let mut quick = false;
    let mut filters: Vec<String> = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--bench" => {}
            "--quick" => quick = true,
            // divan-style options the other bench programs take; ignored here.
            other if other.starts_with("--") => {}
            filter => filters.push(filter.to_owned()),
        }
    }
    let (warmup, window) = if quick {
        (Duration::from_millis(300), Duration::from_secs(1))
    } else {
        (Duration::from_secs(1), Duration::from_secs(5))
    };
    let clients = clients();

    torchlight_bench::machine::print();
    let servers = [
        (Library::Torchlight, Labels::RunTime),
        (Library::Torchlight, Labels::CompileTime),
        (Library::Metrics, Labels::RunTime),
    ];
    for (library, labels) in servers {
        let variant = labels.name();
        let path = format!("case7_http::{variant}::{library}");
        if !(filters.is_empty() || filters.iter().any(|f| path.contains(f.as_str()))) {
            continue;
        }
        let server = Server::start(library, labels, SERIES)
            .unwrap_or_else(|error| panic!("{library}: the server did not start: {error}"));
        let body_bytes = http::check(server.address(), SERIES)
            .unwrap_or_else(|error| panic!("{library}: wrong exposition: {error}"));
        let load = http::load(server.address(), clients, warmup, window)
            .unwrap_or_else(|error| panic!("{library}: a request failed: {error}"));
        drop(server);
        print_load("case7_http", variant, library, clients, body_bytes, &load);
    }
    burst(&filters, quick);
    tls(&filters, clients, warmup, window);
}

/// Case 12: the same server, load and series over HTTP, over HTTPS, and over HTTPS
/// with basic authentication.
fn tls(filters: &[String], clients: usize, warmup: Duration, window: Duration) {
    for variant in ["http", "https", "https_basic_auth"] {
        let path = format!("case12_tls::{variant}::{}", Library::Torchlight);
        if !(filters.is_empty() || filters.iter().any(|f| path.contains(f.as_str()))) {
            continue;
        }
        let server = match variant {
            "https" => Server::start_https(Labels::CompileTime, SERIES),
            "https_basic_auth" => Server::start_https_with_basic_auth(Labels::CompileTime, SERIES),
            _ => Server::start(Library::Torchlight, Labels::CompileTime, SERIES),
        }
        .unwrap_or_else(|error| panic!("{variant}: the server did not start: {error}"));
        let target = server.target();
        let body_bytes = http::check_target(&target, SERIES)
            .unwrap_or_else(|error| panic!("{variant}: wrong exposition: {error}"));
        let load = http::load_target(&target, clients, warmup, window)
            .unwrap_or_else(|error| panic!("{variant}: a request failed: {error}"));
        drop(server);
        print_load(
            "case12_tls",
            variant,
            Library::Torchlight,
            clients,
            body_bytes,
            &load,
        );
    }
}

/// Prints the result lines of one server's load (cases 7 and 12).
fn print_load(
    case: &'static str,
    variant: &'static str,
    library: Library,
    clients: usize,
    body_bytes: usize,
    load: &http::Load,
) {
    let results = [
        ("clients", clients as f64),
        ("body_bytes", body_bytes as f64),
        ("requests", load.requests as f64),
        ("requests_per_second", load.per_second()),
        (
            "median_latency_ns",
            load.latency_ns(0.5).unwrap_or(0) as f64,
        ),
        ("p99_latency_ns", load.latency_ns(0.99).unwrap_or(0) as f64),
    ];
    for (metric, value) in results {
        let record = Record {
            case,
            variant,
            parameter: SERIES.to_string(),
            library,
            metric,
            value,
        };
        println!("{}", record.line());
    }
}

/// Case 10: rounds of one scrape and of sixteen simultaneous scrapes of 100 000 series.
fn burst(filters: &[String], quick: bool) {
    let rounds = if quick { 3 } else { 20 };
    let mut server = None;
    for (variant, scrapes) in [("one", 1), ("sixteen", 16)] {
        let path = format!("case10_burst::{variant}::{}", Library::Torchlight);
        if !(filters.is_empty() || filters.iter().any(|f| path.contains(f.as_str()))) {
            continue;
        }
        let server = server.get_or_insert_with(|| {
            let server = Server::start(Library::Torchlight, Labels::RunTime, BURST_SERIES)
                .unwrap_or_else(|error| panic!("the burst server did not start: {error}"));
            http::check(server.address(), BURST_SERIES)
                .unwrap_or_else(|error| panic!("wrong burst exposition: {error}"));
            server
        });
        // One unmeasured round warms the allocator and the blocking pool.
        let measured = http::burst(server.address(), scrapes, 1)
            .and_then(|_| http::burst(server.address(), scrapes, rounds))
            .unwrap_or_else(|error| panic!("burst of {scrapes}: {error}"));
        let results = [
            ("scrapes", scrapes as f64),
            ("rounds", rounds as f64),
            ("cpu_per_round_ns", measured.cpu_per_round_ns),
            (
                "median_latency_ns",
                measured.latency_ns(0.5).unwrap_or(0) as f64,
            ),
            (
                "p99_latency_ns",
                measured.latency_ns(0.99).unwrap_or(0) as f64,
            ),
        ];
        for (metric, value) in results {
            let record = Record {
                case: "case10_burst",
                variant,
                parameter: BURST_SERIES.to_string(),
                library: Library::Torchlight,
                metric,
                value,
            };
            println!("{}", record.line());
        }
    }
}
