//! Every example binary behaves like a command-line tool (issue 19): `--help` prints its
//! purpose, flags and defaults and exits 0; an unknown flag or a malformed address is a
//! usage error naming the flag, exit 2; a port already taken (a listener this test holds
//! on `127.0.0.1:0`) fails with exit 1, naming the address and the flag that changes it,
//! with the causes one per line; a Consul agent that refuses the registration (the agent
//! double) fails the same way; `threaded` and `exposition` run to their end with status
//! 0. The README's Demo section shows `quickstart --help`'s output exactly. Issue 23:
//! `quickstart --remote-write URL` pushes every `--push-interval`, reports an outage
//! once and its end once, and pushes a last time on Ctrl-C; `push` (a client, so no
//! port of its own to take) pushes its batch job's metrics to a real Pushgateway and
//! `--delete` removes them; a gateway's refusal is exit 1 naming the URL. Issue 24:
//! `quickstart --otlp-endpoint URL` exports OTLP/HTTP protobuf to `URL/v1/metrics` the
//! same way, the request histogram's exemplar carrying the request's trace id as bytes.
//!
//! The binaries come from `cargo build -p <package> --examples`, one package at a time
//! under one lock: the adapters' examples share names (`quickstart` in three packages), so
//! Cargo's uplifted `target/debug/examples/<name>` holds whichever package was built
//! last. Every process runs under a deadline and is killed by its PID if it outlives it.
#![forbid(unsafe_code)]

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use torchlight_tests::consul::{ConsulDouble, Endpoint, Fault};
use torchlight_tests::daemon::Daemon;
use torchlight_tests::examples::build;
use torchlight_tests::otlp_proto::{self, Data};
use torchlight_tests::receiver::{Receiver, Reply};

/// How long an example may take to answer; they answer in milliseconds, but the machine
/// may be loaded. One that is still running then has hung, and is killed.
const DEADLINE: Duration = Duration::from_secs(60);

/// The examples each package must have: the name, the address flags (`--name ADDR`) and
/// the synopsis of its other flags. A new example must be added here, so it is held to
/// the same rules.
type Example = (&'static str, &'static [&'static str], &'static str);
/// The quickstarts' flags after the addresses.
const QUICKSTART: &str =
    " [--web-config FILE] [--remote-write URL] [--otlp-endpoint URL] [--push-interval DURATION]";
/// The `push` examples' flags (no address: the batch job listens nowhere).
const PUSH: &str = " --gateway URL --job NAME [--instance VALUE] [--delete]";
const CORE: &[Example] = &[("exposition", &[], "")];
const TOKIO: &[Example] = &[
    ("axum", &["--app-addr"], ""),
    ("consul", &["--metrics-addr"], ""),
    ("hyper", &["--app-addr"], ""),
    ("push", &[], PUSH),
    ("quickstart", &["--app-addr", "--metrics-addr"], QUICKSTART),
    ("service", &["--app-addr", "--metrics-addr"], ""),
    ("threaded", &["--metrics-addr"], ""),
];
const SMOL: &[Example] = &[
    ("consul", &["--metrics-addr"], ""),
    ("hyper", &["--app-addr"], ""),
    ("push", &[], PUSH),
    ("quickstart", &["--app-addr", "--metrics-addr"], QUICKSTART),
    ("service", &["--app-addr", "--metrics-addr"], ""),
    ("threaded", &["--metrics-addr"], ""),
];
/// smol's without `service` (the tower example is on the tokio and smol adapters).
const ASYNC_STD: &[Example] = &[
    ("consul", &["--metrics-addr"], ""),
    ("hyper", &["--app-addr"], ""),
    ("push", &[], PUSH),
    ("quickstart", &["--app-addr", "--metrics-addr"], QUICKSTART),
    ("threaded", &["--metrics-addr"], ""),
];

/// What listens on each flag's address, as the failure's first line names it.
fn listener(flag: &str) -> &'static str {
    match flag {
        "--app-addr" => "the app",
        "--metrics-addr" => "the metrics server",
        other => panic!("no listener known for {other}"),
    }
}

/// How a run ended.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `program` with `arguments` and `environment` (`CONSUL_HTTP_*` cleared first, so
/// the caller's shell cannot reach a real agent), no stdin, to its end or `DEADLINE`.
fn run(program: &Path, arguments: &[&str], environment: &[(&str, &str)]) -> Run {
    let mut command = Command::new(program);
    command
        .args(arguments)
        .env_remove("CONSUL_HTTP_ADDR")
        .env_remove("CONSUL_HTTP_TOKEN")
        .envs(environment.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the example") {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            stop(&mut child);
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let run = Run {
        code: status.and_then(|status| status.code()),
        stdout: stdout.join().expect("the stdout reader"),
        stderr: stderr.join().expect("the stderr reader"),
    };
    assert!(
        status.is_some(),
        "{} {arguments:?} still ran after {DEADLINE:?} and was killed: {run:?}",
        program.display()
    );
    run
}

/// Kills exactly this child, by its PID, and reaps it.
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads `pipe` to its end on a thread (so a full pipe cannot block the child).
fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    let mut pipe = pipe.expect("a piped stream");
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Every check, on every example `package` has; `expected` lists them.
fn check_package(package: &str, expected: &[Example]) {
    let (_guard, examples) = build(package);
    let names: Vec<&str> = examples.keys().map(String::as_str).collect();
    let wanted: Vec<&str> = expected.iter().map(|(name, _, _)| *name).collect();
    assert_eq!(
        names, wanted,
        "{package}'s examples changed: list each in tests/tests/examples.rs with its flags"
    );
    for &(name, flags, options) in expected {
        let program = &examples[name];
        help(program, package, name, flags, options);
        unknown_flag(program, name);
        for flag in flags {
            malformed_address(program, name, flag);
            taken_port(program, name, flags, flag);
        }
        if name == "consul" {
            refused_registration(program);
        }
        if name == "threaded" {
            threaded_runs_to_the_end(program);
        }
        if name == "quickstart" {
            web_config_errors(program);
            push_flag_errors(program);
            remote_write_outage_reported_once(program);
            otlp_export_with_exemplars(program);
        }
        if name == "push" {
            // A client only: it listens nowhere, so no port of its own can be taken;
            // its run-time failure is the gateway's, checked here instead.
            assert!(flags.is_empty(), "push listens nowhere");
            push_usage_errors(program);
            refused_push(program);
            push_to_the_pushgateway(program, package);
        }
    }
}

/// `--help` and `-h`: name, package, purpose, synopsis, each flag with its default; exit 0.
fn help(program: &Path, package: &str, name: &str, flags: &[&str], options: &str) {
    let help = run(program, &["--help"], &[]);
    assert_eq!(help.code, Some(0), "{name} --help: {help:?}");
    assert_eq!(help.stderr, "", "{name} --help");
    assert!(
        help.stdout.starts_with(&format!("{name} ({package})\n\n")),
        "{name} --help starts with its purpose: {}",
        help.stdout
    );
    let mut synopsis: String = flags.iter().map(|flag| format!(" [{flag} ADDR]")).collect();
    synopsis.push_str(options);
    assert!(
        help.stdout
            .contains(&format!("\nUsage: {name}{synopsis}\n")),
        "{name} --help: {}",
        help.stdout
    );
    for flag in flags {
        let line = help
            .stdout
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{flag} ADDR ")))
            .unwrap_or_else(|| panic!("{name} --help lists no {flag}: {}", help.stdout));
        assert!(
            line.contains(&format!("where {} listens [default: ", listener(flag))),
            "{name} --help, {flag}: {line}"
        );
    }
    let short = run(program, &["-h"], &[]);
    assert_eq!(
        (short.code, short.stdout),
        (Some(0), help.stdout),
        "{name} -h"
    );
}

/// An unknown flag: exit 2, the flag named on stderr with the synopsis, nothing run.
fn unknown_flag(program: &Path, name: &str) {
    let refused = run(program, &["--no-such-flag", "127.0.0.1:0"], &[]);
    assert_eq!(refused.code, Some(2), "{name} --no-such-flag: {refused:?}");
    assert_eq!(refused.stdout, "", "{name} --no-such-flag");
    let mut lines = refused.stderr.lines();
    assert_eq!(
        lines.next(),
        Some("error: unknown flag --no-such-flag"),
        "{name}: {}",
        refused.stderr
    );
    assert!(
        lines
            .next()
            .is_some_and(|line| line.starts_with(&format!("Usage: {name}"))),
        "{name}: {}",
        refused.stderr
    );
}

/// An address without a port: exit 2, the flag and the value named.
fn malformed_address(program: &Path, name: &str, flag: &str) {
    let refused = run(program, &[flag, "127.0.0.1"], &[]);
    assert_eq!(
        refused.code,
        Some(2),
        "{name} {flag} 127.0.0.1: {refused:?}"
    );
    assert_eq!(refused.stdout, "", "{name} {flag} 127.0.0.1");
    assert!(
        refused
            .stderr
            .starts_with(&format!("error: {flag} \"127.0.0.1\" is not an address (")),
        "{name}: {}",
        refused.stderr
    );
}

/// `flag` given an address this test holds: exit 1; the first line names the listener,
/// the address and the flag, the next ones (each `caused by:`) end at the OS's reason.
/// The other flags get port 0, so only the taken one can fail.
fn taken_port(program: &Path, name: &str, flags: &[&str], taken_flag: &str) {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let taken = holder.local_addr().expect("the held address").to_string();
    let mut arguments = Vec::new();
    for flag in flags {
        arguments.push(*flag);
        arguments.push(if flag == &taken_flag {
            taken.as_str()
        } else {
            "127.0.0.1:0"
        });
    }
    // Binding comes before registering, so the agent (a double) must hear nothing.
    let agent = ConsulDouble::start().expect("start the Consul double");
    let failed = run(program, &arguments, &[("CONSUL_HTTP_ADDR", &agent.url())]);
    assert_eq!(failed.code, Some(1), "{name} {arguments:?}: {failed:?}");
    let lines: Vec<&str> = failed.stderr.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(
            format!(
                "error: {} cannot start on {taken} ({taken_flag} sets the address)",
                listener(taken_flag)
            )
            .as_str()
        ),
        "{name} {arguments:?}: {}",
        failed.stderr
    );
    assert!(
        lines.len() >= 2
            && lines[1..]
                .iter()
                .all(|line| line.starts_with("caused by: ")),
        "{name}: one cause per line: {}",
        failed.stderr
    );
    assert!(
        lines
            .last()
            .is_some_and(|line| line.contains("Address already in use")),
        "{name}: the OS's reason ends the chain: {}",
        failed.stderr
    );
    assert_eq!(agent.requests(), Vec::new(), "{name} contacted the agent");
    drop(holder);
}

/// The agent refuses the registration: exit 1, and the chain goes from the metrics
/// server down to the agent's own words.
fn refused_registration(program: &Path) {
    let agent = ConsulDouble::start().expect("start the Consul double");
    agent.inject(
        Endpoint::Register,
        Fault::Status(500, "rpc error: leader unavailable".to_owned()),
    );
    let failed = run(
        program,
        &["--metrics-addr", "127.0.0.1:0"],
        &[("CONSUL_HTTP_ADDR", &agent.url())],
    );
    assert_eq!(failed.code, Some(1), "consul, agent refusing: {failed:?}");
    let lines: Vec<&str> = failed.stderr.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(
            "error: the metrics server cannot start on 127.0.0.1:0 (--metrics-addr sets the address)"
        ),
        "{}",
        failed.stderr
    );
    let cause = lines.get(1).copied().unwrap_or_default();
    assert!(
        cause.starts_with("caused by: the metrics server on 127.0.0.1:")
            && cause.contains("registering it failed")
            && cause.contains(&format!(
                "the agent at {} refused the registration with status 500: \
                 \"rpc error: leader unavailable\"",
                agent.url()
            )),
        "{}",
        failed.stderr
    );
    assert_eq!(lines.len(), 2, "{}", failed.stderr);
}

/// `quickstart --web-config FILE` with a file that cannot be read, or that sets a key
/// torchlight does not know: exit 1 before anything listens, naming the file and the
/// key.
fn web_config_errors(program: &Path) {
    let folder = std::env::temp_dir().join(format!("torchlight-web-config-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a temporary folder");
    let missing = folder.join("missing.yml");
    let unknown = folder.join("unknown.yml");
    std::fs::write(&unknown, "tls_server_config:\n  cert_fil: cert.pem\n").expect("write");
    for (file, reason) in [
        (&missing, "cannot be read".to_owned()),
        (
            &unknown,
            "has an unknown key `tls_server_config.cert_fil`".to_owned(),
        ),
    ] {
        let file = file.to_str().expect("a UTF-8 path");
        let failed = run(
            program,
            &[
                "--metrics-addr",
                "127.0.0.1:0",
                "--app-addr",
                "127.0.0.1:0",
                "--web-config",
                file,
            ],
            &[],
        );
        assert_eq!(
            failed.code,
            Some(1),
            "quickstart --web-config {file}: {failed:?}"
        );
        assert!(
            failed
                .stderr
                .starts_with(&format!("error: web configuration file {file} {reason}")),
            "{}",
            failed.stderr
        );
        assert_eq!(failed.stdout, "", "nothing started");
    }
    let _ = std::fs::remove_dir_all(&folder);
}

/// `quickstart`'s push flags: a value that is not a URL or a duration is a usage error
/// naming the flag (exit 2), before anything listens.
fn push_flag_errors(program: &Path) {
    for (arguments, message) in [
        (
            ["--remote-write", "127.0.0.1:9090"],
            "error: --remote-write \"127.0.0.1:9090\" is not a URL (it does not start with \
             http:// or https://), such as --remote-write http://127.0.0.1:9090/api/v1/write",
        ),
        (
            ["--push-interval", "15"],
            "error: --push-interval \"15\" is not a duration (a number needs a unit (y, w, \
             d, h, m, s, ms)), such as --push-interval 15s",
        ),
        (
            ["--push-interval", "0s"],
            "error: --push-interval \"0s\" is not a duration (it must be more than 0), such \
             as --push-interval 15s",
        ),
    ] {
        refused_with_usage_error(program, "quickstart", &arguments, message);
    }
}

/// Runs `program` (the example `name`) with `arguments` and checks it refuses them as a
/// usage error: exit 2, nothing on stdout, `message` as the first line on stderr.
fn refused_with_usage_error(program: &Path, name: &str, arguments: &[&str], message: &str) {
    let refused = run(program, arguments, &[]);
    assert_eq!(refused.code, Some(2), "{name} {arguments:?}: {refused:?}");
    assert_eq!(refused.stdout, "", "{name} {arguments:?}");
    assert_eq!(
        refused.stderr.lines().next(),
        Some(message),
        "{name} {arguments:?}"
    );
}

/// `quickstart --remote-write URL --push-interval 100ms` against a receiver that fails
/// its first three requests: one line when pushes start failing, one when they
/// recover, none per attempt; the pushes carry remote write's headers; Ctrl-C (SIGINT,
/// sent to this child's PID) stops it with status 0 after a last push.
fn remote_write_outage_reported_once(program: &Path) {
    let receiver = Receiver::start(|n| {
        if n < 3 {
            Reply::Status(503, None, "down for maintenance")
        } else {
            Reply::Status(204, None, "")
        }
    });
    let url = receiver.url().to_owned();
    let mut child = Command::new(program)
        .args(["--app-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"])
        .args(["--remote-write", &url, "--push-interval", "100ms"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start quickstart");
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    // Three failures, the recovery, then a few pushes on the interval.
    let received = receiver.wait_for(6, DEADLINE);
    let before_stop = received.len();
    interrupt(&mut child);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for quickstart") {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            stop(&mut child);
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (
        stdout.join().expect("the stdout reader"),
        stderr.join().expect("the stderr reader"),
    );
    assert_eq!(
        status.and_then(|status| status.code()),
        Some(0),
        "quickstart after SIGINT: {stdout}{stderr}"
    );
    assert!(before_stop >= 6, "pushes arrived: {before_stop}; {stderr}");
    for request in &received {
        assert_eq!(request.method, "POST");
        assert_eq!(request.header("content-encoding"), Some("snappy"));
        assert_eq!(
            request.header("x-prometheus-remote-write-version"),
            Some("0.1.0")
        );
    }
    assert!(
        stdout.contains(&format!("\npush:    {url}\n")) && stdout.ends_with("stopped\n"),
        "{stdout}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            format!("push to {url} failing: {url} answered 503 (will retry): down for maintenance")
                .as_str(),
            format!("push to {url} recovered").as_str(),
        ],
        "an outage is reported once, and its end once"
    );
    let after_stop = receiver.wait_for(before_stop + 1, DEADLINE).len();
    assert!(after_stop > before_stop, "a last push on Ctrl-C");
}

/// `--otlp-endpoint BASE` (issue 24): OTLP/HTTP protobuf POSTed to `BASE/v1/metrics`
/// every `--push-interval`, resource `service.name` `quickstart`; `req_time_seconds` a
/// histogram whose exemplar carries the request's trace id as 16 bytes; an outage
/// reported once and its end once; a last export on Ctrl-C.
fn otlp_export_with_exemplars(program: &Path) {
    let receiver = Receiver::start(|n| {
        if n < 1 {
            Reply::Status(503, None, "down for maintenance")
        } else {
            Reply::Status(200, None, "")
        }
    });
    let endpoint = format!("{}/v1/metrics", receiver.base_url());
    let mut child = Command::new(program)
        .args(["--app-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"])
        .args([
            "--otlp-endpoint",
            &receiver.base_url(),
            "--push-interval",
            "100ms",
        ])
        // Plain bodies whatever the caller's shell says.
        .env_remove("OTEL_EXPORTER_OTLP_COMPRESSION")
        .env_remove("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start quickstart");
    let mut stdout = BufReader::new(child.stdout.take().expect("a piped stdout"));
    let mut first = String::new();
    stdout
        .read_line(&mut first)
        .expect("read quickstart's first line");
    let stdout = drain(Some(stdout));
    let stderr = drain(child.stderr.take());
    // One request to the app, so the histogram has an observation and its exemplar.
    let app = first
        .strip_prefix("app:     http://")
        .and_then(|rest| rest.trim_end().strip_suffix('/'))
        .unwrap_or_else(|| panic!("the app's address first: {first:?}"));
    let mut connection = TcpStream::connect(app).expect("connect to the app");
    connection
        .write_all(b"GET / HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n")
        .expect("send a request");
    let mut answer = String::new();
    connection
        .read_to_string(&mut answer)
        .expect("read the answer");
    assert!(answer.ends_with("hello"), "{answer}");
    // At most one export is in flight, so the second after this one began after the
    // request: the failure, the recovery, and at least that one.
    let seen = receiver.wait_for(0, Duration::ZERO).len();
    let received = receiver.wait_for((seen + 2).max(3), DEADLINE);
    let before_stop = received.len();
    interrupt(&mut child);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for quickstart") {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            stop(&mut child);
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (
        first + &stdout.join().expect("the stdout reader"),
        stderr.join().expect("the stderr reader"),
    );
    assert_eq!(
        status.and_then(|status| status.code()),
        Some(0),
        "quickstart after SIGINT: {stdout}{stderr}"
    );
    assert!(before_stop >= 3, "exports arrived: {before_stop}; {stderr}");
    for request in &received {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/v1/metrics")
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/x-protobuf")
        );
        assert_eq!(request.header("content-encoding"), None);
    }
    let last = otlp_proto::decode(&received[before_stop - 1].body);
    let [resource_metrics] = last.resource_metrics.as_slice() else {
        panic!("one resource: {last:?}");
    };
    let resource = resource_metrics.resource.as_ref().expect("a resource");
    assert!(
        otlp_proto::pairs(&resource.attributes).contains(&("service.name", "quickstart")),
        "{resource:?}"
    );
    let histogram = resource_metrics
        .scope_metrics
        .iter()
        .flat_map(|scope| &scope.metrics)
        .find(|metric| metric.name == "req_time_seconds")
        .unwrap_or_else(|| panic!("req_time_seconds exported: {last:?}"));
    let Some(Data::Histogram(histogram)) = &histogram.data else {
        panic!("req_time_seconds is a Histogram: {histogram:?}");
    };
    let [point] = histogram.data_points.as_slice() else {
        panic!("one point: {histogram:?}");
    };
    assert_eq!(point.count, 1, "the one request: {point:?}");
    let [exemplar] = point.exemplars.as_slice() else {
        panic!("the request's exemplar: {point:?}");
    };
    assert_eq!(
        exemplar.trace_id.len(),
        16,
        "a trace id of 16 bytes: {exemplar:?}"
    );
    assert!(
        exemplar.trace_id.iter().any(|&byte| byte != 0),
        "{exemplar:?}"
    );
    assert!(
        exemplar.filtered_attributes.is_empty(),
        "the trace id is not also an attribute: {exemplar:?}"
    );
    assert!(
        stdout.contains(&format!("\notlp:    {endpoint}\n")) && stdout.ends_with("stopped\n"),
        "{stdout}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() == 2
            && lines[0].starts_with(&format!("push to {endpoint} failing: "))
            && lines[0].contains("503")
            && lines[1] == format!("push to {endpoint} recovered"),
        "an outage is reported once, and its end once: {stderr}"
    );
    let after_stop = receiver.wait_for(before_stop + 1, DEADLINE).len();
    assert!(after_stop > before_stop, "a last export on Ctrl-C");
}

/// Sends SIGINT (Ctrl-C) to exactly this child, by its PID.
fn interrupt(child: &mut Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -INT {}", child.id());
}

/// `push` without its required flags, or with a gateway that is not a URL: exit 2,
/// naming the flag.
fn push_usage_errors(program: &Path) {
    for (arguments, message) in [
        (
            &["--job", "nightly"][..],
            "error: --gateway is required, such as --gateway http://127.0.0.1:9091",
        ),
        (
            &["--gateway", "http://127.0.0.1:9091"][..],
            "error: --job is required, such as --job nightly-import",
        ),
        (
            &["--gateway", "127.0.0.1:9091", "--job", "nightly"][..],
            "error: --gateway \"127.0.0.1:9091\" is not a URL (it does not start with \
             http:// or https://), such as --gateway http://127.0.0.1:9091",
        ),
        (
            &["--gateway", "http://g", "--job", "j", "--delete=yes"][..],
            "error: --delete takes no value",
        ),
    ] {
        refused_with_usage_error(program, "push", arguments, message);
    }
}

/// A gateway that refuses the push (400): exit 1, the message naming the group's URL
/// and quoting the gateway.
fn refused_push(program: &Path) {
    let gateway = Receiver::start(|_| Reply::Status(400, None, "pushed metrics are invalid"));
    let base = gateway.url().trim_end_matches("/api/v1/write").to_owned();
    let failed = run(program, &["--gateway", &base, "--job", "nightly"], &[]);
    assert_eq!(failed.code, Some(1), "push refused: {failed:?}");
    assert_eq!(
        failed.stderr,
        format!(
            "error: {base}/metrics/job/nightly refused the push with 400: pushed metrics \
             are invalid\n"
        )
    );
}

/// `push` against Debian's `prometheus-pushgateway`: the group of the job and instance
/// appears with the 100 items, the histogram's count and the time of success; `--delete`
/// removes it.
fn push_to_the_pushgateway(program: &Path, package: &str) {
    let gateway = Daemon::pushgateway();
    let url = gateway.url();
    let group = format!("instance=\"{package}\",job=\"examples\"");
    let pushed = run(
        program,
        &[
            "--gateway",
            &url,
            "--job",
            "examples",
            "--instance",
            package,
        ],
        &[],
    );
    assert_eq!(pushed.code, Some(0), "push: {pushed:?}");
    assert_eq!(
        pushed.stdout,
        format!("pushed 100 items to {url}/metrics/job/examples/instance/{package}\n")
    );
    let (status, exposed) = gateway.get("/metrics").expect("the gateway answers");
    assert_eq!(status, 200);
    for line in [
        format!("batch_items_processed_total{{{group}}} 100"),
        format!("batch_item_seconds_count{{{group}}} 100"),
    ] {
        assert!(exposed.lines().any(|l| l == line), "{line} in:\n{exposed}");
    }
    let success = exposed
        .lines()
        .find_map(|l| l.strip_prefix(&format!("batch_last_success_timestamp_seconds{{{group}}} ")))
        .and_then(|value| value.parse::<f64>().ok())
        .expect("the time of success");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    assert!((now - success).abs() < 600.0, "{success} vs {now}");

    let deleted = run(
        program,
        &[
            "--gateway",
            &url,
            "--job",
            "examples",
            "--instance",
            package,
            "--delete",
        ],
        &[],
    );
    assert_eq!(deleted.code, Some(0), "push --delete: {deleted:?}");
    let (_, exposed) = gateway.get("/metrics").expect("the gateway answers");
    assert!(
        !exposed.contains("batch_"),
        "the group is gone after --delete:\n{exposed}"
    );
}

/// `threaded` on a free port: it serves, works its 3 seconds and ends with status 0 (the
/// success path of `report`).
fn threaded_runs_to_the_end(program: &Path) {
    let done = run(program, &["--metrics-addr", "127.0.0.1:0"], &[]);
    assert_eq!(done.code, Some(0), "threaded: {done:?}");
    assert!(
        done.stdout.starts_with("metrics: http://127.0.0.1:")
            && done.stdout.ends_with("stopped after 30 units of work\n"),
        "threaded: {}",
        done.stdout
    );
    assert_eq!(done.stderr, "", "threaded");
}

#[test]
fn core_examples() {
    check_package("torchlight", CORE);
    let (_guard, examples) = build("torchlight");
    let printed = run(&examples["exposition"], &[], &[]);
    assert_eq!(printed.code, Some(0), "exposition: {printed:?}");
    assert!(
        printed
            .stdout
            .contains("# TYPE http_responses_total counter"),
        "{}",
        printed.stdout
    );
}

#[test]
fn tokio_examples() {
    check_package("torchlight-tokio", TOKIO);
}

#[test]
fn smol_examples() {
    check_package("torchlight-smol", SMOL);
}

#[test]
fn async_std_examples() {
    check_package("torchlight-async-std", ASYNC_STD);
}

/// README's Demo section shows the tokio quickstart's `--help` output, byte for byte:
/// the first ```` ```text ```` block after `## Demo`.
#[test]
fn readme_demo_shows_quickstart_help() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("read README.md");
    let demo = readme
        .split_once("\n## Demo\n")
        .map(|(_, demo)| demo)
        .expect("README.md has a ## Demo section");
    let demo = demo.split("\n## ").next().unwrap_or(demo);
    let block: String = demo
        .lines()
        .skip_while(|line| *line != "```text")
        .skip(1)
        .take_while(|line| *line != "```")
        .map(|line| format!("{line}\n"))
        .collect();
    let (_guard, examples) = build("torchlight-tokio");
    let help = run(&examples["quickstart"], &["--help"], &[]);
    assert_eq!(
        block, help.stdout,
        "README.md's Demo section must show `quickstart --help` exactly (its first ```text block)"
    );
}
