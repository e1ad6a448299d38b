//! HTTP request metrics end to end: the tokio adapter's `service` example (an axum app
//! behind `torchlight-tower`'s `MetricsLayer`, its metrics server beside it) runs as
//! its own process on ephemeral ports, serves a few seconds of load on every route,
//! and a real Prometheus scraping it every second answers the README's p99 query,
//!
//! ```text
//! histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket[10s])))
//! ```
//!
//! with, per route, a value in the bucket the route's latency puts it in: `/slow`
//! (which sleeps 50 ms) in (0.05, 0.075], every other route (`/`, `/users/{id}`,
//! `/users`, `/fail`, and the unmatched requests, which carry no `http_route`) at or
//! below 0.025. The fast routes take microseconds, so their p99 belongs in the first
//! bucket (≤ 0.005); the check leaves them the next two buckets because on a loaded
//! machine more than 1 % of microsecond requests can be descheduled for a few
//! milliseconds, and what it proves is that the quantile tells the routes apart.
//!
//! The load runs on two threads until the query holds for every route (or
//! [`STORED`] passes): one calls `/slow` in a loop, the other the fast routes and a
//! path no route matches, round robin. Prometheus (declared last, so dropped first) is
//! stopped by its PID and the example by its, also when an assertion fails.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use torchlight_tests::examples;
use torchlight_tests::prometheus::{Job, Prometheus};

/// How long Prometheus may take to scrape the example (first scrape ≈ 5 s).
const SCRAPED: Duration = Duration::from_secs(30);
/// How long the quantiles may take to show once the load runs: two scrapes with the
/// load's requests between them, at one a second, and room for a loaded machine.
const STORED: Duration = Duration::from_secs(20);
/// How long the example may take to print its addresses.
const STARTED: Duration = Duration::from_secs(30);

/// The README's query (`[10s]`: ten one-second scrapes, so `rate` has samples).
const P99: &str = "histogram_quantile(0.99, sum by (le, http_route) \
                   (rate(http_server_request_duration_seconds_bucket[10s])))";

/// `(method, path, route)`: the fast requests, with the `http_route` each is stored
/// under (empty: no route matched, no label).
const FAST: [(&str, &str, &str); 5] = [
    ("GET", "/", "/"),
    ("GET", "/users/7", "/users/{id}"),
    ("POST", "/users", "/users"),
    ("GET", "/fail", "/fail"),
    ("GET", "/no/such/page", ""),
];

/// The example's process; killed by its PID on drop.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the `service` example on ephemeral ports; returns it with its app's and its
/// metrics server's addresses, read from what it prints.
fn start_service() -> (Service, SocketAddr, SocketAddr) {
    let (_guard, programs) = examples::build("torchlight-tokio");
    let program = programs
        .get("service")
        .expect("torchlight-tokio has a `service` example");
    let mut child = Command::new(program)
        .args(["--app-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
    let stdout = child.stdout.take().expect("a piped stdout");
    let service = Service(child);
    // `app:     http://127.0.0.1:PORT/` and `metrics: http://127.0.0.1:PORT/metrics`,
    // read on a thread so a silent example cannot hang the test past `STARTED`.
    let (sender, receiver) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut found = BTreeMap::new();
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((name, url)) = line.split_once(':') {
                let address = url
                    .trim()
                    .strip_prefix("http://")
                    .and_then(|rest| rest.split('/').next())
                    .and_then(|address| address.parse::<SocketAddr>().ok());
                if let Some(address) = address {
                    found.insert(name.to_owned(), address);
                }
            }
            // Sent once; the rest of the output is read and dropped, so the example
            // never writes to a closed pipe.
            if found.len() == 2 && !sent {
                let _ = sender.send(found.clone());
                sent = true;
            }
        }
    });
    let found = receiver
        .recv_timeout(STARTED)
        .unwrap_or_else(|_| panic!("the service example printed no addresses in {STARTED:?}"));
    (service, found["app"], found["metrics"])
}

/// Sends requests to `app` on two threads until `stop` is set: `/slow` on one, the
/// [`FAST`] requests round robin on the other.
fn load(app: SocketAddr, stop: &Arc<AtomicBool>) -> Vec<thread::JoinHandle<u64>> {
    let worker = |requests: Vec<(&'static str, &'static str)>| {
        let stop = Arc::clone(stop);
        thread::spawn(move || {
            // A new connection per request: a kept-alive one that the server closes
            // between two requests (an idle close racing the next request) would fail
            // the load for a reason the test is not about.
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .proxy(None)
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(10)))
                .max_idle_connections(0)
                .build()
                .into();
            let mut sent = 0;
            // Relaxed: a flag polled in a loop; it guards no data.
            while !stop.load(Ordering::Relaxed) {
                for (method, path) in &requests {
                    let request = ureq::http::Request::builder()
                        .method(*method)
                        .uri(format!("http://{app}{path}"))
                        .body(())
                        .expect("a valid request");
                    let mut response = agent
                        .run(request)
                        .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
                    let _ = response.body_mut().read_to_vec();
                    sent += 1;
                }
            }
            sent
        })
    };
    vec![
        worker(vec![("GET", "/slow")]),
        worker(
            FAST.iter()
                .map(|&(method, path, _)| (method, path))
                .collect(),
        ),
    ]
}

/// The query's answer: p99 by route (`""` for the unmatched requests); routes whose
/// value is not a number yet (no increase in the window) are left out.
fn p99_by_route(prometheus: &Prometheus) -> BTreeMap<String, f64> {
    prometheus
        .query(P99)
        .iter()
        .filter_map(|series| {
            let route = series["metric"]["http_route"].as_str().unwrap_or_default();
            let value = series["value"][1].as_str()?.parse::<f64>().ok()?;
            value.is_finite().then(|| (route.to_owned(), value))
        })
        .collect()
}

/// Whether every route's p99 is in its bucket (see the module docs).
fn in_their_buckets(p99: &BTreeMap<String, f64>) -> bool {
    let slow = p99.get("/slow").is_some_and(|&p| 0.05 < p && p <= 0.075);
    let fast = FAST
        .iter()
        .all(|(_, _, route)| p99.get(*route).is_some_and(|&p| p <= 0.025));
    slow && fast
}

#[test]
fn prometheus_finds_each_routes_p99_in_its_bucket() {
    let (service, app, metrics) = start_service();
    // Declared after the service: dropped (killed by PID) before it.
    let prometheus = Prometheus::start(&[Job::static_targets("service", [metrics])], &[]);
    prometheus.wait_up("service", 1, SCRAPED);
    let stop = Arc::new(AtomicBool::new(false));
    let workers = load(app, &stop);
    let started = Instant::now();
    let mut last = BTreeMap::new();
    let held = prometheus.poll(STORED, || {
        last = p99_by_route(&prometheus);
        in_their_buckets(&last).then_some(())
    });
    // Relaxed: see `load`.
    stop.store(true, Ordering::Relaxed);
    let sent: u64 = workers
        .into_iter()
        .map(|worker| worker.join().expect("a load thread"))
        .sum();
    assert!(
        held.is_some(),
        "after {:?} of load ({sent} requests), p99 by route was {last:?}: `/slow` belongs \
         in (0.05, 0.075], the others at or below 0.025\nPrometheus' log:\n{}",
        started.elapsed(),
        prometheus.log()
    );
    // Shown with `--nocapture`: what the quantiles came to.
    println!(
        "after {:?} of load ({sent} requests): p99 by route {last:?}",
        started.elapsed()
    );
    drop(prometheus);
    drop(service);
}
