//! The targets [`crate::TARGETS`] lists; each panics when a property fails.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use arbitrary::{Result, Unstructured};
use num_bigint::BigUint;
use prost::Message;
use torchlight::{Escaping, Exposition, Format, NativeHistogram, RemoteWrite};
use torchlight_server::WebConfig;
use torchlight_server::consul::{AgentAddress, ConsulAgent, Response};
use torchlight_server::discovery::ServerInfo;
use torchlight_server::exposure::{
    Credentials, Request, Target, accepts_gzip, negotiate, negotiate_exposition,
};

use crate::exposition::{self, Syntax};
use crate::model::{self, Built, Kind, Sample, le, same};

// The core's tests' hand-written prost mirrors of the messages, shared rather than
// copied: client_model (the protobuf exposition), prompb (remote write), OTLP.
#[allow(missing_docs, unreachable_pub, clippy::all)]
#[path = "../../core/tests/api/client_model.rs"]
mod client_model;
#[allow(missing_docs, unreachable_pub, clippy::all)]
#[path = "../../core/tests/api/otlp_proto.rs"]
mod otlp_proto;
#[allow(missing_docs, unreachable_pub, clippy::all)]
#[path = "../../core/tests/api/prompb.rs"]
mod prompb;

/// Pieces the header generators splice in, so short runs reach the interesting
/// branches (libFuzzer's comparison tracing finds more).
const HEADER_PIECES: &[&str] = &[
    "application/openmetrics-text",
    "text/plain",
    "application/vnd.google.protobuf",
    "proto=io.prometheus.client.MetricFamily",
    "encoding=delimited",
    "version=1.0.0",
    "version=0.0.1",
    "version=0.0.4",
    "escaping=allow-utf-8",
    "escaping=underscores",
    "escaping=dots",
    "escaping=values",
    "q=0",
    "q=0.5",
    "q=1",
    "*/*",
    "gzip",
    "identity",
    "*",
    ";",
    ",",
    " ",
    "\"",
];

/// A header value: pieces of [`HEADER_PIECES`] and the fuzzer's strings.
fn header(u: &mut Unstructured<'_>) -> Result<String> {
    let mut value = String::new();
    for _ in 0..u.int_in_range(0..=8)? {
        if u.ratio(2, 3)? {
            value.push_str(u.choose(HEADER_PIECES)?);
        } else {
            value.push_str(u.arbitrary::<&str>()?);
        }
    }
    Ok(value)
}

/// RFC 4648 §4 base64 with padding, written here independently of the server's
/// decoder.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Routing, content negotiation and the `Authorization` header.
pub(crate) fn exposure(data: &[u8]) {
    let _ = exposure_checked(&mut Unstructured::new(data));
}

fn exposure_checked(u: &mut Unstructured<'_>) -> Result<()> {
    let method = if u.ratio(3, 4)? {
        (*u.choose(&["GET", "HEAD", "POST", "get", "PUT"])?).to_owned()
    } else {
        u.arbitrary()?
    };
    let path = if u.ratio(3, 4)? {
        format!(
            "{}{}",
            u.choose(&["/metrics", "/", "/x", ""])?,
            u.arbitrary::<&str>()?
        )
    } else {
        u.arbitrary()?
    };
    let accept = u.arbitrary::<bool>()?.then(|| header(u)).transpose()?;
    let encoding = u.arbitrary::<bool>()?.then(|| header(u)).transpose()?;

    let exposition = negotiate_exposition(accept.as_deref());
    assert_eq!(negotiate(accept.as_deref()), exposition.format());
    let lower = accept.as_deref().unwrap_or_default().to_ascii_lowercase();
    match exposition.format() {
        Format::Text => {}
        // OpenMetrics is also `application/*` and `*/*`; protobuf only by name.
        Format::OpenMetrics => assert!(
            lower.contains("openmetrics") || lower.contains('*'),
            "{accept:?}"
        ),
        Format::Protobuf => assert!(lower.contains("protobuf"), "{accept:?}"),
        other => panic!("a format the fuzz target does not know: {other:?}"),
    }
    let scheme = exposition.escaping();
    if scheme != Escaping::Underscores {
        assert!(
            lower.contains(&format!("escaping={scheme}")),
            "{accept:?} gave {scheme}"
        );
    }
    let gzip = accepts_gzip(encoding.as_deref());
    if gzip {
        let lower = encoding.as_deref().unwrap_or_default().to_ascii_lowercase();
        assert!(
            lower.contains("gzip") || lower.contains('*'),
            "{encoding:?}"
        );
    }

    let route = Request::new(&method, &path)
        .with_accept(accept.as_deref())
        .with_accept_encoding(encoding.as_deref())
        .route();
    let bare = path.split('?').next().unwrap_or_default();
    let allowed = method == "GET" || method == "HEAD";
    assert_eq!(route.is_head(), method == "HEAD");
    let expected = match (bare, allowed) {
        ("/metrics", true) => Target::Exposition {
            format: exposition,
            gzip,
        },
        ("/", true) => Target::Page,
        ("/metrics" | "/", false) => Target::MethodNotAllowed,
        _ => Target::NotFound,
    };
    assert_eq!(route.target(), expected, "{method:?} {path:?}");

    // Any header value: what parses must parse again from its own encoding.
    let authorization = if u.ratio(1, 2)? {
        format!(
            "{} {}",
            u.choose(&["Basic", "basic", "BASIC", "Bearer"])?,
            base64(u.arbitrary::<&[u8]>()?)
        )
    } else {
        u.arbitrary()?
    };
    if let Some(credentials) = Credentials::parse(&authorization) {
        let again = format!(
            "Basic {}",
            base64(format!("{}:{}", credentials.user(), credentials.password()).as_bytes())
        );
        assert!(
            Credentials::parse(&again) == Some(credentials),
            "{authorization:?}"
        );
    }
    // Any user without `:` and any password round-trip.
    let user: String = u.arbitrary::<String>()?.replace(':', "");
    let password: String = u.arbitrary()?;
    let header = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
    let parsed = Credentials::parse(&header).expect("a well-formed Basic header");
    assert_eq!(
        (parsed.user(), parsed.password()),
        (user.as_str(), password.as_str())
    );
    Ok(())
}

/// exporter-toolkit's web configuration file: any text is a configuration or an error.
pub(crate) fn web_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A folder that does not exist: certificate files named in the text are unreadable
    // (an error, never a read of the fuzzing machine's files).
    let Ok(config) = WebConfig::from_yaml(text, Path::new("/nonexistent/torchlight-fuzz")) else {
        return;
    };
    assert!(config.tls().is_none(), "no certificate file can be read");
    if let Some(users) = config.basic_auth_users() {
        for user in users.users() {
            assert!(
                text.contains(user.trim_matches(|c: char| c.is_whitespace())),
                "{user:?}"
            );
        }
    }
}

/// The Consul agent's answers (an HTTP/1.x response parser), agent addresses, and the
/// JSON and HTTP framing of the registration.
pub(crate) fn consul(data: &[u8]) {
    let _ = consul_checked(&mut Unstructured::new(data));
}

fn consul_checked(u: &mut Unstructured<'_>) -> Result<()> {
    let answer: &[u8] = u.arbitrary()?;
    let whole = Response::parse(answer, false);
    let at_eof = Response::parse(answer, true);
    if let Ok(Some(response)) = &whole {
        assert_eq!(
            at_eof.as_ref().ok(),
            Some(&Some(response.clone())),
            "{answer:?}"
        );
    }
    if !answer.is_empty() {
        let split = u.choose_index(answer.len())?;
        if let (Ok(Some(early)), Ok(Some(late))) =
            (Response::parse(&answer[..split], false), &whole)
        {
            assert_eq!(&early, late, "a prefix of {answer:?} answered differently");
        }
    }

    let address: &str = u.arbitrary()?;
    if let Ok(parsed) = AgentAddress::parse(address, "fuzz") {
        let again = AgentAddress::parse(&parsed.to_string(), "fuzz")
            .unwrap_or_else(|error| panic!("{address:?} → {parsed} → {error}"));
        assert_eq!((again.host(), again.port()), (parsed.host(), parsed.port()));
    }

    let name: String = u.arbitrary()?;
    let id: String = u.arbitrary()?;
    let tags: Vec<String> = u.arbitrary()?;
    let meta: BTreeMap<String, String> = u.arbitrary()?;
    let host: String = u.arbitrary()?;
    let token: String = u.arbitrary()?;
    let mut agent = ConsulAgent::with_environment(|_| None)
        .with_name(name.clone())
        .with_service_id(id.clone())
        .with_tags(tags.clone())
        .with_token(token);
    for (key, value) in &meta {
        agent = agent.with_meta(key.clone(), value.clone());
    }
    let server = ServerInfo::new(SocketAddr::from(([127, 0, 0, 1], 9464)))
        .with_advertised_address(host.clone());
    let Ok(body) = agent.register_body(&server) else {
        return Ok(());
    };
    let json: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|error| panic!("{body:?}: {error}"));
    assert_eq!(json["Name"], name.as_str());
    assert_eq!(json["ID"], agent.service_id());
    let read_tags: Vec<String> = match &json["Tags"] {
        serde_json::Value::Null => Vec::new(),
        other => serde_json::from_value(other.clone()).expect("tags are strings"),
    };
    assert_eq!(read_tags, tags);
    let read_meta: BTreeMap<String, String> = match &json["Meta"] {
        serde_json::Value::Null => BTreeMap::new(),
        other => serde_json::from_value(other.clone()).expect("meta are strings"),
    };
    assert_eq!(read_meta, meta);
    if let Ok(request) = agent.register_request(&server) {
        let bytes = request.to_bytes();
        let head_end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a head");
        let head = String::from_utf8_lossy(&bytes[..head_end]);
        // Every header the request sets is one line of its own: nothing a setting
        // holds can start another header or end the head early.
        for line in head.split("\r\n").skip(1) {
            let name = line.split_once(": ").map(|(name, _)| name);
            assert!(
                matches!(
                    name,
                    Some(
                        "Host"
                            | "User-Agent"
                            | "Content-Type"
                            | "X-Consul-Token"
                            | "Content-Length"
                            | "Connection"
                    )
                ) && !line.contains(['\r', '\n']),
                "{head:?}"
            );
        }
        assert_eq!(&bytes[head_end + 4..], body.as_bytes());
    }
    Ok(())
}

/// The name grammars, against the specifications' rules.
pub(crate) fn names(data: &[u8]) {
    let Ok(name) = std::str::from_utf8(data) else {
        return;
    };
    let legacy = |label: bool| {
        !name.is_empty()
            && name.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic()
                    || c == '_'
                    || (c == ':' && !label)
                    || (i > 0 && c.is_ascii_digit())
            })
    };
    let reserved = name.starts_with("__");
    use torchlight::NameValidation::{Legacy, Utf8};
    assert_eq!(Legacy.is_metric_name(name), legacy(false), "{name:?}");
    assert_eq!(
        Legacy.is_label_name(name),
        legacy(true) && !reserved,
        "{name:?}"
    );
    assert_eq!(Utf8.is_metric_name(name), !name.is_empty(), "{name:?}");
    assert_eq!(
        Utf8.is_label_name(name),
        !name.is_empty() && !reserved,
        "{name:?}"
    );
    assert_eq!(
        Escaping::from_param(name).map(Escaping::as_str),
        ["allow-utf-8", "underscores", "dots", "values"]
            .into_iter()
            .find(|scheme| *scheme == name)
    );
}

/// The expositions a round trip reads back: text 0.0.4 (`underscores`, the old content
/// type), text 1.0.0 and OpenMetrics under each scheme.
fn expositions() -> Vec<(Exposition, Escaping, Syntax)> {
    let mut all = vec![(
        Exposition::from(Format::Text),
        Escaping::Underscores,
        Syntax::Text,
    )];
    for scheme in [
        Escaping::AllowUtf8,
        Escaping::Underscores,
        Escaping::Dots,
        Escaping::Values,
    ] {
        all.push((Format::Text.with_escaping(scheme), scheme, Syntax::Text));
        all.push((
            Format::OpenMetrics.with_escaping(scheme),
            scheme,
            Syntax::OpenMetrics,
        ));
    }
    all.push((
        Exposition::from(Format::OpenMetrics),
        Escaping::Underscores,
        Syntax::OpenMetrics,
    ));
    all
}

/// Sorts samples so two lists compare regardless of series order.
fn sorted(mut samples: Vec<Sample>) -> Vec<Sample> {
    samples.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    samples
}

/// `samples` with every `le` that reads as a float written as [`le`] writes it: the
/// formats spell bounds differently (`1`, `1.0`, `1e+06`), and a gauge may carry an
/// `le` label of its own, which is then normalised alike on both sides.
fn normalised(samples: Vec<Sample>) -> Vec<Sample> {
    samples
        .into_iter()
        .map(|mut sample| {
            let bound = sample
                .labels
                .get("le")
                .and_then(|value| value.parse::<f64>().ok());
            if let Some(bound) = bound {
                sample.labels.insert("le".to_owned(), le(bound));
            }
            sample
        })
        .collect()
}

/// Whether two sample lists hold the same series with the same values.
fn assert_same(expected: Vec<Sample>, got: Vec<Sample>, what: &dyn std::fmt::Display) {
    let (expected, got) = (sorted(normalised(expected)), sorted(normalised(got)));
    let equal = expected.len() == got.len()
        && expected
            .iter()
            .zip(&got)
            .all(|(a, b)| a.name == b.name && a.labels == b.labels && same(a.value, b.value));
    assert!(equal, "{what}:\nexpected {expected:#?}\ngot {got:#?}");
}

/// The text formats read back by the independent reader, OpenMetrics strictly checked.
pub(crate) fn text(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let sum_safe = u.arbitrary().unwrap_or(true);
    let Ok(Built { registry, families }) = model::build(&mut u, sum_safe) else {
        return;
    };
    for (exposition, scheme, syntax) in expositions() {
        let mut body = Vec::new();
        registry
            .encode_to(&mut body, exposition)
            .expect("encodes into a Vec");
        let text = String::from_utf8(body).expect("the text formats are UTF-8");
        let parsed = exposition::parse(&text, syntax)
            .unwrap_or_else(|error| panic!("{exposition:?}: {error}\n{text}"));
        let what = format!("{exposition:?}\n{text}");
        assert_same(
            families
                .iter()
                .flat_map(|family| family.samples(scheme))
                .collect(),
            parsed
                .samples
                .iter()
                .map(|(_, sample, _)| sample.clone())
                .collect(),
            &what,
        );
        for family in &families {
            let name = model::escape(family.family, scheme, false);
            let described = match (syntax, family.kind) {
                // Text 0.0.4 names a counter's family with its `_total`.
                (Syntax::Text, Kind::Counter) => format!("{name}_total"),
                _ => name,
            };
            let meta = parsed
                .families
                .iter()
                .find(|(name, _)| *name == described)
                .map(|(_, meta)| meta)
                .unwrap_or_else(|| panic!("no metadata for {described:?}: {what}"));
            // An empty help is left out, as Go's `expfmt` leaves out a nil one.
            assert_eq!(meta.help.as_deref().unwrap_or(""), family.help, "{what}");
        }
        let negative = families.iter().any(|family| {
            family.children.values().any(|value| {
                matches!(value, model::Value::Histogram { sum, .. } if sum.is_nan() || *sum < 0.0)
            })
        });
        let reserved = families.iter().any(|family| family.reserved_label(scheme));
        if syntax == Syntax::OpenMetrics && !negative && !reserved {
            exposition::check_openmetrics(&parsed)
                .unwrap_or_else(|error| panic!("{error}: {what}"));
        }
    }
}

/// The protobuf exposition decoded by prost.
pub(crate) fn protobuf(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(Built { registry, families }) = model::build(&mut u, false) else {
        return;
    };
    let mut body = Vec::new();
    registry
        .encode_to(
            &mut body,
            Format::Protobuf.with_escaping(Escaping::AllowUtf8),
        )
        .expect("encodes into a Vec");
    let decoded = client_model::decode_all(&body);
    // A family without series is no `MetricFamily` (client_golang's gatherer drops
    // them too).
    let written: Vec<&model::Family> = families.iter().filter(|f| !f.children.is_empty()).collect();
    assert_eq!(decoded.len(), written.len());
    let mut got = Vec::new();
    for (family, message) in written.iter().zip(&decoded) {
        assert_eq!(message.help.as_deref().unwrap_or(""), family.help);
        let name = message.name.clone().unwrap_or_default();
        for metric in &message.metric {
            let labels: BTreeMap<String, String> = metric
                .label
                .iter()
                .map(|pair| {
                    (
                        pair.name.clone().unwrap_or_default(),
                        pair.value.clone().unwrap_or_default(),
                    )
                })
                .collect();
            let mut push = |suffix: &str, bound: Option<f64>, value: f64| {
                let mut labels = labels.clone();
                if let Some(bound) = bound {
                    labels.insert("le".to_owned(), le(bound));
                }
                got.push(Sample {
                    name: format!("{name}{suffix}"),
                    labels,
                    value,
                });
            };
            if let Some(counter) = &metric.counter {
                // client_model names a counter's family with its `_total`.
                push("", None, counter.value.unwrap_or_default());
            } else if let Some(gauge) = &metric.gauge {
                push("", None, gauge.value.unwrap_or_default());
            } else if let Some(histogram) = &metric.histogram {
                for bucket in &histogram.bucket {
                    #[allow(clippy::cast_precision_loss)]
                    push(
                        "_bucket",
                        bucket.upper_bound,
                        bucket.cumulative_count.unwrap_or_default() as f64,
                    );
                }
                #[allow(clippy::cast_precision_loss)]
                let count = histogram.sample_count.unwrap_or_default() as f64;
                // client_model leaves `+Inf` out: it is the count.
                if histogram.bucket.last().and_then(|b| b.upper_bound) != Some(f64::INFINITY) {
                    push("_bucket", Some(f64::INFINITY), count);
                }
                push("_sum", None, histogram.sample_sum.unwrap_or_default());
                push("_count", None, count);
            } else {
                panic!("a metric without a value: {metric:?}");
            }
        }
    }
    assert_same(
        families
            .iter()
            .flat_map(|family| family.samples(Escaping::AllowUtf8))
            .collect(),
        got,
        &"protobuf",
    );
}

/// Labels with empty values left out, as remote write and OTLP leave them.
fn without_empty(samples: Vec<Sample>) -> Vec<Sample> {
    samples
        .into_iter()
        .map(|mut sample| {
            sample.labels.retain(|_, value| !value.is_empty());
            sample
        })
        .collect()
}

/// Snappy through `snap`, remote write and OTLP through prost.
pub(crate) fn push(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(raw) = u.arbitrary::<&[u8]>() else {
        return;
    };
    let mut compressed = Vec::new();
    torchlight::snappy_compress(raw, &mut compressed).expect("compresses into a Vec");
    let back = snap::raw::Decoder::new()
        .decompress_vec(&compressed)
        .unwrap_or_else(|error| panic!("snap cannot read the block of {raw:?}: {error}"));
    assert_eq!(back, raw);

    let Ok(Built { registry, families }) = model::build(&mut u, false) else {
        return;
    };
    let expected = without_empty(
        families
            .iter()
            .flat_map(|family| family.samples(Escaping::AllowUtf8))
            .collect(),
    );
    let mut body = Vec::new();
    registry
        .encode_write_request(&mut body, &RemoteWrite::new(1_700_000_000_000))
        .expect("encodes into a Vec");
    let request = prompb::WriteRequest::decode(body.as_slice()).expect("prost decodes it");
    let mut got = Vec::new();
    for series in &request.timeseries {
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        let names: Vec<&str> = series
            .labels
            .iter()
            .map(|label| label.name.as_str())
            .collect();
        let mut in_order = names.clone();
        in_order.sort_unstable();
        in_order.dedup();
        assert_eq!(names, in_order, "labels sorted and unique");
        for label in &series.labels {
            assert!(!label.value.is_empty(), "an empty label value");
            labels.insert(label.name.clone(), label.value.clone());
        }
        let name = labels.remove("__name__").expect("every series is named");
        assert_eq!(series.samples.len(), 1);
        got.push(Sample {
            name,
            labels,
            value: series.samples[0].value,
        });
    }
    assert_same(expected.clone(), got, &"remote write");

    let mut body = Vec::new();
    registry
        .encode_otlp(&mut body, &torchlight::Otlp::new(2_000, 1_000))
        .expect("encodes into a Vec");
    let request =
        otlp_proto::ExportMetricsServiceRequest::decode(body.as_slice()).expect("prost decodes it");
    let mut got = Vec::new();
    let metrics: Vec<&otlp_proto::Metric> = request
        .resource_metrics
        .iter()
        .flat_map(|resource| &resource.scope_metrics)
        .flat_map(|scope| &scope.metrics)
        .collect();
    // As in the protobuf exposition, a family without series has no `Metric`.
    assert_eq!(
        metrics.len(),
        families.iter().filter(|f| !f.children.is_empty()).count()
    );
    let attributes = |attributes: &[otlp_proto::KeyValue]| -> BTreeMap<String, String> {
        attributes
            .iter()
            .map(|kv| {
                let value = match kv.value.as_ref().and_then(|v| v.value.clone()) {
                    Some(otlp_proto::any_value::Value::StringValue(s)) => s,
                    other => panic!("a label as {other:?}"),
                };
                (kv.key.clone(), value)
            })
            .collect()
    };
    let number = |value: Option<otlp_proto::Value>| match value {
        Some(otlp_proto::Value::AsDouble(x)) => x,
        #[allow(clippy::cast_precision_loss)]
        Some(otlp_proto::Value::AsInt(n)) => n as f64,
        None => panic!("a point without a value"),
    };
    let mut expected_otlp = expected;
    for metric in metrics {
        match &metric.data {
            Some(otlp_proto::Data::Sum(sum)) => {
                for point in &sum.data_points {
                    got.push(Sample {
                        name: format!("{}_total", metric.name),
                        labels: attributes(&point.attributes),
                        value: number(point.value),
                    });
                }
            }
            Some(otlp_proto::Data::Gauge(gauge)) => {
                for point in &gauge.data_points {
                    got.push(Sample {
                        name: metric.name.clone(),
                        labels: attributes(&point.attributes),
                        value: number(point.value),
                    });
                }
            }
            Some(otlp_proto::Data::Histogram(histogram)) => {
                for point in &histogram.data_points {
                    let labels = attributes(&point.attributes);
                    let mut cumulative = 0;
                    let bounds = point.explicit_bounds.iter().chain([&f64::INFINITY]);
                    for (count, bound) in point.bucket_counts.iter().zip(bounds) {
                        cumulative += count;
                        let mut labels = labels.clone();
                        labels.insert("le".to_owned(), le(*bound));
                        #[allow(clippy::cast_precision_loss)]
                        got.push(Sample {
                            name: format!("{}_bucket", metric.name),
                            labels,
                            value: cumulative as f64,
                        });
                    }
                    assert_eq!(cumulative, point.count);
                    let sum_name = format!("{}_sum", metric.name);
                    match point.sum {
                        Some(sum) => got.push(Sample {
                            name: sum_name,
                            labels: labels.clone(),
                            value: sum,
                        }),
                        // OTLP leaves a sum out where it would not be a counter.
                        None => expected_otlp
                            .retain(|sample| !(sample.name == sum_name && sample.labels == labels)),
                    }
                    #[allow(clippy::cast_precision_loss)]
                    got.push(Sample {
                        name: format!("{}_count", metric.name),
                        labels,
                        value: point.count as f64,
                    });
                }
            }
            other => panic!("a metric the model has no kind for: {other:?}"),
        }
    }
    assert_same(expected_otlp, got, &"OTLP");
}

/// The native histogram's buckets against an exact model.
pub(crate) fn native(data: &[u8]) {
    let _ = native_checked(&mut Unstructured::new(data));
}

/// The exact index of finite `v > 0` at `schema`: the smallest `i` with
/// `v <= 2^(i·2^-schema)`. With `v = m·2^e` (`m` an odd-or-not integer below 2^53),
/// `v^(2^schema) = m^(2^schema)·2^(e·2^schema)`, compared with `2^i` as big integers
/// for schemas above 0; for the others `i = ceil(ceil(log2 v) / 2^-schema)`.
fn exact_index(v: f64, schema: i8) -> i64 {
    let bits = v.to_bits();
    let exponent_bits = i64::try_from((bits >> 52) & 0x7ff).expect("11 bits");
    let fraction = bits & ((1 << 52) - 1);
    let (m, e) = if exponent_bits == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, exponent_bits - 1075)
    };
    let shift = i64::from(m.trailing_zeros());
    let (m, e) = (m >> shift, e + shift);
    if schema <= 0 {
        // log2 v = log2 m + e: exact when m is 1, otherwise ceil is bits(m) + e.
        let ceil_log2 = if m == 1 {
            e
        } else {
            i64::from(64 - m.leading_zeros()) + e
        };
        let width = 1i64 << -schema;
        return ceil_log2.div_euclid(width) + i64::from(ceil_log2.rem_euclid(width) != 0);
    }
    let mut power = BigUint::from(m);
    for _ in 0..schema {
        power = &power * &power;
    }
    let bits = i64::try_from(power.bits()).expect("a few thousand bits");
    // m^(2^s) ≤ 2^t: t ≥ bits − 1 when it is a power of two (m = 1), else t ≥ bits.
    let t = if m == 1 { bits - 1 } else { bits };
    e * (1i64 << schema) + t
}

fn native_checked(u: &mut Unstructured<'_>) -> Result<()> {
    let factor = if u.ratio(3, 4)? {
        *u.choose(&[
            1.0001, 1.003, 1.01, 1.1, 1.5, 2.0, 4.0, 16.0, 256.0, 65536.0,
        ])?
    } else {
        1.0 + f64::from(u.int_in_range(1u32..=1_000_000)?) * 1e-3
    };
    let histogram = NativeHistogram::<8>::new(factor);
    let mut values = Vec::new();
    for _ in 0..u.int_in_range(0..=40)? {
        let v = if u.ratio(1, 2)? {
            model::float(u)?
        } else {
            // Near bucket boundaries: powers of two and their neighbours.
            let base = 2f64.powf(f64::from(u.int_in_range(-2000i32..=2000)?) / 256.0);
            let nudge = u.int_in_range(-2i64..=2)?;
            f64::from_bits(base.to_bits().wrapping_add_signed(nudge))
        };
        histogram.observe(v);
        values.push(v);
    }
    let snapshot = histogram.snapshot();
    let schema = snapshot.schema();
    assert_eq!(snapshot.count(), values.len() as u64);
    let threshold = snapshot.zero_threshold();
    let zero = values.iter().filter(|v| v.abs() <= threshold).count() as u64;
    assert_eq!(snapshot.zero_count(), zero);
    // Per side: counts each value is sure of, and values within 8 ulps of a boundary,
    // which the float table of client_golang (which the core follows) may put on
    // either side: its entries are up to 3.8 ulps off the exact powers of two.
    for negative in [false, true] {
        let mut sure: BTreeMap<i64, u64> = BTreeMap::new();
        let mut unsure: Vec<(i64, i64)> = Vec::new();
        for &v in &values {
            if v.is_nan() || v.abs() <= threshold || (v < 0.0) != negative {
                continue;
            }
            let abs = v.abs();
            let (low, high) = if abs.is_infinite() {
                let top = exact_index(f64::MAX, schema) + 1;
                (top, top)
            } else {
                let below = f64::from_bits(abs.to_bits().saturating_sub(8)).max(f64::from_bits(1));
                let above = f64::from_bits(abs.to_bits() + 8).min(f64::MAX);
                (exact_index(below, schema), exact_index(above, schema))
            };
            if low == high {
                *sure.entry(low).or_default() += 1;
            } else {
                unsure.push((low, high));
            }
        }
        let got: BTreeMap<i64, u64> = if negative {
            snapshot
                .negative()
                .map(|(i, n)| (i64::from(i), n))
                .collect()
        } else {
            snapshot
                .positive()
                .map(|(i, n)| (i64::from(i), n))
                .collect()
        };
        let total: u64 = got.values().sum();
        assert_eq!(
            total,
            sure.values().sum::<u64>() + unsure.len() as u64,
            "schema {schema}, values {values:?}"
        );
        for (index, count) in &got {
            let least = sure.get(index).copied().unwrap_or(0);
            let most = least
                + unsure
                    .iter()
                    .filter(|(low, high)| low <= index && index <= high)
                    .count() as u64;
            assert!(
                (least..=most).contains(count),
                "bucket {index} at schema {schema} holds {count}, the model {least}..={most}: {values:?}"
            );
        }
        for (index, count) in &sure {
            assert!(
                got.get(index).is_some_and(|got| got >= count),
                "bucket {index} at schema {schema} lost observations: {values:?}"
            );
        }
    }
    let buckets = snapshot.positive().count() + snapshot.negative().count();
    // The bound gives way only at schema −4, the coarsest, which may need more.
    assert!(
        buckets <= 8 || schema == -4,
        "{buckets} buckets past the bound of 8 at schema {schema}: {values:?}"
    );
    Ok(())
}
