//! The Consul agent protocol as data: golden request bytes, response judging, and the
//! registration lifecycle over a scripted in-memory transport.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use torchlight_server::consul::{
    AgentAddress, ConsulAgent, ExchangeError, ExchangeFuture, HealthCheck, Request, Response,
    ResponseError, Transport,
};
use torchlight_server::discovery::{DiscoveryError, ServerInfo, ServiceDiscovery};

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("future did not complete in 1000 polls");
}

/// No environment: tests do not depend on the CONSUL_HTTP_* of whoever runs them.
fn agent() -> ConsulAgent {
    ConsulAgent::with_environment(|_| None)
}

fn server(port: u16) -> ServerInfo {
    ServerInfo::new(SocketAddr::from(([127, 0, 0, 1], port)))
}

fn body(request: &Request) -> &str {
    std::str::from_utf8(request.body()).expect("UTF-8")
}

#[test]
fn default_payload_is_pythons() {
    // prometheus_async's defaults example, compact.
    let request = agent().register_request(&server(43921)).expect("request");
    assert_eq!(
        body(&request),
        r#"{"Name":"app-metrics","ID":"app-metrics","Tags":null,"Address":"127.0.0.1","Port":43921,"Check":{"HTTP":"http://127.0.0.1:43921/","Interval":"10s"}}"#
    );
}

#[test]
fn full_request_bytes() {
    let agent = agent()
        .with_name("test-metrics")
        .with_service_id("4f1c")
        .with_tags(["foo", "bar"])
        .with_token("token42");
    let request = agent.register_request(&server(9464)).expect("request");
    let body = r#"{"Name":"test-metrics","ID":"4f1c","Tags":["foo","bar"],"Address":"127.0.0.1","Port":9464,"Check":{"HTTP":"http://127.0.0.1:9464/","Interval":"10s"}}"#;
    let expected = format!(
        "PUT /v1/agent/service/register HTTP/1.1\r\nHost: 127.0.0.1:8500\r\n\
         User-Agent: torchlight/{}\r\nX-Consul-Token: token42\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    assert_eq!(
        String::from_utf8(request.to_bytes()).expect("UTF-8"),
        expected
    );

    let request = agent.deregister_request().expect("request");
    let expected = format!(
        "PUT /v1/agent/service/deregister/4f1c HTTP/1.1\r\nHost: 127.0.0.1:8500\r\n\
         User-Agent: torchlight/{}\r\nX-Consul-Token: token42\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION"),
    );
    assert_eq!(
        String::from_utf8(request.to_bytes()).expect("UTF-8"),
        expected
    );
}

#[test]
fn every_option_in_the_payload() {
    let agent = agent()
        .with_name("billing")
        .with_tags(["b", "a"])
        .with_meta("version", "1.2.3")
        .with_meta("env", "prod")
        .with_health_check(
            HealthCheck::new()
                .with_interval(Duration::from_secs(30))
                .with_timeout(Duration::from_millis(2500))
                .with_deregister_critical_after(Duration::from_secs(90 * 60)),
        );
    let server = ServerInfo::new("[::]:9100".parse().expect("address"))
        .with_advertised_address("2001:db8::5");
    let request = agent.register_request(&server).expect("request");
    // Tags as given (not sorted), meta sorted by key, IPv6 bare in Address and bracketed
    // in the URL.
    assert_eq!(
        body(&request),
        r#"{"Name":"billing","ID":"billing","Tags":["b","a"],"Address":"2001:db8::5","Port":9100,"Meta":{"env":"prod","version":"1.2.3"},"Check":{"HTTP":"http://[2001:db8::5]:9100/","Interval":"30s","Timeout":"2500ms","DeregisterCriticalServiceAfter":"90m"}}"#
    );
    assert_eq!(request.header("x-consul-token"), None);
    assert_eq!(request.header("content-type"), Some("application/json"));
}

#[test]
fn an_https_server_gets_an_https_check_and_may_skip_verification() {
    let server = ServerInfo::new("127.0.0.1:9100".parse().expect("address")).with_https(true);
    let plain = agent().with_name("tls");
    assert_eq!(
        body(&plain.register_request(&server).expect("request")),
        r#"{"Name":"tls","ID":"tls","Tags":null,"Address":"127.0.0.1","Port":9100,"Check":{"HTTP":"https://127.0.0.1:9100/","Interval":"10s"}}"#
    );
    let skipping = plain.with_health_check(HealthCheck::new().with_tls_skip_verify(true));
    assert!(skipping.health_check().tls_skip_verify());
    assert_eq!(
        body(&skipping.register_request(&server).expect("request")),
        r#"{"Name":"tls","ID":"tls","Tags":null,"Address":"127.0.0.1","Port":9100,"Check":{"HTTP":"https://127.0.0.1:9100/","Interval":"10s","TLSSkipVerify":true}}"#
    );
}

#[test]
fn strings_are_json_escaped() {
    let agent = agent()
        .with_name("we\"ird\\name\n")
        .with_tags(["t\u{1}", "ü"])
        .with_meta("k\"", "v\t");
    let request = agent.register_request(&server(1)).expect("request");
    let parsed = body(&request);
    assert!(
        parsed.starts_with(
            r#"{"Name":"we\"ird\\name\n","ID":"we\"ird\\name\n","Tags":["t\u0001","ü"],"#
        ),
        "{parsed}"
    );
    assert!(parsed.contains(r#""Meta":{"k\"":"v\t"}"#), "{parsed}");
}

#[test]
fn unspecified_address_is_refused_before_sending() {
    for bound in ["0.0.0.0:9464", "[::]:9464"] {
        let server = ServerInfo::new(bound.parse().expect("address"));
        let error = agent().register_request(&server).expect_err("refused");
        assert!(matches!(error, DiscoveryError::UnspecifiedAddress { .. }));
        assert!(error.to_string().contains("Consul rejects it"), "{error}");
    }
}

#[test]
fn deregister_path_encodes_the_id() {
    let request = agent()
        .with_service_id("id/with space")
        .deregister_request()
        .expect("request");
    assert_eq!(
        request.path(),
        "/v1/agent/service/deregister/id%2Fwith%20space"
    );
    assert_eq!(request.method(), "PUT");
    assert!(request.body().is_empty());
    // An empty id falls back to the name, as in Python.
    let agent = agent().with_name("n").with_service_id("");
    assert_eq!(agent.service_id(), "n");
}

#[test]
fn environment_is_the_fallback() {
    let env = |name: &str| match name {
        "CONSUL_HTTP_ADDR" => Some("consul.service:18500".to_owned()),
        "CONSUL_HTTP_TOKEN" => Some("from-env".to_owned()),
        _ => None,
    };
    let agent = ConsulAgent::with_environment(env);
    assert_eq!(agent.token(), Some("from-env"));
    let address = agent.agent_address().expect("address");
    assert_eq!(address.to_string(), "http://consul.service:18500");
    let request = agent.deregister_request().expect("request");
    assert_eq!(request.header("X-Consul-Token"), Some("from-env"));
    assert_eq!(request.agent().authority(), "consul.service:18500");

    // Explicit settings win.
    let agent = ConsulAgent::with_environment(env)
        .with_token("explicit")
        .with_agent_address("http://127.0.0.1:8501/");
    assert_eq!(agent.token(), Some("explicit"));
    assert_eq!(agent.agent_address().expect("address").port(), 8501);

    // A bad CONSUL_HTTP_ADDR is named in the error.
    let agent =
        ConsulAgent::with_environment(|n| (n == "CONSUL_HTTP_ADDR").then(|| "unix:///sock".into()));
    let error = agent.register_request(&server(1)).expect_err("unusable");
    let message = error.to_string();
    assert!(
        message.contains("\"unix:///sock\" from CONSUL_HTTP_ADDR"),
        "{message}"
    );
}

#[test]
fn defaults() {
    let agent = agent();
    assert_eq!(agent.name(), "app-metrics");
    assert_eq!(agent.service_id(), "app-metrics");
    assert!(agent.tags().is_empty());
    assert_eq!(agent.token(), None);
    assert!(agent.deregisters());
    assert_eq!(agent.request_timeout(), Duration::from_secs(5));
    assert_eq!(agent.health_check(), &HealthCheck::new());
    assert_eq!(agent.health_check().interval(), Duration::from_secs(10));
    assert_eq!(
        agent.agent_address().expect("default").to_string(),
        "http://127.0.0.1:8500"
    );
}

#[test]
fn agent_addresses() {
    for (given, expected) in [
        ("http://127.0.0.1:8500", "http://127.0.0.1:8500"),
        ("HTTP://localhost:1/", "http://localhost:1"),
        ("127.0.0.1:18500", "http://127.0.0.1:18500"),
        ("consul", "http://consul:8500"),
        (" [::1] ", "http://[::1]:8500"),
        ("http://[::1]:9", "http://[::1]:9"),
    ] {
        let address = AgentAddress::parse(given, "test").expect(given);
        assert_eq!(address.to_string(), expected);
    }
    for given in [
        "https://consul:8501",
        "unix:///var/run/consul.sock",
        "http://",
        "consul:0",
        "consul:65536",
        "consul:port",
        "[::1",
        "[nope]:1",
        "[::1]x",
        "consul:8500/v1",
        "user@consul",
        "::1",
    ] {
        let error = AgentAddress::parse(given, "test").expect_err(given);
        assert!(error.to_string().contains("is not usable"), "{error}");
    }
}

#[test]
fn a_token_with_a_newline_is_refused() {
    let error = agent()
        .with_token("abc\n")
        .deregister_request()
        .expect_err("header injection");
    assert!(error.to_string().contains("`token`"), "{error}");
}

#[test]
fn judging_answers() {
    let agent = agent();
    assert!(
        agent
            .check_register_response(&Response::new(200, ""))
            .is_ok()
    );
    assert!(
        agent
            .check_deregister_response(&Response::new(200, ""))
            .is_ok()
    );
    // 404 on deregistration: already gone.
    let gone = Response::new(
        404,
        "Unknown service ID \"x\". Ensure that the service ID is passed, not the service name.",
    );
    assert!(agent.check_deregister_response(&gone).is_ok());
    // ... but not on registration.
    assert!(agent.check_register_response(&gone).is_err());

    let error = agent
        .check_register_response(&Response::new(403, "ACL not found\n"))
        .expect_err("refused");
    assert_eq!(
        error.to_string(),
        "the agent at http://127.0.0.1:8500 refused the registration with status 403: \
         \"ACL not found\"; check the ACL token (`ConsulAgent::with_token`, or CONSUL_HTTP_TOKEN)"
    );
    let error = agent
        .check_deregister_response(&Response::new(500, "boom"))
        .expect_err("refused");
    assert!(matches!(
        error,
        DiscoveryError::Rejected { status: 500, operation: "deregistration", ref body, .. } if body == "boom"
    ));
    // A long body is quoted in part.
    let long = "x".repeat(5000);
    let DiscoveryError::Rejected { body, .. } = agent
        .check_register_response(&Response::new(502, long))
        .expect_err("refused")
    else {
        panic!("not Rejected");
    };
    assert_eq!(body.len(), 1024 + '…'.len_utf8());
}

/// A transport that records requests and answers from a script.
#[derive(Default)]
struct Scripted {
    sent: Mutex<Vec<(String, Duration)>>,
    answers: Mutex<VecDeque<Result<Response, ExchangeError>>>,
}

impl Scripted {
    fn answering(answers: impl IntoIterator<Item = Result<Response, ExchangeError>>) -> Self {
        Scripted {
            sent: Mutex::default(),
            answers: Mutex::new(answers.into_iter().collect()),
        }
    }
}

impl Transport for Scripted {
    fn exchange<'a>(&'a self, request: &'a Request, timeout: Duration) -> ExchangeFuture<'a> {
        Box::pin(async move {
            self.sent
                .lock()
                .expect("not poisoned")
                .push((format!("{} {}", request.method(), request.path()), timeout));
            self.answers
                .lock()
                .expect("not poisoned")
                .pop_front()
                .expect("an answer per request")
        })
    }
}

fn sent(discovery: &torchlight_server::consul::ConsulDiscovery<Scripted>) -> Vec<String> {
    discovery
        .transport()
        .sent
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|(line, _)| line.clone())
        .collect()
}

#[test]
fn lifecycle_deregisters_only_when_enabled() {
    for deregister in [true, false] {
        let discovery = agent()
            .with_deregister(deregister)
            .with_request_timeout(Duration::from_millis(750))
            .discovery(Scripted::answering([
                Ok(Response::new(200, "")),
                Ok(Response::new(200, "")),
            ]));
        let registration = block_on(discovery.register(&server(9464)))
            .expect("registered")
            .expect("some");
        assert_eq!(registration.deregisters(), deregister);
        block_on(registration.deregister()).expect("deregistered");
        let mut expected = vec!["PUT /v1/agent/service/register".to_owned()];
        if deregister {
            expected.push("PUT /v1/agent/service/deregister/app-metrics".to_owned());
        }
        assert_eq!(sent(&discovery), expected);
        // The configured bound reaches the transport.
        assert!(
            discovery
                .transport()
                .sent
                .lock()
                .expect("not poisoned")
                .iter()
                .all(|(_, timeout)| *timeout == Duration::from_millis(750))
        );
    }
}

#[test]
fn lifecycle_failures_name_the_agent() {
    let cases: [(Result<Response, ExchangeError>, &str); 4] = [
        (
            Ok(Response::new(400, "Invalid check: Interval must be > 0")),
            "the agent at http://127.0.0.1:8500 refused the registration with status 400: \
             \"Invalid check: Interval must be > 0\"",
        ),
        (
            Err(ExchangeError::Timeout),
            "registration with the agent at http://127.0.0.1:8500 got no answer within 2s",
        ),
        (
            Err(ExchangeError::Io(
                std::io::ErrorKind::ConnectionRefused.into(),
            )),
            "registration with the agent at http://127.0.0.1:8500 failed: connection refused",
        ),
        (
            Err(ExchangeError::Response(ResponseError::Truncated {
                received: 0,
            })),
            "the answer of http://127.0.0.1:8500 to the registration is not HTTP/1.1: \
             the connection closed without an answer",
        ),
    ];
    for (answer, message) in cases {
        let discovery = agent()
            .with_request_timeout(Duration::from_secs(2))
            .discovery(Scripted::answering([answer]));
        let error = block_on(discovery.register(&server(1))).expect_err("fails");
        assert!(error.to_string().starts_with(message), "{error}");
        // Nothing else was sent: no deregistration of a failed registration.
        assert_eq!(sent(&discovery), ["PUT /v1/agent/service/register"]);
    }
}

#[test]
fn deregistration_of_a_vanished_service_succeeds() {
    let discovery = agent().discovery(Scripted::answering([
        Ok(Response::new(200, "")),
        Ok(Response::new(404, "Unknown service ID")),
    ]));
    let registration = block_on(discovery.register(&server(1)))
        .expect("ok")
        .expect("some");
    block_on(registration.deregister()).expect("404 is already gone");
}

#[test]
fn nothing_is_sent_for_an_unspecified_address() {
    let discovery = agent().discovery(Scripted::default());
    let server = ServerInfo::new("0.0.0.0:1".parse().expect("address"));
    assert!(matches!(
        block_on(discovery.register(&server)),
        Err(DiscoveryError::UnspecifiedAddress { .. })
    ));
    assert!(sent(&discovery).is_empty());
}
