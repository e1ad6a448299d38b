//! The exposure protocol's public behaviour: routing, negotiation, gzip, HEAD.

use std::io::Read;

use torchlight::{Counter, Format, Metric, Registry};
use torchlight_server::exposure::{Request, Target, accepts_gzip, negotiate, negotiate_exposition};

/// Prometheus 2.42's default `Accept` (captured on the wire; `scrapeAcceptHeader` in its
/// `scrape/scrape.go`).
const PROMETHEUS_2: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// Prometheus 2.42 with `--enable-feature=native-histograms`: protobuf first.
const PROMETHEUS_2_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// Prometheus 3.x's default `Accept` (content-negotiation doc).
const PROMETHEUS_3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
/// Python `prometheus_async`'s `test_server_stats_openmetrics` header.
const PYTHON_TEST: &str =
    "application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// A browser's `Accept`.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[test]
fn negotiation_matrix() {
    use Format::{OpenMetrics as Om, Protobuf as Pb, Text};
    let cases: &[(Option<&str>, Format)] = &[
        (None, Text),
        (Some(""), Text),
        (Some(" , ,"), Text),
        (Some(PROMETHEUS_2), Om),
        (Some(PROMETHEUS_2_NATIVE), Pb),
        (Some(PROMETHEUS_3), Om),
        (Some(PYTHON_TEST), Om),
        (Some(BROWSER), Text),
        (Some("*/*"), Text),
        (Some("text/plain"), Text),
        (Some("text/plain;version=0.0.4"), Text),
        (Some("text/plain;version=1.0.0"), Text),
        (Some("application/openmetrics-text"), Om),
        (Some("Application/OpenMetrics-Text; Version=1.0.0"), Om),
        (Some("APPLICATION/OPENMETRICS-TEXT"), Om),
        (Some(r#"application/openmetrics-text; version="1.0.0""#), Om),
        (Some("application/openmetrics-text;version=2.0.0"), Text),
        (Some("application/*"), Om),
        (Some("text/*;q=0.5, application/*"), Om),
        (Some("application/*;q=0.5, text/*"), Text),
        // q=0 means "not acceptable".
        (Some("application/openmetrics-text;q=0"), Text),
        (Some("application/openmetrics-text;q=0, text/plain"), Text),
        (Some("application/openmetrics-text;q=0, */*"), Text),
        (Some("*/*;q=0.1, application/openmetrics-text;q=0.2"), Om),
        (Some("application/openmetrics-text;q=0.5, */*"), Text),
        (
            Some("text/plain;q=0, application/openmetrics-text;q=0.001"),
            Om,
        ),
        // The more specific range decides, wherever it stands.
        (
            Some("application/*;q=1, application/openmetrics-text;q=0"),
            Text,
        ),
        (
            Some(
                "application/openmetrics-text;version=1.0.0;q=0.9, application/openmetrics-text;q=0.1, text/plain;q=0.5",
            ),
            Om,
        ),
        // Equal qualities: the first listed wins.
        (Some("application/openmetrics-text, text/plain"), Om),
        (Some("text/plain, application/openmetrics-text"), Text),
        // ... unless a wildcard decided for one format and a named range for the other:
        // the named one wins (found by the `exposure` fuzz target: `*/*,text/plain`
        // gave OpenMetrics, where `*/*` and `text/plain` alone each give text).
        (Some("*/*,text/plain"), Text),
        (Some("*/*, application/openmetrics-text"), Om),
        (Some("application/*, text/plain"), Text),
        (Some("text/*, application/openmetrics-text"), Om),
        (
            Some("application/openmetrics-text, text/plain;version=0.0.4"),
            Om,
        ),
        // Malformed elements are skipped, not fatal.
        (
            Some("garbage, application/openmetrics-text;q=1.5, application/openmetrics-text;q=0.3"),
            Om,
        ),
        (Some("application/openmetrics-text;q=abc"), Text),
        (
            Some(
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
            ),
            Pb,
        ),
        (
            Some(
                r#"Application/Vnd.Google.Protobuf; Proto="io.prometheus.client.MetricFamily"; Encoding=delimited"#,
            ),
            Pb,
        ),
        // Only the delimited encoding of client_model's `MetricFamily` is served.
        (
            Some(
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
            ),
            Text,
        ),
        (
            Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily"),
            Text,
        ),
        (
            Some("application/vnd.google.protobuf;proto=other.Message;encoding=delimited"),
            Text,
        ),
        (Some("application/vnd.google.protobuf"), Text),
        // Wildcards never select the binary format.
        (Some("application/*"), Om),
        // q-values still decide.
        (
            Some(
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text",
            ),
            Om,
        ),
        (
            Some(
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0,text/plain;q=0.1",
            ),
            Text,
        ),
        (
            Some(
                "text/plain, application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
            ),
            Text,
        ),
    ];
    for (accept, expected) in cases {
        assert_eq!(negotiate(*accept), *expected, "Accept: {accept:?}");
    }
}

#[test]
fn gzip_matrix() {
    let cases: &[(Option<&str>, bool)] = &[
        (None, false),
        (Some(""), false),
        (Some("gzip"), true),
        (Some("GZip"), true),
        (Some("x-gzip"), true),
        (Some("gzip, deflate, br"), true),
        (Some("deflate, br"), false),
        (Some("gzip;q=0"), false),
        (Some("gzip;q=0.5"), true),
        (Some("gzip;q=0.5, identity"), false),
        (Some("gzip, identity;q=0.5"), true),
        (Some("gzip;q=1, identity;q=1"), true),
        (Some("gzip, identity;q=0"), true),
        (Some("identity;q=0"), false),
        (Some("*"), true),
        (Some("*;q=0"), false),
        (Some("*, gzip;q=0"), false),
        (Some("*;q=0.5, gzip;q=0.3"), false),
        (Some("*;q=0.3, gzip;q=0.5"), true),
        (Some("gzip;q=bogus"), false),
    ];
    for (accept_encoding, expected) in cases {
        assert_eq!(
            accepts_gzip(*accept_encoding),
            *expected,
            "Accept-Encoding: {accept_encoding:?}"
        );
    }
}

static SCRAPES: Metric<Counter> = Metric::new("scrapes", "Scrapes seen.", Counter::new());

fn registry() -> &'static Registry {
    static REGISTRY: Registry = Registry::new();
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| REGISTRY.register(&SCRAPES).expect("registers once"));
    &REGISTRY
}

#[test]
fn routes_and_methods() {
    let registry = registry();
    let cases: &[(&str, &str, u16, Option<&str>)] = &[
        (
            "GET",
            "/metrics",
            200,
            Some("text/plain; version=0.0.4; charset=utf-8"),
        ),
        (
            "GET",
            "/metrics?name[]=x",
            200,
            Some("text/plain; version=0.0.4; charset=utf-8"),
        ),
        (
            "HEAD",
            "/metrics",
            200,
            Some("text/plain; version=0.0.4; charset=utf-8"),
        ),
        ("GET", "/", 200, Some("text/html; charset=utf-8")),
        ("GET", "/?x=1", 200, Some("text/html; charset=utf-8")),
        ("HEAD", "/", 200, Some("text/html; charset=utf-8")),
        ("POST", "/metrics", 405, Some("text/plain; charset=utf-8")),
        ("PUT", "/", 405, Some("text/plain; charset=utf-8")),
        (
            "OPTIONS",
            "/metrics",
            405,
            Some("text/plain; charset=utf-8"),
        ),
        ("get", "/metrics", 405, Some("text/plain; charset=utf-8")),
        ("GET", "/metrics/", 404, Some("text/plain; charset=utf-8")),
        (
            "GET",
            "/favicon.ico",
            404,
            Some("text/plain; charset=utf-8"),
        ),
        ("POST", "/nope", 404, Some("text/plain; charset=utf-8")),
        ("GET", "", 404, Some("text/plain; charset=utf-8")),
    ];
    for &(method, path, status, content_type) in cases {
        let response = Request::new(method, path).route().respond(registry);
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(
            response.header("content-type"),
            content_type,
            "{method} {path}"
        );
        assert_eq!(
            response.header("allow"),
            (status == 405).then_some("GET, HEAD"),
            "{method} {path}"
        );
    }
    let page = Request::new("GET", "/").route().respond(registry);
    assert_eq!(
        page.body(),
        br#"<html><body><a href="/metrics">Metrics</a></body></html>"#
    );
    let not_found = Request::new("GET", "/x").route().respond(registry);
    assert_eq!(not_found.body(), b"404: Not Found");
    let not_allowed = Request::new("DELETE", "/").route().respond(registry);
    assert_eq!(not_allowed.body(), b"405: Method Not Allowed");
}

#[test]
fn head_has_get_headers_and_no_body() {
    let registry = registry();
    for path in ["/", "/metrics", "/missing"] {
        for accept_encoding in [None, Some("gzip")] {
            let get = Request::new("GET", path)
                .with_accept_encoding(accept_encoding)
                .route();
            let head = Request::new("HEAD", path)
                .with_accept_encoding(accept_encoding)
                .route();
            assert!(head.is_head() && !get.is_head());
            let (get, head) = (get.respond(registry), head.respond(registry));
            assert_eq!(head.status(), get.status());
            assert_eq!(head.headers(), get.headers());
            assert_eq!(head.content_length(), get.body().len());
            assert_eq!(get.content_length(), get.body().len());
            assert!(head.body().is_empty());
        }
    }
}

#[test]
fn exposition_is_negotiated_and_gzipped() {
    let registry = registry();
    for (accept, format) in [
        (Some(PROMETHEUS_2), Format::OpenMetrics),
        (None, Format::Text),
    ] {
        let mut expected = String::new();
        registry.encode(&mut expected, format).unwrap();

        let route = Request::new("GET", "/metrics")
            .with_accept(accept)
            .with_accept_encoding(Some("gzip"))
            .route();
        assert_eq!(
            route.target(),
            Target::Exposition {
                format: format.into(),
                gzip: true
            }
        );
        assert!(route.encodes());
        let response = route.respond(registry);
        assert_eq!(response.header("content-type"), Some(format.content_type()));
        assert_eq!(response.header("content-encoding"), Some("gzip"));
        assert_eq!(response.header("vary"), Some("Accept, Accept-Encoding"));
        assert_eq!(&response.body()[..2], [0x1f, 0x8b], "gzip magic");
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(response.body())
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, expected);

        let plain = Request::new("GET", "/metrics")
            .with_accept(accept)
            .route()
            .respond(registry);
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(plain.body(), expected.as_bytes());
    }
    assert!(!Request::new("GET", "/").route().encodes());
}

#[test]
fn a_failing_collector_gives_500() {
    use torchlight::{Collect, Encoder, MetricType};
    struct Broken;
    impl Collect for Broken {
        fn metric_type(&self) -> MetricType {
            MetricType::Gauge
        }
        fn encode(&self, _: &mut Encoder<'_>) -> std::fmt::Result {
            Err(std::fmt::Error)
        }
    }
    static BROKEN: Metric<Broken> = Metric::new("broken", "Fails.", Broken);
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    registry.register(&BROKEN).unwrap();
    let response = Request::new("GET", "/metrics").route().respond(registry);
    assert_eq!(response.status(), 500);
    assert_eq!(response.body(), b"500: Internal Server Error");
}

/// The `escaping` term (Prometheus' "Content negotiation" and "UTF-8 metric and label
/// name escaping schemes"): Prometheus 3 gets UTF-8 names, Prometheus 2 (no term)
/// today's bytes and `Content-Type`; answers as `prometheus_client` 0.26's
/// `choose_encoder` gives them, but for OpenMetrics without a term, which keeps
/// today's `Content-Type` (Python appends `; escaping=underscores`).
#[test]
fn escaping_is_negotiated() {
    const PROMETHEUS_3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,\
        application/openmetrics-text;version=0.0.1;q=0.4,\
        text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,\
        text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
    const PROMETHEUS_3_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8;q=0.6,\
        application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.1";
    let cases: &[(Option<&str>, &str)] = &[
        (None, "text/plain; version=0.0.4; charset=utf-8"),
        (
            Some(PROMETHEUS_2),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
        (
            Some(PROMETHEUS_3),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        ),
        (
            Some(PROMETHEUS_3_NATIVE),
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8",
        ),
        (
            Some("text/plain;version=1.0.0;escaping=allow-utf-8"),
            "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        ),
        (
            Some("text/plain;version=1.0.0"),
            "text/plain; version=1.0.0; charset=utf-8; escaping=underscores",
        ),
        (
            Some("text/plain;version=1.0.0;escaping=bogus"),
            "text/plain; version=1.0.0; charset=utf-8; escaping=underscores",
        ),
        (
            Some("text/plain;version=1.0.0;escaping=dots"),
            "text/plain; version=1.0.0; charset=utf-8; escaping=dots",
        ),
        (
            Some("application/openmetrics-text;version=1.0.0;escaping=values"),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=values",
        ),
        (
            Some("application/openmetrics-text;version=1.0.0;escaping=underscores"),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores",
        ),
        // Text 0.0.4 cannot carry quoted names: its term is not read.
        (
            Some("text/plain;version=0.0.4;escaping=allow-utf-8"),
            "text/plain; version=0.0.4; charset=utf-8",
        ),
        (
            Some("*/*;escaping=allow-utf-8"),
            "text/plain; version=0.0.4; charset=utf-8",
        ),
    ];
    for (accept, content_type) in cases {
        let route = Request::new("GET", "/metrics").with_accept(*accept).route();
        let Target::Exposition { format, .. } = route.target() else {
            panic!("{accept:?} routed elsewhere");
        };
        assert_eq!(format.content_type(), *content_type, "Accept: {accept:?}");
        assert_eq!(negotiate_exposition(*accept), format);
    }
}

proptest::proptest! {
    /// Header parsing is total: any bytes a client sends give an answer, no panic.
    #[test]
    fn any_header_value_is_answered(accept in ".{0,200}", accept_encoding in ".{0,100}") {
        let _ = negotiate(Some(&accept));
        let _ = accepts_gzip(Some(&accept_encoding));
        let route = Request::new("GET", "/metrics")
            .with_accept(Some(&accept))
            .with_accept_encoding(Some(&accept_encoding))
            .route();
        proptest::prop_assert!(route.encodes());
    }

    /// Every qvalue spelling (0, 0.x, 0.xx, 0.xxx, 1, 1.000) is read and compared
    /// exactly; equal qualities go to the range listed first.
    #[test]
    fn q_values_decide(open_metrics in 0u16..=1000, text in 0u16..=1000) {
        let q = |n: u16| match n {
            1000 => "1.000".to_owned(),
            0 => "0".to_owned(),
            n if n % 100 == 0 => format!("0.{}", n / 100),
            n => format!("0.{n:03}"),
        };
        let accept = format!("application/openmetrics-text;q={}, text/plain;q={}", q(open_metrics), q(text));
        let expected = if open_metrics > 0 && open_metrics >= text { Format::OpenMetrics } else { Format::Text };
        proptest::prop_assert_eq!(negotiate(Some(&accept)), expected, "{}", accept);

        let accept_encoding = format!("gzip;q={}, identity;q={}", q(open_metrics), q(text));
        proptest::prop_assert_eq!(accepts_gzip(Some(&accept_encoding)), open_metrics > 0 && open_metrics >= text);
    }
}
