//! End to end against a real Prometheus (Debian's `prometheus`, found through
//! `TORCHLIGHT_PROMETHEUS` or `PATH`; `cargo xtask ci` installs it).
//!
//! Each test starts, for every adapter (tokio, smol, async-std), an instrumented
//! workload on that adapter's runtime and its server on `127.0.0.1:0`, puts a recording
//! [`Proxy`] in front of each server, and starts ONE Prometheus scraping the three
//! proxies every second (its first scrape comes about 5 s after it starts, so one
//! server for all three keeps the suite short). It then checks:
//!
//! - through the query API, that what Prometheus stored equals what the workload
//!   recorded, series for series: counters, gauges (negative, subnormal, `±Inf`, NaN),
//!   every bucket of a histogram with every bucket populated, `_sum`, `_count`, a
//!   summary, an info, a state set, and label families whose values hold quotes,
//!   backslashes, newlines, `# EOF` and non-ASCII (compared unescaped); no series is
//!   missing and none is extra;
//! - through `/api/v1/metadata`, the types, units and (hostile) help text;
//! - that each adapter's process metrics (`torchlight::process::register`, beside the
//!   workload) are stored, one series per family, with client_golang's types and help;
//! - on the wire (the proxy's record), that Prometheus offered what it should and the
//!   server answered OpenMetrics (protobuf in the second test), gzip-compressed;
//! - that a value changed after the first scrapes reaches Prometheus (the in-progress
//!   gauge drops to 0 when the tracked tasks end);
//! - and, while Prometheus starts, that each server's own text 0.0.4 exposition passes
//!   `promtool check metrics` and its OpenMetrics exposition passes `prometheus_client`'s
//!   strict parser, both with exactly the recorded values.
//!
//! The second test repeats all of it with `--enable-feature=native-histograms`, where
//! Prometheus asks for protobuf first and the server answers protobuf: every value
//! arrives the same (metadata as protobuf carries it: infos and state sets are gauges,
//! counters are named with `_total`, no units), and the workload's native histogram
//! is stored as one: `histogram_count`, `histogram_sum` and `histogram_quantile` over
//! it equal what was recorded (the quantile within the schema's resolution). In the
//! first test that histogram arrives in its classic form (`+Inf`, `_sum`, `_count`).
//!
//! Why a proxy rather than a counter in the adapters: the adapters would need a public
//! hook or self-metric only tests use, and a server reporting on itself would prove
//! less than the bytes on the wire. The proxy needs no library change.
//!
//! Every process and thread these tests start is stopped on drop, also on failure:
//! Prometheus (declared last, so dropped first) by its PID, the proxies by closing
//! their connections and joining their threads, the servers by their handles.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use torchlight::process::Reading;
use torchlight::{
    Buckets, Counter, Family, FloatCounter, FloatGauge, Gauge, Histogram, Info, Instrument,
    Labelled, ManualClock, Metric, NativeHistogram, Registry, Snapshot, StateSet, Summary,
    label_set, label_value,
};
use torchlight_tests::adapter::{Adapter, AsyncStd, Config, Server, Smol, Tokio};
use torchlight_tests::client::get;
use torchlight_tests::prometheus::{Job, Prometheus};
use torchlight_tests::proxy::Proxy;
use torchlight_tests::{openmetrics_parse, promtool_check, text_parse};

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// The native histogram's bucket factor: schema 3, buckets 2^(1/8) ≈ 1.09 times as wide
/// as the one before.
const NATIVE_FACTOR: f64 = 1.1;
/// What the workload observes into the native histogram (times `k`), seconds.
const NATIVE_VALUES: [f64; 12] = [
    0.0, 0.0003, 0.001, 0.002, 0.005, 0.0125, 0.03, 0.1, 0.25, 0.6, 1.5, 4.0,
];

/// How long Prometheus may take to scrape every target (first scrape ≈ 5 s).
const SCRAPED: Duration = Duration::from_secs(30);

/// How long a value may take to show in Prometheus once a target is up.
const STORED: Duration = Duration::from_secs(15);

// ------------------------------------------------------------------- the runtimes

/// An adapter's runtime, for the workload: the same executor the adapter serves on.
trait Runtime: Send + 'static {
    /// The adapter serving this runtime's workload.
    type Adapter: Adapter;
    /// The Prometheus job name of its target.
    const JOB: &'static str;

    fn new() -> Self;
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    /// Spawns a detached task.
    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static);
}

struct TokioRuntime(tokio::runtime::Runtime);

impl Runtime for TokioRuntime {
    type Adapter = Tokio;
    const JOB: &'static str = "tokio";

    fn new() -> Self {
        Self(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a tokio runtime"),
        )
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        drop(self.0.spawn(future));
    }
}

struct SmolRuntime;

impl Runtime for SmolRuntime {
    type Adapter = Smol;
    const JOB: &'static str = "smol";

    fn new() -> Self {
        Self
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }
    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        smol::spawn(future).detach();
    }
}

struct AsyncStdRuntime;

impl Runtime for AsyncStdRuntime {
    type Adapter = AsyncStd;
    const JOB: &'static str = "async-std";

    fn new() -> Self {
        Self
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        async_std::task::block_on(future)
    }
    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        drop(async_std::task::spawn(future));
    }
}

// -------------------------------------------------------------------- the workload

/// Bounds of the histogram whose every bucket the workload fills.
static LATENCY_BUCKETS: Buckets<9> =
    Buckets::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]);

/// One duration (ms) inside each bucket of [`LATENCY_BUCKETS`] and one above them
/// (the `+Inf` bucket); 50 and 100 sit exactly on a bound (`le` is inclusive).
/// Duration `i` is observed `(i + 1) × k` times, so a sample in the wrong bucket shows.
const LATENCIES_MS: [u64; 10] = [1, 7, 20, 50, 100, 200, 300, 750, 2000, 5000];

/// Label values a careless encoder or parser gets wrong.
const HOSTILE: [&str; 10] = [
    "quote \" inside",
    "back\\slash",
    "trailing backslash \\",
    "new\nline",
    "not a newline: \\n",
    "tab\there",
    "ünïcødé ✓ 日本語 🚀",
    "{braces},=\"commas\"",
    "line\n# EOF\n",
    // Prometheus stores an empty value as no label at all.
    "",
];

/// Help text with every character HELP escaping handles.
const HOSTILE_HELP: &str = "Requests \"handled\" \\ with\nnewline ✓.";

label_value! {
    /// Why a call failed.
    enum Kind { Timeout = "timeout", Refused = "refused \"quoted\" \\ ✓" }
}

label_set! {
    struct KindLabels { kind: Kind }
}

label_value! {
    /// A job's state, for the state set.
    enum JobState { Queued = "queued", Running = "running", Done = "done" }
}

/// What a call returns; `Err` is counted by the wrappers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    Timeout,
    Refused,
}

/// The metrics of one target, registered in its own registry, and the tasks it keeps
/// in flight.
struct Workload {
    registry: &'static Registry,
    requests: Arc<Metric<Counter>>,
    received: Arc<Metric<FloatCounter>>,
    queue: Arc<Metric<Gauge>>,
    temperature: Arc<Metric<FloatGauge>>,
    extreme: Arc<Metric<Family<FloatGauge, 1>>>,
    in_flight: Arc<Metric<Gauge>>,
    latency: Arc<Metric<Histogram<9>>>,
    handler: Arc<Metric<Histogram>>,
    failures: Arc<Metric<Counter>>,
    errors: Arc<Metric<Labelled<KindLabels, Counter, 2>>>,
    paths: Arc<Metric<Family<Counter, 2>>>,
    rpc: Arc<Metric<Summary>>,
    job: Arc<Metric<StateSet<JobState>>>,
    native: Arc<Metric<NativeHistogram>>,
    /// Dropping it ends the tasks tracked by `in_flight`.
    release: Option<smol::channel::Sender<()>>,
    /// How many tasks are kept in flight.
    held: i64,
}

/// The extreme values of the `e2e_extreme` gauge family, by its `case` label.
const EXTREMES: [(&str, f64); 6] = [
    ("max", f64::MAX),
    ("min_subnormal", 5e-324),
    ("tiny", 1.5e-7),
    ("inf", f64::INFINITY),
    ("neg_inf", f64::NEG_INFINITY),
    ("nan", f64::NAN),
];

fn register<M>(registry: &Registry, metric: Metric<M>) -> Arc<Metric<M>>
where
    M: torchlight::Collect + Send + Sync + 'static,
{
    let metric = Arc::new(metric);
    registry
        .register_owned(Arc::clone(&metric))
        .unwrap_or_else(|error| panic!("register {}: {error}", metric.metadata().name()));
    metric
}

impl Workload {
    /// Registers every metric and runs the workload on `runtime`; `k` (1, 2, 3) scales
    /// the values so the three targets differ.
    fn run<R: Runtime>(runtime: &R, k: u32) -> Self {
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        let workload = Self {
            registry,
            requests: register(
                registry,
                Metric::new("e2e_requests", HOSTILE_HELP, Counter::new()),
            ),
            received: register(
                registry,
                Metric::new("e2e_received_bytes", "Bytes received.", FloatCounter::new())
                    .with_unit("bytes"),
            ),
            queue: register(
                registry,
                Metric::new("e2e_queue_depth", "Items waiting.", Gauge::new()),
            ),
            temperature: register(
                registry,
                Metric::new("e2e_temperature_celsius", "Temperature.", FloatGauge::new())
                    .with_unit("celsius"),
            ),
            extreme: register(
                registry,
                Metric::new(
                    "e2e_extreme",
                    "Floats at the edges.",
                    Family::new(["case"], FloatGauge::new),
                ),
            ),
            in_flight: register(
                registry,
                Metric::new("e2e_in_flight", "Tasks running.", Gauge::new()),
            ),
            latency: register(
                registry,
                Metric::new(
                    "e2e_latency_seconds",
                    "Time per call (manual clock).",
                    Histogram::with_buckets(&LATENCY_BUCKETS),
                )
                .with_unit("seconds"),
            ),
            handler: register(
                registry,
                Metric::new(
                    "e2e_handler_seconds",
                    "Time per call (system clock).",
                    Histogram::new(),
                )
                .with_unit("seconds"),
            ),
            failures: register(
                registry,
                Metric::new("e2e_failures", "Failed calls.", Counter::new()),
            ),
            errors: register(
                registry,
                Metric::new(
                    "e2e_errors",
                    "Failed calls by kind.",
                    Labelled::new([Counter::new(), Counter::new()]),
                ),
            ),
            paths: register(
                registry,
                Metric::new(
                    "e2e_http_requests",
                    "Requests by path.",
                    Family::new(["method", "path"], Counter::new),
                ),
            ),
            rpc: register(
                registry,
                Metric::new("e2e_rpc_seconds", "RPC time.", Summary::new()).with_unit("seconds"),
            ),
            job: register(
                registry,
                Metric::new("e2e_job_state", "Job state.", StateSet::new()),
            ),
            native: register(
                registry,
                Metric::new(
                    "e2e_native_seconds",
                    "Native histogram.",
                    NativeHistogram::new(NATIVE_FACTOR),
                )
                .with_unit("seconds"),
            ),
            release: None,
            held: 2 + i64::from(k),
        };
        let _build = register(
            registry,
            Metric::new(
                "e2e_build",
                "Build facts.",
                Info::new([("version", "1.2.3"), ("commit", "a\"b\\c\nd ✓")]),
            ),
        );
        // The process metrics beside the workload's: Prometheus must store them too.
        torchlight::process::register(registry).expect("process metrics register");
        workload.record(runtime, k)
    }

    fn record<R: Runtime>(mut self, runtime: &R, k: u32) -> Self {
        let scale = f64::from(k);
        self.requests.inc_by(1027 * u64::from(k));
        self.requests.inc();
        self.received.inc_by(0.1);
        self.received.inc_by(0.2 * scale);
        self.queue.set(-42 * i64::from(k));
        self.temperature.set(-12.5e-3 * scale);
        for (case, value) in EXTREMES {
            self.extreme.get_or_create([case]).set(value);
        }
        for (i, path) in (1..).zip(HOSTILE) {
            self.paths
                .get_or_create(["GET", path])
                .inc_by(i * u64::from(k));
        }
        self.paths.get_or_create(["PO\"ST\n✓", "/"]).inc();
        for value in [0.25, 0.5, 2.0] {
            self.rpc.observe(value * scale);
        }
        self.job.set(JobState::Running);
        for value in NATIVE_VALUES {
            self.native.observe(value * scale);
        }

        // The future wrappers, on the adapter's runtime: every latency through
        // `time_with` on a manual clock (exact durations), calls that fail through
        // `count_errors` (all errors) and `count_errors_if` (one kind each, into a
        // compile-time labelled family), each call timed by `time` on the system clock.
        let clock = ManualClock::new();
        runtime.block_on(async {
            for (i, ms) in (1..).zip(LATENCIES_MS) {
                for _ in 0..i * k {
                    async {
                        smol::future::yield_now().await;
                        clock.advance(Duration::from_millis(ms));
                    }
                    .time_with(&*self.latency, &clock)
                    .await;
                }
            }
            let outcomes = [Ok(()), Err(Failure::Timeout), Err(Failure::Refused)];
            for (outcome, times) in outcomes.into_iter().zip([3 + k, 2 * k, k]) {
                for _ in 0..times {
                    let call = async move {
                        smol::future::yield_now().await;
                        outcome
                    };
                    let _ = call
                        .count_errors(&*self.failures)
                        .count_errors_if(
                            self.errors.get(KindLabels {
                                kind: Kind::Timeout,
                            }),
                            |error: &Failure| *error == Failure::Timeout,
                        )
                        .count_errors_if(
                            self.errors.get(KindLabels {
                                kind: Kind::Refused,
                            }),
                            |error: &Failure| *error == Failure::Refused,
                        )
                        .time(&*self.handler)
                        .await;
                }
            }
        });

        // What the workload meant to record, checked before anything is scraped.
        let latency = self.latency.snapshot();
        let mut below = 0;
        for (i, cumulative) in (1..).zip(latency.cumulative()) {
            assert_eq!(
                cumulative - below,
                i * u64::from(k),
                "bucket {i} holds its share"
            );
            below = *cumulative;
        }
        assert_eq!(
            latency.count() - below,
            10 * u64::from(k),
            "the +Inf bucket"
        );
        assert_eq!(self.failures.get(), 3 * u64::from(k));
        assert_eq!(
            self.handler.snapshot().count(),
            3 * u64::from(k) + 3 + u64::from(k)
        );

        // Tasks kept running (tracked) until `release`.
        let (release, wait) = smol::channel::bounded::<()>(1);
        for _ in 0..self.held {
            let wait = wait.clone();
            runtime.spawn(
                async move {
                    let _ = wait.recv().await;
                }
                .track_in_progress(Arc::clone(&self.in_flight)),
            );
        }
        self.release = Some(release);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.in_flight.get() != self.held {
            assert!(
                Instant::now() < deadline,
                "the tracked tasks did not start within 10 s ({} of {})",
                self.in_flight.get(),
                self.held
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        self
    }

    /// Ends the tracked tasks.
    fn release(&mut self) {
        self.release = None;
    }

    /// Every sample the workload recorded, as a text scrape should show it (and a
    /// protobuf one, but for the native histogram, which Prometheus then stores as one
    /// series of its own: see `check_native`).
    fn expected(&self, protobuf: bool) -> Samples {
        let mut samples = Samples::default();
        if !protobuf {
            let native = self.native.snapshot();
            let count = native.count() as f64;
            samples.insert("e2e_native_seconds_bucket", &[("le", "+Inf")], count);
            samples.insert("e2e_native_seconds_sum", &[], native.sum());
            samples.insert("e2e_native_seconds_count", &[], count);
        }
        samples.insert("e2e_requests_total", &[], self.requests.get() as f64);
        samples.insert("e2e_received_bytes_total", &[], self.received.get());
        samples.insert("e2e_queue_depth", &[], self.queue.get() as f64);
        samples.insert("e2e_temperature_celsius", &[], self.temperature.get());
        for (case, _) in EXTREMES {
            let value = self.extreme.get([case]).expect("created").get();
            samples.insert("e2e_extreme", &[("case", case)], value);
        }
        samples.insert("e2e_in_flight", &[], self.in_flight.get() as f64);
        samples.histogram("e2e_latency_seconds", &self.latency.snapshot());
        samples.histogram("e2e_handler_seconds", &self.handler.snapshot());
        samples.insert("e2e_failures_total", &[], self.failures.get() as f64);
        for kind in [Kind::Timeout, Kind::Refused] {
            let count = self.errors.get(KindLabels { kind }).get();
            samples.insert(
                "e2e_errors_total",
                &[("kind", torchlight::LabelValue::as_str(kind))],
                count as f64,
            );
        }
        for (method, path) in HOSTILE
            .iter()
            .map(|path| ("GET", *path))
            .chain([("PO\"ST\n✓", "/")])
        {
            let count = self.paths.get([method, path]).expect("created").get();
            samples.insert(
                "e2e_http_requests_total",
                &[("method", method), ("path", path)],
                count as f64,
            );
        }
        let rpc = self.rpc.snapshot();
        samples.insert("e2e_rpc_seconds_sum", &[], rpc.sum());
        samples.insert("e2e_rpc_seconds_count", &[], rpc.count() as f64);
        samples.insert(
            "e2e_build_info",
            &[("version", "1.2.3"), ("commit", "a\"b\\c\nd ✓")],
            1.0,
        );
        let current = self.job.get();
        for state in [JobState::Queued, JobState::Running, JobState::Done] {
            let name = torchlight::LabelValue::as_str(state);
            samples.insert(
                "e2e_job_state",
                &[("e2e_job_state", name)],
                if state == current { 1.0 } else { 0.0 },
            );
        }
        samples
    }
}

// ------------------------------------------------------------------ sample sets

/// Samples by `name{labels}`: labels sorted, empty values dropped (Prometheus stores
/// an empty label as none), `le` compared as a number (text 0.0.4 writes `le="1"`,
/// OpenMetrics `le="1.0"`).
#[derive(Debug, Default)]
struct Samples(BTreeMap<String, f64>);

impl Samples {
    fn insert(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let key = key(name, labels.iter().map(|(n, v)| (*n, *v)));
        assert!(
            self.0.insert(key.clone(), value).is_none(),
            "{key} appears twice"
        );
    }

    fn histogram<const N: usize>(&mut self, name: &str, snapshot: &Snapshot<N>) {
        let bucket = format!("{name}_bucket");
        for (bound, count) in snapshot.bounds().iter().zip(snapshot.cumulative()) {
            self.insert(&bucket, &[("le", &bound.to_string())], *count as f64);
        }
        self.insert(&bucket, &[("le", "+Inf")], snapshot.count() as f64);
        self.insert(&format!("{name}_sum"), &[], snapshot.sum());
        self.insert(&format!("{name}_count"), &[], snapshot.count() as f64);
    }

    /// The samples a reference parser read.
    fn parsed(families: &[torchlight_tests::Family]) -> Self {
        let mut samples = Self::default();
        // The workload's samples only, as `stored` queries them (the process metrics
        // vary by themselves and are checked by `check_process`).
        for sample in families
            .iter()
            .flat_map(|family| &family.samples)
            .filter(|sample| sample.name.starts_with("e2e_"))
        {
            let labels: Vec<(&str, &str)> = sample
                .labels
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            samples.insert(&sample.name, &labels, sample.value);
        }
        samples
    }

    /// The `e2e_*` float series Prometheus stored for `job`, from an instant query
    /// (native histogram series, which hold a histogram, are `check_native`'s).
    fn stored(prometheus: &Prometheus, job: &str) -> Self {
        let mut samples = Self::default();
        for series in prometheus.query(&format!("{{__name__=~\"e2e_.+\",job=\"{job}\"}}")) {
            if series.get("histogram").is_some() {
                continue;
            }
            let metric = series["metric"].as_object().cloned().unwrap_or_default();
            let name = metric
                .get("__name__")
                .and_then(|name| name.as_str())
                .unwrap_or_default();
            let labels: Vec<(&str, &str)> = metric
                .iter()
                .filter(|(label, _)| !matches!(label.as_str(), "__name__" | "job" | "instance"))
                .map(|(label, value)| (label.as_str(), value.as_str().unwrap_or_default()))
                .collect();
            let value = series["value"][1].as_str().unwrap_or_default();
            let value = value
                .parse()
                .unwrap_or_else(|_| panic!("Prometheus returned the value {value:?}"));
            samples.insert(name, &labels, value);
        }
        samples
    }

    /// `Ok` when both hold the same series with the same values (NaN equals NaN);
    /// otherwise every difference.
    fn compare(&self, actual: &Self) -> Result<(), String> {
        let mut differences = String::new();
        for (key, expected) in &self.0 {
            match actual.0.get(key) {
                None => {
                    let _ = writeln!(differences, "  missing {key} (expected {expected})");
                }
                Some(value) if !same(*value, *expected) => {
                    let _ = writeln!(differences, "  {key}: {value}, expected {expected}");
                }
                Some(_) => {}
            }
        }
        for (key, value) in &actual.0 {
            if !self.0.contains_key(key) {
                let _ = writeln!(differences, "  extra {key} = {value}");
            }
        }
        if differences.is_empty() {
            Ok(())
        } else {
            Err(differences)
        }
    }
}

fn key<'a>(name: &str, labels: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let labels: BTreeMap<&str, String> = labels
        .filter(|(_, value)| !value.is_empty())
        .map(|(label, value)| {
            let value = match (label, value.parse::<f64>()) {
                ("le", Ok(bound)) => format!("{bound:?}"),
                _ => value.to_owned(),
            };
            (label, value)
        })
        .collect();
    format!("{name}{labels:?}")
}

/// Equal as stored floats: bit for bit, with every NaN equal.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

// -------------------------------------------------------------------- the targets

/// One adapter's server, workload and proxy. Fields drop in order: the proxy first (no
/// more forwarding), then the server, the workload (its tracked tasks end) and the
/// runtime they ran on.
struct Target {
    job: &'static str,
    proxy: Proxy,
    server: Box<dyn Server>,
    workload: Workload,
    _runtime: Box<dyn Send>,
}

fn target<R: Runtime>(k: u32) -> Target {
    let runtime = R::new();
    let workload = Workload::run(&runtime, k);
    let server = R::Adapter::start(Config::loopback(workload.registry))
        .unwrap_or_else(|error| panic!("{}: {error}", R::Adapter::NAME));
    Target {
        job: R::JOB,
        proxy: Proxy::start(server.local_addr()),
        server,
        workload,
        _runtime: Box::new(runtime),
    }
}

fn targets() -> Vec<Target> {
    vec![
        target::<TokioRuntime>(1),
        target::<SmolRuntime>(2),
        target::<AsyncStdRuntime>(3),
    ]
}

/// The server's own expositions pass the reference validators with exactly the
/// recorded values: text 0.0.4 through `promtool check metrics` (and
/// `prometheus_client`'s text parser for the values), OpenMetrics through
/// `prometheus_client`'s strict parser.
fn check_reference_parsers(target: &Target) {
    let url = format!("http://{}/metrics", target.server.local_addr());
    let expected = target.workload.expected(false);

    let text = get(&url, &[("accept", "text/plain; version=0.0.4")]);
    assert_eq!(text.header("content-type"), Some(TEXT), "{}", target.job);
    let body = text.text();
    if let Err(problem) = promtool_check(&body) {
        panic!("{}: {problem}\n{body}", target.job);
    }
    let parsed = text_parse(&body).unwrap_or_else(|error| panic!("{}: {error}", target.job));
    if let Err(differences) = expected.compare(&Samples::parsed(&parsed)) {
        panic!(
            "{}: the text exposition differs:\n{differences}",
            target.job
        );
    }

    let open_metrics = get(
        &url,
        &[("accept", "application/openmetrics-text; version=1.0.0")],
    );
    assert_eq!(
        open_metrics.header("content-type"),
        Some(OPEN_METRICS),
        "{}",
        target.job
    );
    let body = open_metrics.text();
    let parsed =
        openmetrics_parse(&body).unwrap_or_else(|error| panic!("{}: {error}\n{body}", target.job));
    if let Err(differences) = expected.compare(&Samples::parsed(&parsed)) {
        panic!(
            "{}: the OpenMetrics exposition differs:\n{differences}",
            target.job
        );
    }
}

/// Every scrape the proxy saw: Prometheus asked for `accept_first` first and for
/// gzip, and the server answered 200 with `content_type`, gzip-compressed.
fn check_wire(target: &Target, accept_first: &str, content_type: &str) {
    let exchanges = target.proxy.exchanges();
    let complete: Vec<_> = exchanges
        .iter()
        .filter_map(|exchange| Some((exchange.request.as_ref()?, exchange.response.as_ref()?)))
        .collect();
    assert!(
        !complete.is_empty(),
        "{}: the proxy saw no complete scrape: {exchanges:#?}",
        target.job
    );
    for (request, response) in complete {
        let job = target.job;
        assert_eq!(request.start_line, "GET /metrics HTTP/1.1", "{job}");
        let accept = request.header("accept").unwrap_or_default();
        assert!(
            accept.starts_with(accept_first) && accept.contains("application/openmetrics-text"),
            "{job}: Prometheus sent Accept: {accept}"
        );
        let encodings = request.header("accept-encoding").unwrap_or_default();
        assert!(
            encodings.contains("gzip"),
            "{job}: Accept-Encoding: {encodings}"
        );
        assert!(
            response.start_line.starts_with("HTTP/1.1 200 "),
            "{job}: {}",
            response.start_line
        );
        assert_eq!(response.header("content-type"), Some(content_type), "{job}");
        assert_eq!(response.header("content-encoding"), Some("gzip"), "{job}");
        assert_eq!(response.body_prefix, [0x1f, 0x8b], "{job}: a gzip stream");
    }
}

/// What `/api/v1/metadata` must say after OpenMetrics scrapes: `(family, type, unit,
/// help)`.
const METADATA: [(&str, &str, &str, &str); 7] = [
    ("e2e_requests", "counter", "", HOSTILE_HELP),
    ("e2e_received_bytes", "counter", "bytes", "Bytes received."),
    (
        "e2e_latency_seconds",
        "histogram",
        "seconds",
        "Time per call (manual clock).",
    ),
    ("e2e_rpc_seconds", "summary", "seconds", "RPC time."),
    ("e2e_build", "info", "", "Build facts."),
    ("e2e_job_state", "stateset", "", "Job state."),
    (
        "e2e_native_seconds",
        "histogram",
        "seconds",
        "Native histogram.",
    ),
];

/// The same after protobuf scrapes: client_model's `MetricFamily` names the family as
/// its samples are named and has no info, state set or (in Prometheus 2) unit.
const METADATA_PROTOBUF: [(&str, &str, &str, &str); 7] = [
    ("e2e_requests_total", "counter", "", HOSTILE_HELP),
    ("e2e_received_bytes_total", "counter", "", "Bytes received."),
    (
        "e2e_latency_seconds",
        "histogram",
        "",
        "Time per call (manual clock).",
    ),
    ("e2e_rpc_seconds", "summary", "", "RPC time."),
    ("e2e_build_info", "gauge", "", "Build facts."),
    ("e2e_job_state", "gauge", "", "Job state."),
    ("e2e_native_seconds", "histogram", "", "Native histogram."),
];

fn check_metadata(prometheus: &Prometheus, protobuf: bool) -> Result<(), String> {
    let mut differences = String::new();
    let metadata = if protobuf {
        METADATA_PROTOBUF
    } else {
        METADATA
    };
    for (family, type_, unit, help) in metadata {
        let stored = prometheus.metadata(family);
        let expected = serde_json::json!({ "type": type_, "unit": unit, "help": help });
        if stored.is_empty() || stored.iter().any(|entry| *entry != expected) {
            let _ = writeln!(differences, "  {family}: {stored:?}, expected [{expected}]");
        }
    }
    for family in Reading::ALL {
        // OpenMetrics names a counter's family without `_total`; protobuf's
        // `MetricFamily` is named as its samples are.
        let (name, type_) = match family.name().strip_suffix("_total") {
            Some(_) if protobuf => (family.name(), "counter"),
            Some(counter) => (counter, "counter"),
            None => (family.name(), "gauge"),
        };
        let stored = prometheus.metadata(name);
        let expected = serde_json::json!({ "type": type_, "unit": "", "help": family.help() });
        if stored.is_empty() || stored.iter().any(|entry| *entry != expected) {
            let _ = writeln!(differences, "  {name}: {stored:?}, expected [{expected}]");
        }
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(differences)
    }
}

/// The native histogram as Prometheus stored it from protobuf scrapes: its count and
/// sum exactly, its median within the schema's resolution (the estimate and the true
/// median share a bucket, whose bounds differ by the factor 2^(1/8) at schema 3).
fn check_native(prometheus: &Prometheus, target: &Target) -> Result<(), String> {
    let job = target.job;
    let snapshot = target.workload.native.snapshot();
    let scalar = |query: &str| -> Option<f64> {
        let result = prometheus.query(query);
        result.first()?["value"][1].as_str()?.parse().ok()
    };
    let selector = format!("e2e_native_seconds{{job=\"{job}\"}}");
    let count = scalar(&format!("histogram_count({selector})"));
    let sum = scalar(&format!("histogram_sum({selector})"));
    let median = scalar(&format!("histogram_quantile(0.5, {selector})"));
    let mut sorted: Vec<f64> = NATIVE_VALUES.to_vec();
    sorted.sort_by(f64::total_cmp);
    // 12 values: Prometheus' rank for 0.5 is the 6th observation (1-based), whose
    // bucket its estimate interpolates in.
    let k = match job {
        "tokio" => 1.0,
        "smol" => 2.0,
        _ => 3.0,
    };
    let true_median = sorted[5] * k;
    #[allow(clippy::cast_precision_loss)]
    let expected_count = snapshot.count() as f64;
    let resolution = 2f64.powf(1.0 / 8.0) - 1.0;
    let close = median.is_some_and(|m| (m - true_median).abs() <= true_median * resolution);
    if count == Some(expected_count) && sum.is_some_and(|s| same(s, snapshot.sum())) && close {
        Ok(())
    } else {
        Err(format!(
            "{job}: histogram_count {count:?} (expected {expected_count}), histogram_sum \
             {sum:?} (expected {}), median {median:?} (expected {true_median} within {resolution})",
            snapshot.sum()
        ))
    }
}

/// The whole scenario against a Prometheus started with `flags`, whose `Accept`
/// header must start with `accept_first`; `protobuf`: the server answers it so.
fn scenario(flags: &[&str], accept_first: &str, protobuf: bool) {
    let started = Instant::now();
    let mut targets = targets();
    let jobs: Vec<Job> = targets
        .iter()
        .map(|target| Job::static_targets(target.job, [target.proxy.address()]))
        .collect();
    // Declared after the targets: dropped (killed by PID) before them.
    let prometheus = Prometheus::start(&jobs, flags);

    // Prometheus's first scrape is about 5 s away: validate the expositions meanwhile.
    for target in &targets {
        check_reference_parsers(target);
    }

    for target in &targets {
        prometheus.wait_up(target.job, 1, SCRAPED);
    }
    for target in &targets {
        let expected = target.workload.expected(protobuf);
        let stored = prometheus.poll(STORED, || {
            expected
                .compare(&Samples::stored(&prometheus, target.job))
                .ok()
        });
        if stored.is_none() {
            let differences = expected
                .compare(&Samples::stored(&prometheus, target.job))
                .err()
                .unwrap_or_default();
            panic!(
                "{}: Prometheus stored other values:\n{differences}",
                target.job
            );
        }
        let content_type = if protobuf { PROTOBUF } else { OPEN_METRICS };
        check_wire(target, accept_first, content_type);
        if protobuf
            && prometheus
                .poll(STORED, || check_native(&prometheus, target).ok())
                .is_none()
        {
            panic!(
                "{}",
                check_native(&prometheus, target).err().unwrap_or_default()
            );
        }
    }
    if prometheus
        .poll(STORED, || check_metadata(&prometheus, protobuf).ok())
        .is_none()
    {
        panic!(
            "Prometheus stored other metadata:\n{}",
            check_metadata(&prometheus, protobuf)
                .err()
                .unwrap_or_default()
        );
    }

    // Every adapter's process metrics are stored, each family with one sample.
    for target in &targets {
        let query = format!("{{__name__=~\"process_.+\",job=\"{}\"}}", target.job);
        let names = || -> Vec<String> {
            let mut names: Vec<String> = prometheus
                .query(&query)
                .iter()
                .filter_map(|series| series["metric"]["__name__"].as_str().map(str::to_owned))
                .collect();
            names.sort();
            names
        };
        let mut expected: Vec<String> = Reading::ALL.iter().map(|f| f.name().to_owned()).collect();
        expected.sort();
        assert!(
            prometheus
                .poll(STORED, || (names() == expected).then_some(()))
                .is_some(),
            "{}: Prometheus stored the process metrics {:?}, expected {expected:?}",
            target.job,
            names()
        );
    }

    // A change after the first scrapes reaches Prometheus: the tracked tasks end.
    for target in &mut targets {
        assert_eq!(target.workload.in_flight.get(), target.workload.held);
        target.workload.release();
    }
    for target in &targets {
        let query = format!("e2e_in_flight{{job=\"{}\"}} == 0", target.job);
        assert!(
            prometheus
                .poll(STORED, || (!prometheus.query(&query).is_empty())
                    .then_some(()))
                .is_some(),
            "{}: the in-progress gauge did not reach 0 in Prometheus; it reads {}",
            target.job,
            target.workload.in_flight.get()
        );
    }

    drop(prometheus);
    for target in &mut targets {
        target.server.close();
    }
    eprintln!(
        "scenario {flags:?}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Prometheus's default `Accept` puts OpenMetrics 1.0.0 first.
#[test]
fn prometheus_scrapes_every_adapter_with_openmetrics_and_gzip() {
    scenario(&[], "application/openmetrics-text;version=1.0.0", false);
}

/// With native histograms enabled Prometheus asks for protobuf first; the server
/// answers protobuf, every value arrives, and the native histogram is stored as one.
/// (The flag switches the `Accept` header in Prometheus 2.40–3.8, Debian's 2.42
/// included; from 3.9 it is a no-op and the config's `scrape_native_histograms: true`
/// does it instead.)
#[test]
fn native_histogram_prometheus_gets_protobuf_and_native_histograms() {
    scenario(
        &["--enable-feature=native-histograms"],
        "application/vnd.google.protobuf;",
        true,
    );
}
