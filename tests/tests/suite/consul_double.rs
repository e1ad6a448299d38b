//! The Consul agent double answers as Consul does (Consul's "Service - Agent HTTP API"
//! and `agent/agent_endpoint.go`, as `tests/src/consul.rs` lists): these tests speak raw
//! HTTP/1.1 to it, independently of the client code under test elsewhere.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use torchlight_tests::consul::{ConsulDouble, Endpoint, Fault, parse_go_duration};

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

fn parse(raw: &[u8]) -> Answer {
    let text = String::from_utf8(raw.to_vec()).expect("UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// One request on its own connection, `Connection: close`, read to EOF.
fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(raw.as_bytes()).expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read to EOF");
    parse(&answer)
}

fn register(double: &ConsulDouble, body: &str) -> Answer {
    send(
        double.addr(),
        "PUT",
        "/v1/agent/service/register",
        &[],
        body,
    )
}

const GOOD: &str = r#"{"Name":"app-metrics","ID":"m1","Tags":["b","a"],"Address":"127.0.0.1","Port":9464,"Meta":{"version":"1.0","team-name":"x"},"Check":{"HTTP":"http://127.0.0.1:9464/","Interval":"10s","DeregisterCriticalServiceAfter":"90m"}}"#;

#[test]
fn register_stores_and_lists_the_service() {
    let double = ConsulDouble::start().expect("double");
    let answer = register(&double, GOOD);
    assert_eq!((answer.status, answer.body.as_str()), (200, ""));
    assert_eq!(answer.header("content-length"), Some("0"));
    assert_eq!(answer.header("x-consul-default-acl-policy"), Some("allow"));

    let service = &double.services()["m1"];
    assert_eq!((service.name.as_str(), service.port), ("app-metrics", 9464));
    assert_eq!(service.tags, ["b", "a"]);
    let check = service.check.as_ref().expect("a check");
    assert_eq!(check.http, "http://127.0.0.1:9464/");
    assert_eq!(check.interval, Some(Duration::from_secs(10)));
    assert_eq!(
        check.deregister_critical_after,
        Some(Duration::from_secs(5400))
    );

    let listed = send(double.addr(), "GET", "/v1/agent/services", &[], "");
    assert_eq!(listed.header("content-type"), Some("application/json"));
    let listed = listed.json();
    assert_eq!(listed["m1"]["Service"], "app-metrics");
    assert_eq!(listed["m1"]["Address"], "127.0.0.1");
    assert_eq!(listed["m1"]["Port"], 9464);
    assert!(listed["m1"].get("Name").is_none(), "the key is Service");

    // Same id again: replaced, not duplicated. Lower-case keys decode too (Go's json).
    let again = register(
        &double,
        r#"{"name":"renamed","id":"m1","address":"127.0.0.2","port":1,"check":{"http":"http://x/","interval":"1m"}}"#,
    );
    assert_eq!(again.status, 200);
    let services = double.services();
    assert_eq!(services.len(), 1);
    assert_eq!(services["m1"].name, "renamed");

    // ID defaults to Name.
    assert_eq!(register(&double, r#"{"Name":"solo"}"#).status, 200);
    assert!(double.services().contains_key("solo"));

    let agent_self = send(double.addr(), "GET", "/v1/agent/self", &[], "").json();
    assert_eq!(agent_self["Config"]["Datacenter"], "dc1");
}

#[test]
fn wrong_methods_get_405_with_allow() {
    let double = ConsulDouble::start().expect("double");
    for (method, target) in [
        ("POST", "/v1/agent/service/register"),
        ("GET", "/v1/agent/service/register"),
        ("DELETE", "/v1/agent/service/deregister/x"),
    ] {
        let answer = send(double.addr(), method, target, &[], "");
        assert_eq!(answer.status, 405, "{method} {target}");
        assert_eq!(answer.header("allow"), Some("OPTIONS,PUT"));
    }
    let options = send(
        double.addr(),
        "OPTIONS",
        "/v1/agent/service/register",
        &[],
        "",
    );
    assert_eq!(
        (options.status, options.header("allow")),
        (200, Some("OPTIONS,PUT"))
    );
    assert!(double.services().is_empty());
}

#[test]
fn decode_errors_are_400() {
    let double = ConsulDouble::start().expect("double");
    for (body, message) in [
        ("not json", "Request decode failed: "),
        ("[]", "Request decode failed: json: cannot unmarshal array"),
        (
            r#"{"Name":5}"#,
            "Request decode failed: json: cannot unmarshal number",
        ),
        (
            r#"{"Name":"a","Port":"80"}"#,
            "Request decode failed: json: cannot unmarshal string",
        ),
        (
            r#"{"Name":"a","Tags":"t"}"#,
            "Request decode failed: json: cannot unmarshal string",
        ),
        (
            r#"{"Name":"a","Check":{"HTTP":"http://x/","Interval":"10"}}"#,
            "Request decode failed: time: missing unit in duration \"10\"",
        ),
        (
            r#"{"Name":"a","Check":{"HTTP":"http://x/","Interval":"ten"}}"#,
            "Request decode failed: time: invalid duration \"ten\"",
        ),
        (
            r#"{"Name":"a","Check":{"HTTP":"http://x/","Interval":"10q"}}"#,
            "Request decode failed: time: unknown unit \"q\" in duration \"10q\"",
        ),
    ] {
        let answer = register(&double, body);
        assert_eq!(answer.status, 400, "{body}");
        assert!(answer.body.starts_with(message), "{body}: {}", answer.body);
    }
    assert!(double.services().is_empty());
}

#[test]
fn validation_errors_are_400_with_consuls_messages() {
    let double = ConsulDouble::start().expect("double");
    for (body, message) in [
        (r#"{"ID":"x","Port":1}"#, "Missing service name"),
        (r#"{"Name":"","Port":1}"#, "Missing service name"),
        (
            r#"{"Name":"a","Address":"0.0.0.0"}"#,
            "Invalid service address",
        ),
        (r#"{"Name":"a","Address":"::"}"#, "Invalid service address"),
        (
            r#"{"Name":"a","Address":"[::]"}"#,
            "Invalid service address",
        ),
        (
            r#"{"Name":"a","Check":{"HTTP":"http://x/"}}"#,
            "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
        ),
        (
            r#"{"Name":"a","Check":{"HTTP":"http://x/","Interval":"0s"}}"#,
            "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
        ),
        (
            r#"{"Name":"a","Check":{"HTTP":"http://x/","Interval":"10s","TTL":"30s"}}"#,
            "Invalid check: Interval and TTL cannot both be specified",
        ),
        (
            r#"{"Name":"a","Check":{}}"#,
            "Invalid check: TTL must be > 0 for TTL checks",
        ),
        (
            r#"{"Name":"a","Check":{"TTL":"30s","Status":"ok"}}"#,
            "Status for checks must 'passing', 'warning', 'critical'",
        ),
    ] {
        let answer = register(&double, body);
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (400, message),
            "{body}"
        );
    }
    assert!(double.services().is_empty());
    // Valid variants of the same: a TTL check, a numeric (nanosecond) interval.
    assert_eq!(
        register(&double, r#"{"Name":"t","Check":{"TTL":"30s"}}"#).status,
        200
    );
    assert_eq!(
        register(
            &double,
            r#"{"Name":"n","Check":{"TCP":"x:1","Interval":1000000000}}"#
        )
        .status,
        200
    );
    assert_eq!(
        double.services()["n"]
            .check
            .as_ref()
            .and_then(|c| c.interval),
        Some(Duration::from_secs(1))
    );
}

#[test]
fn acl_tokens() {
    let double = ConsulDouble::start_with_acl("s3cr3t").expect("double");
    let put =
        |headers: &[(&str, &str)], target: &str| send(double.addr(), "PUT", target, headers, GOOD);
    let missing = put(&[], "/v1/agent/service/register");
    assert_eq!(missing.status, 403);
    assert!(
        missing.body.starts_with("Permission denied: "),
        "{}",
        missing.body
    );
    assert!(
        missing
            .body
            .ends_with("lacks permission 'service:write' on \"app-metrics\"")
    );
    let empty = put(&[("X-Consul-Token", "")], "/v1/agent/service/register");
    assert_eq!(empty.status, 403);
    let wrong = put(&[("X-Consul-Token", "nope")], "/v1/agent/service/register");
    assert_eq!((wrong.status, wrong.body.as_str()), (403, "ACL not found"));
    assert!(double.services().is_empty());

    // Validation comes before the ACL check, as in Consul.
    let bad = send(
        double.addr(),
        "PUT",
        "/v1/agent/service/register",
        &[],
        "{}",
    );
    assert_eq!(
        (bad.status, bad.body.as_str()),
        (400, "Missing service name")
    );

    assert_eq!(
        put(
            &[("x-consul-token", "s3cr3t")],
            "/v1/agent/service/register"
        )
        .status,
        200
    );
    assert_eq!(
        put(
            &[("Authorization", "Bearer s3cr3t")],
            "/v1/agent/service/register"
        )
        .status,
        200
    );
    assert_eq!(
        put(&[], "/v1/agent/service/register?token=s3cr3t").status,
        200
    );

    // Reads: the anonymous token sees nothing, a wrong one is refused.
    let anonymous = send(double.addr(), "GET", "/v1/agent/services", &[], "");
    assert_eq!((anonymous.status, anonymous.json()), (200, json!({})));
    let wrong = send(
        double.addr(),
        "GET",
        "/v1/agent/services",
        &[("X-Consul-Token", "x")],
        "",
    );
    assert_eq!(wrong.status, 403);
    let allowed = send(
        double.addr(),
        "GET",
        "/v1/agent/services",
        &[("X-Consul-Token", "s3cr3t")],
        "",
    );
    assert_eq!(allowed.json()["m1"]["Service"], "app-metrics");

    // Deregistration needs the token too.
    let target = "/v1/agent/service/deregister/m1";
    assert_eq!(send(double.addr(), "PUT", target, &[], "").status, 403);
    assert_eq!(
        send(double.addr(), "PUT", target, &[("X-Consul-Token", "x")], "").status,
        403
    );
    assert!(double.services().contains_key("m1"));
    assert_eq!(
        send(
            double.addr(),
            "PUT",
            target,
            &[("X-Consul-Token", "s3cr3t")],
            ""
        )
        .status,
        200
    );
    assert!(double.services().is_empty());
}

#[test]
fn deregistration() {
    let double = ConsulDouble::start().expect("double");
    let unknown = send(
        double.addr(),
        "PUT",
        "/v1/agent/service/deregister/ghost",
        &[],
        "",
    );
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (
            404,
            "Unknown service ID \"ghost\". Ensure that the service ID is passed, not the service name."
        )
    );
    let body = r#"{"Name":"n","ID":"id/with space"}"#;
    assert_eq!(register(&double, body).status, 200);
    let target = "/v1/agent/service/deregister/id%2Fwith%20space";
    let gone = send(double.addr(), "PUT", target, &[], "");
    assert_eq!((gone.status, gone.body.as_str()), (200, ""));
    assert!(double.services().is_empty());
    // Again: already gone.
    assert_eq!(send(double.addr(), "PUT", target, &[], "").status, 404);
    // Unknown paths.
    let nowhere = send(double.addr(), "GET", "/v1/nowhere", &[], "");
    assert_eq!(
        (nowhere.status, nowhere.body.as_str()),
        (404, "Invalid URL path: not a recognized HTTP API endpoint")
    );
}

#[test]
fn records_every_request() {
    let double = ConsulDouble::start().expect("double");
    send(
        double.addr(),
        "PUT",
        "/v1/agent/service/register?replace-existing-checks",
        &[
            ("X-Consul-Token", "t"),
            ("Content-Type", "application/json"),
        ],
        GOOD,
    );
    send(double.addr(), "POST", "/v1/agent/service/register", &[], "");
    let requests = double.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.method, "PUT");
    assert_eq!(
        first.target,
        "/v1/agent/service/register?replace-existing-checks"
    );
    assert_eq!(first.path(), "/v1/agent/service/register");
    assert_eq!(first.header("x-consul-token"), Some("t"));
    assert_eq!(first.header("CONTENT-TYPE"), Some("application/json"));
    assert_eq!(first.body_text(), GOOD);
    assert_eq!(requests[1].method, "POST");
}

#[test]
fn keeps_connections_alive() {
    let double = ConsulDouble::start().expect("double");
    let mut stream = TcpStream::connect(double.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let request = |body: &str| {
        format!(
            "PUT /v1/agent/service/register HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    // Two requests in one write (pipelined), then a third after the answers.
    let both = request(r#"{"Name":"one"}"#) + &request(r#"{"Name":"two"}"#);
    stream.write_all(both.as_bytes()).expect("write");
    let expected = b"Content-Length: 0\r\n\r\n";
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    while received
        .windows(expected.len())
        .filter(|w| w == expected)
        .count()
        < 2
    {
        let n = stream.read(&mut chunk).expect("read");
        assert_ne!(n, 0, "closed early");
        received.extend_from_slice(&chunk[..n]);
    }
    stream
        .write_all(request(r#"{"Name":"three"}"#).as_bytes())
        .expect("write");
    let n = stream.read(&mut chunk).expect("read");
    assert!(chunk[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert_eq!(double.services().len(), 3);
}

#[test]
fn injected_status_and_delay() {
    let double = ConsulDouble::start().expect("double");
    double.inject(
        Endpoint::Register,
        Fault::Status(500, "rpc error: no leader".to_owned()),
    );
    let answer = register(&double, GOOD);
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (500, "rpc error: no leader")
    );
    assert!(double.services().is_empty());
    assert_eq!(double.requests().len(), 1, "recorded despite the fault");

    double.inject(Endpoint::Register, Fault::Delay(Duration::from_millis(300)));
    let start = Instant::now();
    assert_eq!(register(&double, GOOD).status, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    double.clear_faults();
    // Faults are per endpoint.
    double.inject(Endpoint::Deregister, Fault::Status(503, String::new()));
    assert_eq!(register(&double, GOOD).status, 200);
    let target = "/v1/agent/service/deregister/m1";
    assert_eq!(send(double.addr(), "PUT", target, &[], "").status, 503);
    assert!(double.services().contains_key("m1"));
}

#[test]
fn silent_agent_never_answers_and_stops_when_dropped() {
    let double = ConsulDouble::start().expect("double");
    double.inject(Endpoint::Register, Fault::Silent);
    let mut stream = TcpStream::connect(double.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let raw = format!(
        "PUT /v1/agent/service/register HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{GOOD}",
        GOOD.len()
    );
    stream.write_all(raw.as_bytes()).expect("write");
    let mut buf = [0u8; 64];
    let error = stream.read(&mut buf).expect_err("no answer");
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{error}"
    );
    assert_eq!(double.requests().len(), 1);
    assert!(double.services().is_empty());

    // Dropping stops the threads, the silent connection included, within the bound.
    let addr = double.addr();
    let start = Instant::now();
    drop(double);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    assert_eq!(stream.read(&mut buf).expect("closed"), 0);
    assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
}

#[test]
fn serves_prometheus_http_sd() {
    let double = ConsulDouble::start().expect("double");
    assert_eq!(
        send(double.addr(), "GET", "/prometheus/http_sd", &[], "").json(),
        json!([])
    );
    assert_eq!(register(&double, GOOD).status, 200);
    let v6 = r#"{"Name":"v6","Address":"::1","Port":9100}"#;
    assert_eq!(register(&double, v6).status, 200);
    let answer = send(double.addr(), "GET", "/prometheus/http_sd", &[], "");
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.json(),
        json!([
            {
                "targets": ["127.0.0.1:9464"],
                "labels": {
                    "__meta_consul_service": "app-metrics",
                    "__meta_consul_service_id": "m1",
                    "__meta_consul_service_address": "127.0.0.1",
                    "__meta_consul_service_port": "9464",
                    "__meta_consul_dc": "dc1",
                    "__meta_consul_tags": ",b,a,",
                    "__meta_consul_service_metadata_team_name": "x",
                    "__meta_consul_service_metadata_version": "1.0",
                }
            },
            {
                "targets": ["[::1]:9100"],
                "labels": {
                    "__meta_consul_service": "v6",
                    "__meta_consul_service_id": "v6",
                    "__meta_consul_service_address": "::1",
                    "__meta_consul_service_port": "9100",
                    "__meta_consul_dc": "dc1",
                    "__meta_consul_tags": ",,",
                }
            }
        ])
    );
    assert_eq!(
        double.http_sd_url(),
        format!("http://{}/prometheus/http_sd", double.addr())
    );
}

#[test]
fn go_duration_syntax() {
    for (text, expected) in [
        ("10s", Duration::from_secs(10)),
        ("90m", Duration::from_secs(5400)),
        ("1h30m", Duration::from_secs(5400)),
        ("1.5s", Duration::from_millis(1500)),
        ("2500ms", Duration::from_millis(2500)),
        ("3us", Duration::from_micros(3)),
        ("3µs", Duration::from_micros(3)),
        ("7ns", Duration::from_nanos(7)),
        ("0", Duration::ZERO),
        ("+5s", Duration::from_secs(5)),
    ] {
        assert_eq!(parse_go_duration(text), Ok(expected), "{text}");
    }
    for text in ["", "s", "10", "1.2.3s", "-", "ten", "10x", "5s3"] {
        assert!(parse_go_duration(text).is_err(), "{text}");
    }
}
