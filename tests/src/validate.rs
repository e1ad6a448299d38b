//! The external validators: `promtool check metrics` for the text format 0.0.4 and
//! `prometheus_client`'s parsers (the strict OpenMetrics one and the lenient 0.0.4 one).
//!
//! `cargo xtask ci` installs both and tells the tests where they are through
//! `TORCHLIGHT_PROMTOOL` and `TORCHLIGHT_PYTHON`. A missing validator is a panic that
//! says how to install it: these checks never skip.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Environment variable naming the `promtool` binary; `promtool` on `PATH` when unset.
pub const PROMTOOL_ENV: &str = "TORCHLIGHT_PROMTOOL";

/// Environment variable naming a Python with `prometheus-client`; the venv
/// `target/validators-venv` that `cargo xtask ci` creates when unset.
pub const PYTHON_ENV: &str = "TORCHLIGHT_PYTHON";

/// The script that runs `prometheus_client`'s parsers and prints their result as JSON.
const PARSE_SCRIPT: &str = include_str!("openmetrics_parse.py");

/// How to install both validators by hand.
const INSTALL_HELP: &str = "run `cargo xtask ci --only install` (or the whole `cargo xtask ci`), \
     which installs them; by hand: `apt-get install -y --no-install-recommends prometheus` \
     for promtool and `python3 -m venv target/validators-venv && \
     target/validators-venv/bin/pip install prometheus-client==0.26.0`";

/// One metric family as a reference parser understood it.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    /// The family name (for counters without `_total`, as the parsers report it).
    pub name: String,
    /// The type: `counter`, `gauge`, `histogram`, `summary`, `unknown`, ….
    pub type_: String,
    /// The unit from `# UNIT`, empty when absent.
    pub unit: String,
    /// The help text, unescaped.
    pub help: String,
    /// The samples, in exposition order.
    pub samples: Vec<Sample>,
}

/// One sample as a reference parser understood it.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The sample name, with its suffix (`_total`, `_bucket`, …).
    pub name: String,
    /// The labels, values unescaped.
    pub labels: BTreeMap<String, String>,
    /// The value; `+Inf`, `-Inf` and `NaN` included.
    pub value: f64,
    /// The exemplar the OpenMetrics parser read after the sample, if any.
    pub exemplar: Option<Exemplar>,
}

/// An exemplar as the OpenMetrics parser understood it.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// The exemplar's labels, values unescaped.
    pub labels: BTreeMap<String, String>,
    /// The observed value.
    pub value: f64,
    /// The timestamp in Unix seconds, when written.
    pub timestamp: Option<f64>,
}

/// Runs `promtool check metrics` on a text format 0.0.4 exposition.
///
/// `Ok` only when promtool exits 0 and prints nothing: a lint problem (exit 3, such as
/// "no help text") is an `Err` as much as a parse error (exit 1). The `Err` carries
/// promtool's output.
///
/// # Panics
///
/// If promtool cannot be run; the message says how to install it.
pub fn promtool_check(text: &str) -> Result<(), String> {
    let promtool = std::env::var_os(PROMTOOL_ENV).map_or_else(|| "promtool".into(), PathBuf::from);
    let output = match run(&promtool, &["check", "metrics"], text) {
        Ok(output) => output,
        Err(error) => panic!(
            "cannot run promtool ({}: {error}); {PROMTOOL_ENV} names it, else PATH is searched. \
             To install it, {INSTALL_HELP}",
            promtool.display()
        ),
    };
    let mut report = String::from_utf8_lossy(&output.stdout).into_owned();
    report.push_str(&String::from_utf8_lossy(&output.stderr));
    if output.status.success() && report.trim().is_empty() {
        Ok(())
    } else {
        Err(format!(
            "promtool check metrics: {}: {}",
            output.status,
            report.trim()
        ))
    }
}

/// Parses an OpenMetrics 1.0 exposition with `prometheus_client`'s strict parser
/// (`prometheus_client.openmetrics.parser.text_string_to_metric_families`).
///
/// The `Err` carries the parser's message, such as "Clashing name: foo_total".
///
/// # Panics
///
/// If the Python with `prometheus-client` cannot be run; the message says how to
/// install it.
pub fn openmetrics_parse(text: &str) -> Result<Vec<Family>, String> {
    parse("openmetrics", text)
}

/// Parses a text format 0.0.4 exposition with `prometheus_client`'s lenient parser
/// (`prometheus_client.parser.text_string_to_metric_families`), to compare values;
/// [`promtool_check`] is the strict check for this format.
///
/// # Panics
///
/// As [`openmetrics_parse`].
pub fn text_parse(text: &str) -> Result<Vec<Family>, String> {
    parse("text", text)
}

/// What Python `prometheus_client`'s own `ProcessCollector` exposes in a fresh
/// registry, in the text format 0.0.4 (`generate_latest`), run by the validators'
/// Python on this machine: the reference for torchlight's process metrics.
///
/// # Panics
///
/// As [`openmetrics_parse`], and when the script fails.
#[must_use]
pub fn prometheus_client_process_exposition() -> String {
    const SCRIPT: &str = "import sys\n\
        from prometheus_client import CollectorRegistry, generate_latest\n\
        from prometheus_client.process_collector import ProcessCollector\n\
        registry = CollectorRegistry()\n\
        ProcessCollector(registry=registry)\n\
        sys.stdout.write(generate_latest(registry).decode())\n";
    python_output(&["-c", SCRIPT], "prometheus_client's ProcessCollector")
}

/// What `prometheus_client` 0.26's `choose_encoder(accept)` answers for the families
/// of `tests/tests/suite/names.rs` (an OpenTelemetry-style counter, histogram and
/// gauge beside a legacy gauge): its `Content-Type` and body, run by the validators'
/// Python on this machine, the reference for how each scheme writes names.
///
/// # Panics
///
/// As [`openmetrics_parse`], and when the script fails.
#[must_use]
pub fn prometheus_client_names(accept: &str) -> (String, String) {
    const SCRIPT: &str = "import sys\n\
        from prometheus_client import CollectorRegistry\n\
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily\n\
        from prometheus_client.exposition import choose_encoder\n\
        class Families:\n\
        \x20   def collect(self):\n\
        \x20       c = CounterMetricFamily('http.server.requests', 'Requests.', labels=['code', 'http.request.method'])\n\
        \x20       c.add_metric(['200', 'GET'], 3)\n\
        \x20       yield c\n\
        \x20       h = HistogramMetricFamily('http.server.duration', 'Time.', labels=['url.scheme'])\n\
        \x20       h.add_metric(['http'], [('0.5', 1), ('2.5', 1), ('+Inf', 2)], 3.0)\n\
        \x20       yield h\n\
        \x20       g = GaugeMetricFamily('legacy_level', 'Plain.', labels=['a'])\n\
        \x20       g.add_metric(['x'], 2)\n\
        \x20       yield g\n\
        \x20       g = GaugeMetricFamily('\u{fc}nits', 'Unicode.', labels=['\u{f6}.k'])\n\
        \x20       g.add_metric(['v'], 1)\n\
        \x20       yield g\n\
        registry = CollectorRegistry()\n\
        registry.register(Families())\n\
        encoder, content_type = choose_encoder(sys.argv[1])\n\
        sys.stdout.write(content_type + '\\n' + encoder(registry).decode())\n";
    let text = python_output(
        &["-c", SCRIPT, accept],
        "prometheus_client's choose_encoder",
    );
    let (content_type, body) = text.split_once('\n').unwrap_or((&text, ""));
    (content_type.to_owned(), body.to_owned())
}

/// What `prometheus_client` 0.26 writes in OpenMetrics for the families of
/// `tests/tests/suite/created.rs` (a counter `jobs` at 3, a histogram
/// `latency_seconds` with bounds 1 and 2 over 0.5, 1.5 and 3, a summary `sizes` over 1
/// and 2), all created at `created` (Unix seconds; the script fixes `time.time`): the
/// reference for `_created` samples, which Python always writes.
///
/// # Panics
///
/// As [`openmetrics_parse`], and when the script fails.
#[must_use]
pub fn prometheus_client_created(created: f64) -> String {
    const SCRIPT: &str = "import sys, time\n\
        created = float(sys.argv[1])\n\
        time.time = lambda: created\n\
        from prometheus_client import CollectorRegistry, Counter, Histogram, Summary\n\
        from prometheus_client.openmetrics.exposition import generate_latest\n\
        registry = CollectorRegistry()\n\
        Counter('jobs', 'Jobs run.', registry=registry).inc(3)\n\
        h = Histogram('latency_seconds', 'Latency.', unit='seconds', buckets=[1.0, 2.0], registry=registry)\n\
        [h.observe(v) for v in (0.5, 1.5, 3.0)]\n\
        s = Summary('sizes', 'Sizes.', registry=registry)\n\
        s.observe(1.0)\n\
        s.observe(2.0)\n\
        sys.stdout.write(generate_latest(registry).decode())\n";
    let created = created.to_string();
    python_output(
        &["-c", SCRIPT, &created],
        "prometheus_client's generate_latest",
    )
}

/// Runs the validators' Python with `args` and `stdin`; panics, saying how to install
/// it, when it cannot be started.
fn run_python(args: &[&str], stdin: &str) -> Output {
    let python = python();
    match run(&python, args, stdin) {
        Ok(output) => output,
        Err(error) => panic!(
            "cannot run the validators' Python ({}: {error}); {PYTHON_ENV} names it, else \
             target/validators-venv is used. To install it, {INSTALL_HELP}",
            python.display()
        ),
    }
}

/// What the validators' Python prints when run with `args` (a script and its
/// arguments, no input); panics with its error output when `what` failed.
fn python_output(args: &[&str], what: &str) -> String {
    let output = run_python(args, "");
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The Python to run the parse script with.
fn python() -> PathBuf {
    std::env::var_os(PYTHON_ENV).map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target/validators-venv/bin/python")
        },
        PathBuf::from,
    )
}

/// Runs the parse script in `mode` (`openmetrics` or `text`) on `text`.
fn parse(mode: &str, text: &str) -> Result<Vec<Family>, String> {
    let output = run_python(&["-c", PARSE_SCRIPT, mode], text);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the prometheus_client parse script failed ({}): {stderr}\nIf prometheus_client is \
         missing, {INSTALL_HELP}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json: serde_json::Value = match serde_json::from_str(&stdout) {
        Ok(json) => json,
        Err(error) => panic!("the parse script printed invalid JSON ({error}): {stdout}"),
    };
    if let Some(error) = json.get("error") {
        return Err(error.as_str().unwrap_or_default().to_owned());
    }
    match json.get("families").and_then(serde_json::Value::as_array) {
        Some(families) => Ok(families.iter().map(family).collect()),
        None => panic!("the parse script printed neither families nor an error: {stdout}"),
    }
}

/// A [`Family`] from the script's JSON.
fn family(json: &serde_json::Value) -> Family {
    let samples = json["samples"].as_array().map_or(&[][..], Vec::as_slice);
    Family {
        name: string(&json["name"]),
        type_: string(&json["type"]),
        unit: string(&json["unit"]),
        help: string(&json["help"]),
        samples: samples.iter().map(sample).collect(),
    }
}

/// A [`Sample`] from the script's JSON.
fn sample(json: &serde_json::Value) -> Sample {
    Sample {
        name: string(&json["name"]),
        labels: labels(&json["labels"]),
        value: number(&json["value"]),
        exemplar: json
            .get("exemplar")
            .filter(|exemplar| !exemplar.is_null())
            .map(|exemplar| Exemplar {
                labels: labels(&exemplar["labels"]),
                value: number(&exemplar["value"]),
                timestamp: (!exemplar["timestamp"].is_null())
                    .then(|| number(&exemplar["timestamp"])),
            }),
    }
}

/// A JSON object of strings as a label map.
fn labels(json: &serde_json::Value) -> BTreeMap<String, String> {
    json.as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(name, value)| (name.clone(), string(value)))
                .collect()
        })
        .unwrap_or_default()
}

/// A number the script printed as a string.
fn number(json: &serde_json::Value) -> f64 {
    let value = string(json);
    match parse_value(&value) {
        Some(parsed) => parsed,
        None => panic!("the parse script printed an unreadable value {value:?}"),
    }
}

/// A JSON string's text; the script writes only strings where this is used.
fn string(json: &serde_json::Value) -> String {
    json.as_str().unwrap_or_default().to_owned()
}

/// A sample value as Python's `repr(float)` or the exposition formats spell it.
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// Runs `program` with `args`, `stdin` written to it from another thread (so a large
/// body cannot deadlock against a full output pipe), and collects its output.
fn run(program: &Path, args: &[&str], stdin: &str) -> io::Result<Output> {
    let mut child = Command::new(program)
        .args(args.iter().map(OsStr::new))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut pipe = child.stdin.take();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || match pipe.as_mut() {
            // A validator that stops reading early closes the pipe; its exit status
            // and output then say why, so a broken pipe is not an error here.
            Some(pipe) => match pipe.write_all(stdin.as_bytes()) {
                Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(error),
                _ => Ok(()),
            },
            None => Ok(()),
        });
        let output = child.wait_with_output();
        match writer.join() {
            Ok(Ok(())) => output,
            Ok(Err(error)) => Err(error),
            Err(_) => Err(io::Error::other("the stdin writer thread panicked")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_value;

    #[test]
    fn values_parse_in_every_spelling() {
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert!(parse_value("nan").is_some_and(f64::is_nan));
        assert!(parse_value("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_value("1e-07"), Some(1e-7));
        assert_eq!(parse_value("0.1"), Some(0.1));
        assert_eq!(parse_value("1.7976931348623157e+308"), Some(f64::MAX));
        assert_eq!(parse_value("junk"), None);
    }
}
