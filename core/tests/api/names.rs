//! UTF-8 names: what each escaping scheme writes in each format (golden bytes; the
//! same families checked against `prometheus_client` 0.26 and the strict parsers in
//! `tests/tests/suite/validators.rs`), the content types that name the scheme, and
//! the names a registry refuses because a scheme would write them alike.
#![cfg(all(feature = "std", not(loom)))]

use std::sync::Arc;

use crate::client_model::{self as pb, decode_all};
use torchlight::{
    Buckets, Counter, DynFamily, Escaping, Exposition, Family, Format, Gauge, Histogram, Metric,
    NameValidation, RegisterError, Registry,
};

static BOUNDS: Buckets<2> = Buckets::new([0.5, 2.5]);

/// OpenTelemetry-style families beside a legacy one.
fn registry() -> Registry {
    let registry = Registry::new();
    let requests = Arc::new(Metric::new(
        "http.server.requests",
        "Requests.",
        Family::new(["code", "http.request.method"], Counter::new),
    ));
    requests.get_or_create(["200", "GET"]).inc_by(3);
    registry.register_owned(requests).expect("registers");
    let duration = Arc::new(Metric::new(
        "http.server.duration",
        "Time.",
        DynFamily::new(["url.scheme"], || Histogram::with_buckets(&BOUNDS)).expect("valid names"),
    ));
    let child = duration.get_or_create(&["http"]).expect("one value");
    child.observe(0.25);
    child.observe(2.75);
    registry.register_owned(duration).expect("registers");
    let legacy = Arc::new(Metric::new(
        "legacy_gauge",
        "Plain.",
        Family::new(["a"], Gauge::new),
    ));
    legacy.get_or_create(["x"]).set(2);
    registry.register_owned(legacy).expect("registers");
    let units = Arc::new(Metric::new(
        "ünits",
        "Unicode.",
        Family::new(["ö.k"], Gauge::new),
    ));
    units.get_or_create(["v"]).set(1);
    registry.register_owned(units).expect("registers");
    registry
}

fn text(registry: &Registry, exposition: impl Into<Exposition>) -> String {
    let mut body = Vec::new();
    registry.encode_to(&mut body, exposition).expect("encodes");
    String::from_utf8(body).expect("UTF-8")
}

const TEXT_UNDERSCORES: &str = r#"# HELP http_server_requests_total Requests.
# TYPE http_server_requests_total counter
http_server_requests_total{code="200",http_request_method="GET"} 3
# HELP http_server_duration Time.
# TYPE http_server_duration histogram
http_server_duration_bucket{url_scheme="http",le="0.5"} 1
http_server_duration_bucket{url_scheme="http",le="2.5"} 1
http_server_duration_bucket{url_scheme="http",le="+Inf"} 2
http_server_duration_sum{url_scheme="http"} 3
http_server_duration_count{url_scheme="http"} 2
# HELP legacy_gauge Plain.
# TYPE legacy_gauge gauge
legacy_gauge{a="x"} 2
# HELP _nits Unicode.
# TYPE _nits gauge
_nits{__k="v"} 1
"#;

const TEXT_ALLOW_UTF8: &str = r#"# HELP "http.server.requests_total" Requests.
# TYPE "http.server.requests_total" counter
{"http.server.requests_total",code="200","http.request.method"="GET"} 3
# HELP "http.server.duration" Time.
# TYPE "http.server.duration" histogram
{"http.server.duration_bucket","url.scheme"="http",le="0.5"} 1
{"http.server.duration_bucket","url.scheme"="http",le="2.5"} 1
{"http.server.duration_bucket","url.scheme"="http",le="+Inf"} 2
{"http.server.duration_sum","url.scheme"="http"} 3
{"http.server.duration_count","url.scheme"="http"} 2
# HELP legacy_gauge Plain.
# TYPE legacy_gauge gauge
legacy_gauge{a="x"} 2
# HELP "ünits" Unicode.
# TYPE "ünits" gauge
{"ünits","ö.k"="v"} 1
"#;

const OPEN_METRICS_ALLOW_UTF8: &str = r#"# HELP "http.server.requests" Requests.
# TYPE "http.server.requests" counter
{"http.server.requests_total",code="200","http.request.method"="GET"} 3.0
# HELP "http.server.duration" Time.
# TYPE "http.server.duration" histogram
{"http.server.duration_bucket","url.scheme"="http",le="0.5"} 1
{"http.server.duration_bucket","url.scheme"="http",le="2.5"} 1
{"http.server.duration_bucket","url.scheme"="http",le="+Inf"} 2
{"http.server.duration_sum","url.scheme"="http"} 3.0
{"http.server.duration_count","url.scheme"="http"} 2
# HELP legacy_gauge Plain.
# TYPE legacy_gauge gauge
legacy_gauge{a="x"} 2.0
# HELP "ünits" Unicode.
# TYPE "ünits" gauge
{"ünits","ö.k"="v"} 1.0
# EOF
"#;

const OPEN_METRICS_UNDERSCORES: &str = r#"# HELP http_server_requests Requests.
# TYPE http_server_requests counter
http_server_requests_total{code="200",http_request_method="GET"} 3.0
# HELP http_server_duration Time.
# TYPE http_server_duration histogram
http_server_duration_bucket{url_scheme="http",le="0.5"} 1
http_server_duration_bucket{url_scheme="http",le="2.5"} 1
http_server_duration_bucket{url_scheme="http",le="+Inf"} 2
http_server_duration_sum{url_scheme="http"} 3.0
http_server_duration_count{url_scheme="http"} 2
# HELP legacy_gauge Plain.
# TYPE legacy_gauge gauge
legacy_gauge{a="x"} 2.0
# HELP _nits Unicode.
# TYPE _nits gauge
_nits{__k="v"} 1.0
# EOF
"#;

const TEXT_DOTS: &str = r#"# HELP http_dot_server_dot_requests_total Requests.
# TYPE http_dot_server_dot_requests_total counter
http_dot_server_dot_requests_total{code="200",http_dot_request_dot_method="GET"} 3
# HELP http_dot_server_dot_duration Time.
# TYPE http_dot_server_dot_duration histogram
http_dot_server_dot_duration_bucket{url_dot_scheme="http",le="0.5"} 1
http_dot_server_dot_duration_bucket{url_dot_scheme="http",le="2.5"} 1
http_dot_server_dot_duration_bucket{url_dot_scheme="http",le="+Inf"} 2
http_dot_server_dot_duration_sum{url_dot_scheme="http"} 3
http_dot_server_dot_duration_count{url_dot_scheme="http"} 2
# HELP legacy_gauge Plain.
# TYPE legacy_gauge gauge
legacy_gauge{a="x"} 2
# HELP __nits Unicode.
# TYPE __nits gauge
__nits{___dot_k="v"} 1
"#;

const OPEN_METRICS_VALUES: &str = r#"# HELP U__http_2e_server_2e_requests Requests.
# TYPE U__http_2e_server_2e_requests counter
U__http_2e_server_2e_requests_total{code="200",U__http_2e_request_2e_method="GET"} 3.0
# HELP U__http_2e_server_2e_duration Time.
# TYPE U__http_2e_server_2e_duration histogram
U__http_2e_server_2e_duration_bucket{U__url_2e_scheme="http",le="0.5"} 1
U__http_2e_server_2e_duration_bucket{U__url_2e_scheme="http",le="2.5"} 1
U__http_2e_server_2e_duration_bucket{U__url_2e_scheme="http",le="+Inf"} 2
U__http_2e_server_2e_duration_sum{U__url_2e_scheme="http"} 3.0
U__http_2e_server_2e_duration_count{U__url_2e_scheme="http"} 2
# HELP legacy_gauge Plain.
# TYPE legacy_gauge gauge
legacy_gauge{a="x"} 2.0
# HELP U___fc_nits Unicode.
# TYPE U___fc_nits gauge
U___fc_nits{U___f6__2e_k="v"} 1.0
# EOF
"#;

/// Each scheme in each text format: names as `prometheus_client` 0.26 writes them,
/// but for two rules where this follows client_golang: a legacy name is never changed
/// (Python writes `legacy__gauge` under `dots`), and under `dots` and `values` a
/// type's suffix follows the escaped family name (`…_dot_duration_bucket`, where
/// Python writes `…_dot_duration__bucket` under a `# TYPE …_dot_duration`).
#[test]
fn each_scheme_in_each_text_format() {
    let registry = registry();
    for (exposition, expected) in [
        (Exposition::from(Format::Text), TEXT_UNDERSCORES),
        (
            Format::Text.with_escaping(Escaping::Underscores),
            TEXT_UNDERSCORES,
        ),
        (
            Format::Text.with_escaping(Escaping::AllowUtf8),
            TEXT_ALLOW_UTF8,
        ),
        (
            Format::OpenMetrics.with_escaping(Escaping::AllowUtf8),
            OPEN_METRICS_ALLOW_UTF8,
        ),
        (Format::OpenMetrics.into(), OPEN_METRICS_UNDERSCORES),
        (Format::Text.with_escaping(Escaping::Dots), TEXT_DOTS),
        (
            Format::OpenMetrics.with_escaping(Escaping::Values),
            OPEN_METRICS_VALUES,
        ),
    ] {
        assert_eq!(text(&registry, exposition), expected, "{exposition:?}");
    }
}

#[test]
fn content_types_name_version_and_scheme() {
    // Nothing negotiated: the bytes a Prometheus 2 scraper always got.
    assert_eq!(
        Exposition::from(Format::Text).content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(
        Exposition::from(Format::OpenMetrics).content_type(),
        Format::OpenMetrics.content_type()
    );
    assert_eq!(
        Format::Text
            .with_escaping(Escaping::AllowUtf8)
            .content_type(),
        "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
    );
    assert_eq!(
        Format::OpenMetrics
            .with_escaping(Escaping::Dots)
            .content_type(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=dots"
    );
    assert_eq!(
        Format::Protobuf
            .with_escaping(Escaping::Values)
            .content_type(),
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; \
         encoding=delimited; escaping=values"
    );
    for scheme in [
        Escaping::AllowUtf8,
        Escaping::Underscores,
        Escaping::Dots,
        Escaping::Values,
    ] {
        assert_eq!(Escaping::from_param(scheme.as_str()), Some(scheme));
    }
    assert_eq!(Escaping::from_param("UTF-8"), None);
    assert_eq!(Escaping::default(), Escaping::Underscores);
}

/// Protobuf carries names unquoted: as they are under `allow-utf-8`, escaped under
/// the other schemes, decoded with prost.
#[test]
fn protobuf_names_are_escaped_like_text() {
    let registry = registry();
    let names = |exposition: Exposition| {
        let mut body = Vec::new();
        registry.encode_to(&mut body, exposition).unwrap();
        decode_all(&body)
            .into_iter()
            .map(|family: pb::MetricFamily| {
                let labels: Vec<String> = family.metric[0]
                    .label
                    .iter()
                    .map(|pair| pair.name.clone().unwrap_or_default())
                    .collect();
                (family.name.unwrap_or_default(), labels)
            })
            .collect::<Vec<_>>()
    };
    let owned = |list: &[(&str, &[&str])]| {
        list.iter()
            .map(|(name, labels)| {
                let labels = labels.iter().map(ToString::to_string).collect::<Vec<_>>();
                (name.to_string(), labels)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(Format::Protobuf.with_escaping(Escaping::AllowUtf8)),
        owned(&[
            (
                "http.server.requests_total",
                &["code", "http.request.method"]
            ),
            ("http.server.duration", &["url.scheme"]),
            ("legacy_gauge", &["a"]),
            ("ünits", &["ö.k"]),
        ])
    );
    assert_eq!(
        names(Format::Protobuf.into()),
        owned(&[
            (
                "http_server_requests_total",
                &["code", "http_request_method"]
            ),
            ("http_server_duration", &["url_scheme"]),
            ("legacy_gauge", &["a"]),
            ("_nits", &["__k"]),
        ])
    );
    assert_eq!(
        names(Format::Protobuf.with_escaping(Escaping::Values)),
        owned(&[
            (
                "U__http_2e_server_2e_requests_total",
                &["code", "U__http_2e_request_2e_method"]
            ),
            ("U__http_2e_server_2e_duration", &["U__url_2e_scheme"]),
            ("legacy_gauge", &["a"]),
            ("U___fc_nits", &["U___f6__2e_k"]),
        ])
    );
}

/// `a.b` and `a_b` are one name to a scraper that asked for `underscores`: the second
/// is refused, whichever comes first, as are label names that escape alike.
#[test]
fn names_that_escape_alike_are_refused() {
    let registry = Registry::new();
    let dotted = Arc::new(Metric::new("a.b", "", Counter::new()));
    let plain = Arc::new(Metric::new("a_b", "", Counter::new()));
    let total = Arc::new(Metric::new("a_b_total", "", Gauge::new()));
    let by_value = Arc::new(Metric::new("U__a_2e_b", "", Gauge::new()));
    registry.register_owned(dotted).unwrap();
    let clash = |name| {
        Err(RegisterError::Clash {
            name,
            existing: "a.b",
        })
    };
    assert_eq!(registry.register_owned(plain), clash("a_b"));
    assert_eq!(registry.register_owned(total), clash("a_b_total"));
    assert_eq!(registry.register_owned(by_value), clash("U__a_2e_b"));
    let labels = Arc::new(Metric::new(
        "l",
        "",
        Family::new(["a.b", "a_b"], Gauge::new),
    ));
    assert_eq!(
        registry.register_owned(labels),
        Err(RegisterError::DuplicateLabelName {
            name: "l",
            label: "a_b"
        })
    );
    let overflow = Arc::new(Metric::new(
        "o",
        "",
        Family::new(["otel.metric.overflow"], Gauge::new),
    ));
    assert!(matches!(
        registry.register_owned(overflow),
        Err(RegisterError::ReservedLabelName { .. })
    ));
    let message = RegisterError::Clash {
        name: "a_b",
        existing: "a.b",
    }
    .to_string();
    assert!(message.contains("escaping"), "{message}");
}

#[test]
fn legacy_registries_keep_the_old_grammar() {
    let registry = Registry::legacy();
    assert_eq!(registry.name_validation(), NameValidation::Legacy);
    assert_eq!(Registry::new().name_validation(), NameValidation::Utf8);
    let dotted = Arc::new(Metric::new("a.b", "", Counter::new()));
    assert_eq!(
        registry.register_owned(dotted),
        Err(RegisterError::InvalidName { name: "a.b" })
    );
    let labels = Arc::new(Metric::new("m", "", Family::new(["a.b"], Gauge::new)));
    assert_eq!(
        registry.register_owned(labels),
        Err(RegisterError::InvalidLabelName {
            name: "m",
            label: "a.b"
        })
    );
    // Empty names and `__` label names are refused everywhere.
    let empty = Arc::new(Metric::new("", "", Counter::new()));
    assert_eq!(
        Registry::new().register_owned(empty),
        Err(RegisterError::InvalidName { name: "" })
    );
}
