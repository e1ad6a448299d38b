//! One suite, run against every adapter: Python `prometheus_async`'s `TestWeb` cases
//! 17–22 and every HTTP rule of the exposure server.
//!
//! Each test is a generic function over [`Adapter`]; `per_adapter_suite!` at the bottom generates
//! `tokio::name`, `smol::name` and `async_std::name` tests from it.
#![forbid(unsafe_code)]

use std::io::Write;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::PoisonError;
use std::thread;
use std::time::{Duration, Instant};

use torchlight::{Counter, Format, Metric, Registry};
use torchlight_server::Limits;
use torchlight_server::exposure::PAGE;
use torchlight_tests::adapter::{
    Adapter, Config, Server, embed_axum, in_both_modes, registry_with,
};
use torchlight_tests::client::{self, Reply, connect, get, parse, raw, read_to_close, request};

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
/// Prometheus 2.42's default `Accept` (captured on the wire; `scrapeAcceptHeader` in its
/// `scrape/scrape.go`).
const PROMETHEUS_2: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// Prometheus 2.42 with `--enable-feature=native-histograms`.
const PROMETHEUS_2_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// Prometheus 3.x's default `Accept`.
const PROMETHEUS_3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
/// Python's `test_server_stats_openmetrics` header.
const PYTHON_OPEN_METRICS: &str =
    "application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

fn start<A: Adapter>(config: Config) -> Box<dyn Server> {
    A::start(config).unwrap_or_else(|error| panic!("{}: {error}", A::NAME))
}

fn metrics_url(server: &dyn Server) -> String {
    format!("{}metrics", server.url())
}

/// A raw `GET` with `Connection: close` and the given extra header lines.
fn raw_get(address: SocketAddr, path: &str, extra: &str) -> Reply {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\n{extra}Connection: close\r\n\r\n");
    parse(&raw(address, request.as_bytes()))
}

/// Polls `done` every 20 ms for up to `limit`.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    done()
}

fn refuses_connections(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err()
}

fn short_limits() -> Limits {
    Limits::DEFAULT
        .with_header_read_timeout(Duration::from_secs(1))
        .with_shutdown_grace(Duration::from_secs(1))
}

// --- Python TestWeb 17–22 -------------------------------------------------------

/// 17 `test_server_stats_old`: no `Accept` gets text 0.0.4 (without `_created`).
fn python_17_text_without_accept<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("test_server_stats", 1)));
    let reply = raw_get(server.local_addr(), "/metrics", "");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(TEXT));
    assert!(
        reply.text().starts_with(
            "# HELP test_server_stats_total cnt\n# TYPE test_server_stats_total counter\ntest_server_stats_total 1\n"
        ),
        "{}",
        reply.text()
    );
    server.close();
}

/// 18 `test_server_stats_openmetrics`: Python's `Accept` gets OpenMetrics.
fn python_18_open_metrics<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("test_server_stats", 1)));
    let reply = get(&metrics_url(&*server), &[("accept", PYTHON_OPEN_METRICS)]);
    assert_eq!(reply.header("content-type"), Some(OPEN_METRICS));
    let body = reply.text();
    assert!(
        body.starts_with("# HELP test_server_stats cnt\n# TYPE test_server_stats counter\ntest_server_stats_total 1.0\n"),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    server.close();
}

/// 19 `test_cheap`: `/` is the fixed HTML page.
fn python_19_cheap_page<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("cheap", 0)));
    let reply = get(&server.url(), &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, PAGE.as_bytes());
    assert_eq!(
        PAGE,
        r#"<html><body><a href="/metrics">Metrics</a></body></html>"#
    );
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    server.close();
}

/// 20 `test_start_http_server`: a started server serves its registry.
fn python_20_start_http_server<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("test_start_http_server", 1)));
    let address = server.local_addr();
    let reply = get(&format!("http://127.0.0.1:{}/metrics", address.port()), &[]);
    assert!(reply.text().contains(
        "# HELP test_start_http_server_total cnt\n# TYPE test_start_http_server_total counter\ntest_start_http_server_total 1\n"
    ));
    server.close();
}

/// 21 `test_start_in_thread`: the threaded server runs in a named thread, serves,
/// and its thread is gone after `close`.
fn python_21_start_in_thread<A: Adapter>() {
    let registry = registry_with("test_start_http_server_in_thread", 1);
    let mut server =
        A::start_in_thread(Config::loopback(registry)).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(server.thread_name().as_deref(), Some("torchlight-metrics"));
    assert!(server.url().starts_with("http://"));
    let reply = get(&metrics_url(&*server), &[]);
    assert!(
        reply
            .text()
            .contains("HELP test_start_http_server_in_thread_total cnt")
    );
    let address = server.local_addr();
    server.close();
    assert_eq!(server.thread_name(), None, "close joins the thread");
    assert!(refuses_connections(address));
    server.close();
}

/// 22 `test_url`: `http://127.0.0.1:<port>/`.
fn python_22_url<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("url", 0)));
    let port = server.local_addr().port();
    assert_ne!(port, 0, "port 0 is replaced by the real port");
    assert_eq!(server.url(), format!("http://127.0.0.1:{port}/"));
    server.close();
}

// --- Routes, methods, negotiation ------------------------------------------------

fn routes_and_methods<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("routes", 0)));
    let base = server.url();
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        for path in ["", "metrics"] {
            let reply = request(method, &format!("{base}{path}"), &[]);
            assert_eq!(reply.status, 405, "{method} /{path}");
            assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{method} /{path}");
            assert_eq!(reply.text(), "405: Method Not Allowed");
        }
    }
    for path in ["metrics/", "favicon.ico", "metrics.txt", "x/metrics"] {
        let reply = get(&format!("{base}{path}"), &[]);
        assert_eq!(reply.status, 404, "/{path}");
        assert_eq!(reply.text(), "404: Not Found");
        assert_eq!(
            reply.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }
    // A query string does not change the route.
    assert_eq!(
        get(&format!("{base}metrics?name[]=routes"), &[]).status,
        200
    );
    assert_eq!(get(&format!("{base}?check=1"), &[]).body, PAGE.as_bytes());
    server.close();
}

fn negotiation_matrix<A: Adapter>() {
    let registry = registry_with("negotiated", 2);
    let mut server = start::<A>(Config::loopback(registry));
    let url = metrics_url(&*server);
    let cases = [
        (PROMETHEUS_2, OPEN_METRICS),
        (PROMETHEUS_2_NATIVE, PROTOBUF),
        // Prometheus 3 asks for UTF-8 names: the answer names the scheme, as Go's does.
        (
            PROMETHEUS_3,
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        ),
        (PYTHON_OPEN_METRICS, OPEN_METRICS),
        ("Application/OpenMetrics-Text", OPEN_METRICS),
        ("application/*", OPEN_METRICS),
        ("*/*", TEXT),
        ("text/plain", TEXT),
        // Text 1.0.0 without a scheme: names escaped with underscores, said so.
        (
            "text/plain;version=1.0.0",
            "text/plain; version=1.0.0; charset=utf-8; escaping=underscores",
        ),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            TEXT,
        ),
        ("application/openmetrics-text;q=0, text/plain", TEXT),
        ("application/openmetrics-text;q=0", TEXT),
        ("application/openmetrics-text;q=0.5, */*", TEXT),
    ];
    for (accept, content_type) in cases {
        let reply = get(&url, &[("accept", accept)]);
        assert_eq!(
            reply.header("content-type"),
            Some(content_type),
            "Accept: {accept}"
        );
        if content_type == PROTOBUF {
            // The core's tests decode the bytes; here: the registry's own protobuf.
            let mut expected = Vec::new();
            registry
                .encode_to(&mut expected, Format::Protobuf)
                .expect("encode");
            assert_eq!(reply.body, expected, "Accept: {accept}");
            assert_eq!(reply.header("vary"), Some("Accept, Accept-Encoding"));
            continue;
        }
        let body = reply.text();
        if content_type.starts_with("application/openmetrics-text") {
            assert!(body.ends_with("negotiated_total 2.0\n# EOF\n"), "{body}");
        } else {
            assert!(body.ends_with("negotiated_total 2\n"), "{body}");
        }
        assert_eq!(reply.header("vary"), Some("Accept, Accept-Encoding"));
    }
    // Several `Accept` lines count as one list.
    let reply = raw_get(
        server.local_addr(),
        "/metrics",
        "Accept: text/plain;q=0.5\r\nAccept: application/openmetrics-text\r\n",
    );
    assert_eq!(reply.header("content-type"), Some(OPEN_METRICS));
    server.close();
}

fn gzip_round_trip<A: Adapter>() {
    let registry = registry_with("gzipped", 3);
    let mut server = start::<A>(Config::loopback(registry));
    let url = metrics_url(&*server);
    for (accept, format) in [
        (PROMETHEUS_2, Format::OpenMetrics),
        ("text/plain", Format::Text),
        (PROMETHEUS_2_NATIVE, Format::Protobuf),
    ] {
        let mut expected = Vec::new();
        registry.encode_to(&mut expected, format).expect("encode");
        let reply = get(&url, &[("accept", accept), ("accept-encoding", "gzip")]);
        assert_eq!(reply.header("content-encoding"), Some("gzip"));
        assert_eq!(reply.header("content-type"), Some(format.content_type()));
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&reply.body[..]),
            &mut decoded,
        )
        .expect("a valid gzip stream");
        assert_eq!(decoded, expected);

        let plain = get(&url, &[("accept", accept), ("accept-encoding", "identity")]);
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(plain.body, expected);
    }
    let refused = get(&url, &[("accept-encoding", "gzip;q=0, deflate")]);
    assert_eq!(refused.header("content-encoding"), None);
    server.close();
}

fn head_has_headers_and_no_body<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("headed", 1)));
    let address = server.local_addr();
    for (path, extra) in [
        ("/metrics", ""),
        ("/metrics", "Accept-Encoding: gzip\r\n"),
        ("/", ""),
    ] {
        let get = raw_get(address, path, extra);
        let request =
            format!("HEAD {path} HTTP/1.1\r\nHost: test\r\n{extra}Connection: close\r\n\r\n");
        let head = parse(&raw(address, request.as_bytes()));
        assert_eq!(head.status, 200);
        assert!(
            head.body.is_empty(),
            "HEAD {path} sent a body: {:?}",
            head.text()
        );
        assert!(!get.body.is_empty());
        for name in ["content-type", "content-encoding", "vary"] {
            assert_eq!(head.header(name), get.header(name), "HEAD {path} {name}");
        }
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str())
        );
    }
    server.close();
}

// --- Addresses, ports, URLs --------------------------------------------------------

fn ipv6_loopback<A: Adapter>() {
    let mut config = Config::loopback(registry_with("six", 6));
    config.address = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let mut server = start::<A>(config);
    let port = server.local_addr().port();
    assert_eq!(
        server.local_addr(),
        SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port)
    );
    assert_eq!(server.url(), format!("http://[::1]:{port}/"));
    assert!(
        get(&metrics_url(&*server), &[])
            .text()
            .contains("six_total 6\n")
    );
    server.close();
}

fn explicit_port_and_advertised_address<A: Adapter>() {
    // An explicit port can only be one found free a moment ago; another process may
    // take it before the start, so a failed start tries another (five times at most).
    let registry = registry_with("explicit", 0);
    let (mut server, port) = (0..5)
        .find_map(|_| {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|probe| probe.local_addr())
                .expect("an ephemeral port")
                .port();
            let mut config = Config::loopback(registry);
            config.port = port;
            config.advertised_address = Some("metrics.example".to_owned());
            A::start(config).ok().map(|server| (server, port))
        })
        .expect("an explicit port within five tries");
    assert_eq!(server.local_addr().port(), port);
    assert_eq!(
        server.advertised_address().as_deref(),
        Some("metrics.example")
    );
    assert_eq!(
        server.url(),
        format!("http://127.0.0.1:{port}/"),
        "the URL is the bound address"
    );
    server.close();
}

/// A registry the program owns through an `Arc` (not a `static`) is served, and what
/// the program registers in it afterwards shows in the next scrape.
fn shared_registry_is_served<A: Adapter>() {
    let registry = std::sync::Arc::new(Registry::new());
    let mut server = start::<A>(Config::loopback(std::sync::Arc::clone(&registry)));
    assert_eq!(raw_get(server.local_addr(), "/metrics", "").text(), "");
    let counter = std::sync::Arc::new(Metric::new("owned", "cnt", Counter::new()));
    counter.inc_by(2);
    registry.register_owned(counter).expect("a valid counter");
    assert_eq!(
        raw_get(server.local_addr(), "/metrics", "").text(),
        "# HELP owned_total cnt\n# TYPE owned_total counter\nowned_total 2\n"
    );
    server.close();
}

fn extreme_limits_are_accepted<A: Adapter>() {
    let mut config = Config::loopback(registry_with("extreme", 0));
    config.limits = config.limits.with_max_connections(usize::MAX);
    config.limits = config.limits.with_max_header_bytes(usize::MAX);
    let mut server = start::<A>(config);
    assert_eq!(get(&metrics_url(&*server), &[]).status, 200);
    server.close();
}

fn port_in_use_is_an_error_naming_the_address<A: Adapter>() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("addr");
    let mut config = Config::loopback(registry_with("busy", 0));
    config.port = address.port();
    let failure = A::start(config.clone())
        .err()
        .expect("binding a busy port fails");
    assert_eq!(failure.bind_address, Some(address));
    assert!(
        failure.message.contains(&address.to_string()),
        "{}",
        failure.message
    );

    let started = Instant::now();
    let failure = A::start_in_thread(config)
        .err()
        .expect("threaded mode fails too");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no hang (Python's threaded mode blocks forever)"
    );
    assert_eq!(failure.bind_address, Some(address));
    assert!(
        failure.message.contains(&address.to_string()),
        "{}",
        failure.message
    );
}

// --- Close semantics --------------------------------------------------------------

fn close_releases_the_port_and_twice_is_harmless<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("closing", 0)));
    let address = server.local_addr();
    assert_eq!(get(&metrics_url(&*server), &[]).status, 200);
    server.close();
    assert!(refuses_connections(address));
    // The port is free again: a new listener (and a new server) can have it.
    drop(TcpListener::bind(address).expect("rebinding after close"));
    let mut config = Config::loopback(registry_with("reopened", 0));
    config.port = address.port();
    let mut again = start::<A>(config);
    assert!(
        get(&metrics_url(&*again), &[])
            .text()
            .contains("reopened_total 0\n")
    );
    again.close();
    server.close();
}

fn dropping_the_handle_stops_the_server<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("dropped", 0)));
    let address = server.local_addr();
    server.drop_handle();
    assert!(eventually(Duration::from_secs(5), || refuses_connections(
        address
    )));
}

/// `serve_until(signal)`, in both modes: serves (and keeps serving) until the signal
/// completes, then closes, so the port is released when it returns.
fn serve_until_serves_until_its_signal<A: Adapter>() {
    let config = || Config::loopback(registry_with("served_until", 3));
    for serving in [A::serve_until(config()), A::serve_until_in_thread(config())] {
        let address = serving.local_addr;
        let url = format!("http://{address}/metrics");
        for _ in 0..3 {
            assert!(get(&url, &[]).text().contains("served_until_total 3\n"));
            assert!(
                serving.is_serving(),
                "{}: stopped before its signal",
                A::NAME
            );
        }
        serving.signal().expect("nothing to deregister");
        assert!(refuses_connections(address), "{}: still listening", A::NAME);
        drop(TcpListener::bind(address).expect("the port is released"));
    }
}

fn close_finishes_with_idle_and_stalled_connections<A: Adapter>() {
    let mut config = Config::loopback(registry_with("draining", 0));
    config.limits = short_limits();
    config.limits = config
        .limits
        .with_header_read_timeout(Duration::from_secs(30));
    let mut server = start::<A>(config);
    let address = server.local_addr();
    // A client stalled in the middle of its headers (its header timeout is 30 s).
    let mut stalled = connect(address);
    stalled
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: te")
        .expect("write");
    // An idle kept-alive connection, after one full exchange. The server accepts in
    // connection order, so once this one is answered the stalled one is being served.
    let mut idle = connect(address);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .expect("write");
    let mut first = [0; 512];
    let n = std::io::Read::read(&mut idle, &mut first).expect("a response");
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));

    let started = Instant::now();
    server.close();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "close took {took:?} (grace is 1 s)"
    );
    assert!(
        read_to_close(&mut idle).is_empty(),
        "the idle connection is closed"
    );
    let _ = read_to_close(&mut stalled);
    assert!(refuses_connections(address));
}

/// `close` lets a scrape whose encoding is in progress finish: the encoding is held
/// until the server has stopped accepting, then released; the scrape gets its answer
/// and `close` returns.
fn close_lets_an_in_flight_scrape_finish<A: Adapter>() {
    let (entered, encoding) = std::sync::mpsc::channel();
    let (release, gate) = std::sync::mpsc::channel();
    let (registry, _) = registry_with_probe(Behaviour::HoldFirst {
        entered: std::sync::Mutex::new(entered),
        gate: std::sync::Mutex::new(gate),
    });
    let mut config = Config::loopback(registry);
    config.limits = config.limits.with_shutdown_grace(Duration::from_secs(5));
    let mut server = start::<A>(config);
    let address = server.local_addr();
    let url = metrics_url(&*server);
    let scrape = thread::spawn(move || get(&url, &[]));
    encoding.recv().expect("the scrape reaches the collector");
    let started = Instant::now();
    let closer = thread::spawn(move || {
        server.close();
        server
    });
    assert!(
        eventually(Duration::from_secs(5), || refuses_connections(address)),
        "closing stops accepting while the scrape is in flight"
    );
    release.send(()).expect("the encoding waits");
    let reply = scrape.join().expect("scrape thread");
    let server = closer.join().expect("close thread");
    let took = started.elapsed();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), PROBE_TEXT);
    assert!(
        took < Duration::from_secs(4),
        "close waited {took:?} for an in-flight scrape"
    );
    assert!(refuses_connections(server.local_addr()));
}

// --- Threaded mode ------------------------------------------------------------------

fn threaded_mode_ipv6_and_close<A: Adapter>() {
    let mut config = Config::loopback(registry_with("threaded", 4));
    config.address = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let mut server = A::start_in_thread(config).unwrap_or_else(|error| panic!("{error}"));
    let port = server.local_addr().port();
    assert_eq!(server.url(), format!("http://[::1]:{port}/"));
    assert!(
        get(&metrics_url(&*server), &[("accept", PROMETHEUS_2)])
            .text()
            .contains("threaded_total 4.0\n")
    );
    server.close();
    server.close();
    assert!(refuses_connections(server.local_addr()));
}

// --- Embedding ---------------------------------------------------------------------

fn embedded_service<A: Adapter>() {
    let mut app = A::embed(registry_with("embedded", 5));
    let reply = get(
        &metrics_url(&*app),
        &[("accept", PROMETHEUS_2), ("accept-encoding", "gzip")],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(OPEN_METRICS));
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    assert_eq!(
        get(&app.url(), &[]).text(),
        "hello",
        "the app's own routes are untouched"
    );
    app.close();
}

// --- Keep-alive, concurrency, hostile clients ---------------------------------------

fn keep_alive_serves_several_requests_on_one_connection<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("kept", 0)));
    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\nGET /metrics HTTP/1.1\r\nHost: test\r\n\r\nGET /nope HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .expect("write");
    let received = String::from_utf8(read_to_close(&mut stream)).expect("utf-8");
    let statuses: Vec<&str> = received.matches("HTTP/1.1 ").map(|_| "").collect();
    assert_eq!(statuses.len(), 3, "{received}");
    assert!(received.starts_with("HTTP/1.1 200"));
    assert!(received.contains("kept_total 0\n"));
    assert!(received.contains("HTTP/1.1 404"));
    server.close();
}

fn many_concurrent_scrapes<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("busy_scrapes", 9)));
    let url = metrics_url(&*server);
    let scrapers: Vec<_> = (0..12)
        .map(|_| {
            let url = url.clone();
            thread::spawn(move || {
                (0..5).all(|_| get(&url, &[("accept", PROMETHEUS_2)]).status == 200)
            })
        })
        .collect();
    for scraper in scrapers {
        assert!(scraper.join().expect("scraper thread"));
    }
    server.close();
}

fn slowloris_is_dropped_while_others_are_served<A: Adapter>() {
    let mut config = Config::loopback(registry_with("slow", 0));
    config.limits = short_limits();
    let mut server = start::<A>(config);
    let address = server.local_addr();
    let mut slow = connect(address);
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        .expect("write");
    let started = Instant::now();
    assert_eq!(
        get(&metrics_url(&*server), &[]).status,
        200,
        "others are served meanwhile"
    );
    let _ = read_to_close(&mut slow);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "the stalled client was dropped after {took:?}"
    );
    server.close();
}

/// A client that shuts its write side once its request is sent (`printf … | nc`,
/// some HTTP/1.0 clients) is answered, with `Connection: close` and kept alive, in
/// both modes; an idle connection whose client half-closes ends at once rather than
/// holding its slot until the header deadline.
fn half_closed_requests_are_answered<A: Adapter>() {
    in_both_modes::<A>(
        || {
            let mut config = Config::loopback(registry_with("half_closed", 3));
            config.limits = short_limits();
            config
        },
        |server| {
            let address = server.local_addr();
            for request in [
                "GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
                "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n",
                "GET /metrics HTTP/1.0\r\n\r\n",
            ] {
                for _ in 0..10 {
                    let mut stream = connect(address);
                    stream.write_all(request.as_bytes()).expect("write");
                    stream
                        .shutdown(std::net::Shutdown::Write)
                        .expect("half-close");
                    let reply = parse(&read_to_close(&mut stream));
                    assert_eq!(reply.status, 200, "{request:?}");
                    assert!(reply.text().contains("half_closed_total 3"), "{request:?}");
                }
            }
            let mut idle = connect(address);
            idle.shutdown(std::net::Shutdown::Write)
                .expect("half-close");
            let started = Instant::now();
            assert!(read_to_close(&mut idle).is_empty());
            assert!(
                started.elapsed() < Duration::from_millis(900),
                "an idle half-closed connection lasted {:?} (header timeout 1 s)",
                started.elapsed()
            );
        },
    );
}

fn idle_keep_alive_connections_time_out<A: Adapter>() {
    let mut config = Config::loopback(registry_with("idle", 0));
    config.limits = short_limits();
    let mut server = start::<A>(config);
    let mut idle = connect(server.local_addr());
    idle.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .expect("write");
    let started = Instant::now();
    let received = read_to_close(&mut idle);
    let took = started.elapsed();
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&received)
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "an idle kept-alive connection was closed after {took:?} (header timeout 1 s)"
    );
    server.close();
}

fn connection_flood_is_bounded<A: Adapter>() {
    let mut config = Config::loopback(registry_with("flooded", 0));
    config.limits = short_limits();
    config.limits = config.limits.with_max_connections(4);
    let mut server = start::<A>(config);
    let address = server.local_addr();
    let flood: Vec<TcpStream> = (0..16).map(|_| connect(address)).collect();
    let started = Instant::now();
    let reply = get(&metrics_url(&*server), &[]);
    assert_eq!(reply.status, 200);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "a scrape behind a flood took {took:?}"
    );
    drop(flood);
    server.close();
}

fn oversize_headers_get_431_or_close<A: Adapter>() {
    let mut config = Config::loopback(registry_with("big", 0));
    config.limits = config.limits.with_max_header_bytes(16 * 1024);
    let mut server = start::<A>(config);
    let huge = "x".repeat(64 * 1024);
    let request = format!("GET /metrics HTTP/1.1\r\nHost: test\r\nX-Huge: {huge}\r\n\r\n");
    let received = raw(server.local_addr(), request.as_bytes());
    assert!(
        received.is_empty() || received.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(
        get(&metrics_url(&*server), &[]).status,
        200,
        "the server still serves"
    );
    server.close();
}

fn malformed_requests_get_400_or_close<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("malformed", 0)));
    for request in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /metrics HTTP/9.9\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
    ] {
        let received = raw(server.local_addr(), request);
        assert!(
            received.is_empty()
                || received.starts_with(b"HTTP/1.1 400")
                || received.starts_with(b"HTTP/1.1 505"),
            "{:?} -> {}",
            String::from_utf8_lossy(request),
            String::from_utf8_lossy(&received)
        );
    }
    assert_eq!(get(&metrics_url(&*server), &[]).status, 200);
    server.close();
}

fn request_bodies_are_ignored<A: Adapter>() {
    let mut server = start::<A>(Config::loopback(registry_with("bodied", 0)));
    let request = b"GET /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    let reply = parse(&raw(server.local_addr(), request));
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains("bodied_total 0\n"));
    server.close();
}

// --- Slow clients, failing collectors, coalescing (in both modes) --------------------

/// A scrape of `address` on a fresh connection, with how long the answer took.
fn timed_scrape(address: SocketAddr) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = raw_get(address, "/metrics", "");
    (reply, started.elapsed())
}

/// Ten times `max_connections` connections that never finish their request head (the
/// issue's flood, scaled down) do not keep a scrape on a fresh connection from being
/// answered within a second, although their header timeout is far longer; the
/// connections evicted to make room are closed by the server.
fn slow_clients_cannot_starve_a_scrape<A: Adapter>() {
    const SLOTS: usize = 8;
    let config = || {
        let mut config = Config::loopback(registry_with("starved", 3));
        config.limits = config.limits.with_max_connections(SLOTS);
        config.limits = config
            .limits
            .with_header_read_timeout(Duration::from_secs(10));
        config
    };
    in_both_modes::<A>(config, |server| {
        let address = server.local_addr();
        let mut flood: Vec<TcpStream> = (0..10 * SLOTS)
            .map(|_| {
                let mut stream = connect(address);
                stream
                    .write_all(b"GET /metrics HTTP/1.1\r\nHost: te")
                    .expect("write half a head");
                stream
            })
            .collect();
        let (reply, took) = timed_scrape(address);
        assert_eq!(reply.status, 200);
        assert!(
            reply.text().contains("starved_total 3\n"),
            "{}",
            reply.text()
        );
        assert!(
            took < Duration::from_secs(1),
            "{}: a scrape behind {} unfinished heads took {took:?}",
            A::NAME,
            flood.len()
        );
        // The oldest unfinished connections made room: the server closed them.
        for stream in &mut flood[..SLOTS] {
            assert!(read_to_close(stream).is_empty());
        }
    });
}

/// A collector that fails, panics, or counts its calls (holding the first one until
/// released), for the error and coalescing tests.
struct Probe {
    behaviour: Behaviour,
    calls: std::sync::atomic::AtomicUsize,
}

enum Behaviour {
    Fail,
    Panic,
    /// The first call says so on `entered`, then waits for a message (or the
    /// sender's drop) on `gate`.
    HoldFirst {
        entered: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
        gate: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    },
}

impl torchlight::Collect for Probe {
    fn metric_type(&self) -> torchlight::MetricType {
        torchlight::MetricType::Gauge
    }

    fn encode(&self, encoder: &mut torchlight::Encoder<'_>) -> std::fmt::Result {
        // Relaxed: a call count read after the scrapes' answers, which the HTTP
        // exchange orders.
        let call = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match &self.behaviour {
            Behaviour::Fail => Err(std::fmt::Error),
            Behaviour::Panic => panic!("a collector that panics"),
            Behaviour::HoldFirst { entered, gate } => {
                if call == 0 {
                    let entered = entered.lock().unwrap_or_else(PoisonError::into_inner);
                    let _ = entered.send(());
                    let gate = gate.lock().unwrap_or_else(PoisonError::into_inner);
                    let _ = gate.recv();
                }
                encoder.gauge(&(), 1.0)
            }
        }
    }
}

/// What a registry holding only a [`Probe`] exposes as text.
const PROBE_TEXT: &str = "# HELP probe A test collector.\n# TYPE probe gauge\nprobe 1\n";

fn registry_with_probe(behaviour: Behaviour) -> (&'static Registry, &'static Probe) {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let metric: &'static Metric<Probe> = Box::leak(Box::new(Metric::new(
        "probe",
        "A test collector.",
        Probe {
            behaviour,
            calls: std::sync::atomic::AtomicUsize::new(0),
        },
    )));
    registry.register(metric).expect("a valid collector");
    (registry, metric.inner())
}

/// A collector that returns an error gives 500 with the short body, on every adapter.
fn failing_collector_gives_500<A: Adapter>() {
    let (registry, _) = registry_with_probe(Behaviour::Fail);
    in_both_modes::<A>(
        || Config::loopback(registry),
        |server| {
            let reply = raw_get(server.local_addr(), "/metrics", "");
            assert_eq!(reply.status, 500);
            assert_eq!(reply.text(), "500: Internal Server Error");
        },
    );
}

/// A collector that panics gives the same 500, and neither kills the server nor leaks
/// the connection's slot: with one slot, scrape after scrape is answered.
fn panicking_collector_neither_kills_nor_leaks<A: Adapter>() {
    let (registry, probe) = registry_with_probe(Behaviour::Panic);
    let config = || {
        let mut config = Config::loopback(registry);
        config.limits = config.limits.with_max_connections(1);
        config
    };
    in_both_modes::<A>(config, |server| {
        for _ in 0..3 {
            let reply = raw_get(server.local_addr(), "/metrics", "");
            assert_eq!(reply.status, 500);
            assert_eq!(reply.text(), "500: Internal Server Error");
        }
        assert_eq!(raw_get(server.local_addr(), "/", "").status, 200);
    });
    assert_eq!(
        probe.calls.load(std::sync::atomic::Ordering::Relaxed),
        6,
        "every scrape reached the collector"
    );
}

/// Scrapes that arrive while an encoding of their format is in flight share it: the
/// first encoding is held until every request has been sent, and the collector then
/// runs fewer times than there were scrapes (once, unless the server had not read
/// some requests yet), while every scrape gets the full exposition.
fn concurrent_scrapes_share_one_encoding<A: Adapter>() {
    const SCRAPES: usize = 16;
    let (release, gate) = std::sync::mpsc::channel();
    let (entered, _) = std::sync::mpsc::channel();
    let (registry, probe) = registry_with_probe(Behaviour::HoldFirst {
        entered: std::sync::Mutex::new(entered),
        gate: std::sync::Mutex::new(gate),
    });
    let mut server = start::<A>(Config::loopback(registry));
    let address = server.local_addr();
    let mut scrapes: Vec<TcpStream> = (0..SCRAPES)
        .map(|_| {
            let mut stream = connect(address);
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                .expect("write");
            stream
        })
        .collect();
    release.send(()).expect("the first encoding waits");
    for stream in &mut scrapes {
        let reply = parse(&read_to_close(stream));
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.text(),
            "# HELP probe A test collector.\n# TYPE probe gauge\nprobe 1\n"
        );
    }
    let calls = probe.calls.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        (1..SCRAPES).contains(&calls),
        "{}: {SCRAPES} concurrent scrapes encoded {calls} times",
        A::NAME
    );
    server.close();
}

// --- tokio only: the axum handler ---------------------------------------------------

#[test]
fn axum_handler_serves_where_mounted() {
    let mut app = embed_axum(registry_with("axum_served", 7));
    let url = format!("{}stats", app.url());
    let reply = get(
        &url,
        &[("accept", PROMETHEUS_2), ("accept-encoding", "gzip")],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(OPEN_METRICS));
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    let text = get(&url, &[]);
    assert_eq!(text.header("content-type"), Some(TEXT));
    assert!(text.text().contains("axum_served_total 7\n"));
    let head = client::request("HEAD", &url, &[]);
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(get(&app.url(), &[]).text(), "hello");
    app.close();
}

torchlight_tests::per_adapter_suite!(
    python_17_text_without_accept,
    half_closed_requests_are_answered,
    python_18_open_metrics,
    python_19_cheap_page,
    python_20_start_http_server,
    python_21_start_in_thread,
    python_22_url,
    routes_and_methods,
    negotiation_matrix,
    gzip_round_trip,
    head_has_headers_and_no_body,
    ipv6_loopback,
    explicit_port_and_advertised_address,
    extreme_limits_are_accepted,
    shared_registry_is_served,
    port_in_use_is_an_error_naming_the_address,
    close_releases_the_port_and_twice_is_harmless,
    dropping_the_handle_stops_the_server,
    serve_until_serves_until_its_signal,
    close_finishes_with_idle_and_stalled_connections,
    close_lets_an_in_flight_scrape_finish,
    threaded_mode_ipv6_and_close,
    embedded_service,
    keep_alive_serves_several_requests_on_one_connection,
    many_concurrent_scrapes,
    slowloris_is_dropped_while_others_are_served,
    idle_keep_alive_connections_time_out,
    connection_flood_is_bounded,
    oversize_headers_get_431_or_close,
    malformed_requests_get_400_or_close,
    request_bodies_are_ignored,
    slow_clients_cannot_starve_a_scrape,
    failing_collector_gives_500,
    panicking_collector_neither_kills_nor_leaks,
    concurrent_scrapes_share_one_encoding,
);
