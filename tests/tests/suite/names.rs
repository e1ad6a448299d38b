//! UTF-8 names against the references: for each scheme a scraper can negotiate, the
//! `Content-Type` and the names torchlight writes are what `prometheus_client` 0.26's
//! `choose_encoder` writes for the same families, and the strict parsers (Python's
//! OpenMetrics parser, promtool for what a Prometheus 2 scraper gets) read them.
//!
//! Compared: every `#` line, and each counter and gauge sample up to its value (values
//! are written as each library writes them; histogram samples differ in label order,
//! `le` last as client_golang writes it, first in Python's sorted labels).

use std::sync::Arc;

use torchlight::{Buckets, Counter, DynFamily, Family, Gauge, Histogram, Metric, Registry};
use torchlight_smol::exposure::negotiate_exposition;
use torchlight_tests::{openmetrics_parse, prometheus_client_names, promtool_check};

static BOUNDS: Buckets<2> = Buckets::new([0.5, 2.5]);

/// The families of `prometheus_client_names`' script.
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
        DynFamily::new(["url.scheme"], || Histogram::with_buckets(&BOUNDS)).expect("names"),
    ));
    let child = duration.get_or_create(&["http"]).expect("one value");
    child.observe(0.25);
    child.observe(2.75);
    registry.register_owned(duration).expect("registers");
    let legacy = Arc::new(Metric::new(
        "legacy_level",
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

/// The lines compared: `#` lines whole, other samples without their value, histogram
/// samples left out.
fn comparable(body: &str) -> Vec<String> {
    body.lines()
        .filter(|line| {
            line.starts_with('#')
                || !["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| line.contains(s))
        })
        .map(|line| match line.starts_with('#') {
            true => line.to_owned(),
            false => line
                .rsplit_once(' ')
                .map_or(line, |(name, _)| name)
                .to_owned(),
        })
        .collect()
}

#[test]
fn each_negotiated_scheme_names_what_prometheus_client_names() {
    let registry = registry();
    for accept in [
        "text/plain;version=1.0.0;escaping=allow-utf-8",
        "text/plain;version=1.0.0;escaping=underscores",
        "text/plain;version=1.0.0",
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8",
        "application/openmetrics-text;version=1.0.0;escaping=underscores",
        "text/plain;version=0.0.4",
        "",
    ] {
        let exposition = negotiate_exposition(Some(accept));
        let mut body = Vec::new();
        registry.encode_to(&mut body, exposition).expect("encodes");
        let body = String::from_utf8(body).expect("UTF-8");
        let (content_type, reference) = prometheus_client_names(accept);
        assert_eq!(
            exposition.content_type(),
            content_type,
            "Accept: {accept:?}"
        );
        assert_eq!(
            comparable(&body),
            comparable(&reference),
            "Accept: {accept:?}\n{body}"
        );
    }
}

#[test]
fn the_strict_parsers_read_every_scheme() {
    let registry = registry();
    // Prometheus 3's first choice: quoted UTF-8 names in OpenMetrics.
    let prometheus_3 = negotiate_exposition(Some(
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.1",
    ));
    let mut body = Vec::new();
    registry
        .encode_to(&mut body, prometheus_3)
        .expect("encodes");
    let families = openmetrics_parse(std::str::from_utf8(&body).expect("UTF-8"))
        .unwrap_or_else(|error| panic!("{error}"));
    let names: Vec<&str> = families.iter().map(|family| family.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "http.server.requests",
            "http.server.duration",
            "legacy_level",
            "ünits"
        ]
    );
    assert!(
        families[0].samples[0]
            .labels
            .contains_key("http.request.method")
    );
    // What a Prometheus 2 scraper gets (no term): legacy names promtool accepts.
    let mut body = String::new();
    registry
        .encode(&mut body, negotiate_exposition(None))
        .expect("encodes");
    assert!(
        body.contains("http_server_requests_total{code=\"200\",http_request_method=\"GET\"} 3")
    );
    promtool_check(&body).unwrap_or_else(|error| panic!("{error}\n{body}"));
}
