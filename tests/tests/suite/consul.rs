//! The core's sans-IO Consul protocol, sent over a blocking `std::net::TcpStream`
//! (`StdTransport`), against the Consul agent double. Python `prometheus_async` cases
//! 23–26 (reference `prometheus_async-behaviour.md` §2) are mapped here; the real-agent
//! integration of case 23 runs against the double, since no agent can be installed.
#![forbid(unsafe_code)]

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use torchlight_server::consul::{ConsulAgent, StdTransport, Transport};
use torchlight_server::discovery::{DiscoveryError, ServerInfo, ServiceDiscovery};
use torchlight_tests::consul::{ConsulDouble, Endpoint, Fault};

/// `StdTransport` finishes its work in the first poll, so a no-op waker suffices.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("StdTransport futures complete in one poll"),
    }
}

/// Runs `f` on a thread and fails the test if it takes longer than `bound`, so a
/// missing timeout shows as a failure rather than a hung test.
fn within<T: Send + 'static>(bound: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(bound)
        .unwrap_or_else(|_| panic!("still running after {bound:?}: the timeout did not fire"))
}

/// A listening socket standing in for the metrics server, so the port is real.
fn metrics_socket() -> (TcpListener, ServerInfo) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let info = ServerInfo::new(listener.local_addr().expect("address"));
    (listener, info)
}

fn agent_for(double: &ConsulDouble) -> ConsulAgent {
    ConsulAgent::with_environment(|_| None).with_agent_address(double.url())
}

/// A per-test unique service id (Python uses a uuid4).
fn unique_id(tag: &str) -> String {
    format!("{tag}-{}-{:?}", std::process::id(), Instant::now())
}

/// Case 23 (`test_integration[True|False]`) against the double.
#[test]
fn case_23_registers_and_deregisters_only_when_enabled() {
    for deregister in [true, false] {
        let double = ConsulDouble::start().expect("double");
        let (_socket, server) = metrics_socket();
        let id = unique_id("case23");
        let consul = agent_for(&double)
            .with_name("test-metrics")
            .with_service_id(&id)
            .with_tags(["foo", "bar"])
            .with_deregister(deregister)
            .discovery(StdTransport);

        let registration = block_on(consul.register(&server))
            .expect("registered")
            .expect("some");
        let services = double.services();
        let service = &services[&id];
        assert_eq!(service.name, "test-metrics");
        let mut tags = service.tags.clone();
        tags.sort();
        assert_eq!(tags, ["bar", "foo"]);
        assert_eq!(service.address, server.bound_address().ip().to_string());
        assert_eq!(service.port, server.port());

        block_on(registration.deregister()).expect("deregistered");
        assert_eq!(double.services().contains_key(&id), !deregister);
        if !deregister {
            // A manual deregistration succeeds (200).
            let request = consul.agent().deregister_request().expect("request");
            let response =
                block_on(StdTransport.exchange(&request, Duration::from_secs(5))).expect("answer");
            assert_eq!(response.status(), 200);
            assert!(double.services().is_empty());
        }
        let sent: Vec<_> = double
            .requests()
            .iter()
            .map(|r| r.path().to_owned())
            .collect();
        let deregistrations = sent.iter().filter(|p| p.contains("/deregister/")).count();
        assert_eq!(deregistrations, 1, "{sent:?}");
    }
}

/// Case 24 (`test_mocked`): exactly one registration with the exact payload; the check
/// URL is `http://addr:port/`.
#[test]
fn case_24_exact_payload_on_the_wire() {
    let double = ConsulDouble::start().expect("double");
    let (_socket, server) = metrics_socket();
    let consul = agent_for(&double)
        .with_name("test-metrics")
        .with_service_id("svc-1")
        .with_tags(["foo", "bar"])
        .discovery(StdTransport);
    let registration = block_on(consul.register(&server))
        .expect("ok")
        .expect("some");

    let requests = double.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("PUT", "/v1/agent/service/register")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("host"),
        Some(double.addr().to_string().as_str())
    );
    let port = server.port();
    assert_eq!(
        request.body_text(),
        format!(
            r#"{{"Name":"test-metrics","ID":"svc-1","Tags":["foo","bar"],"Address":"127.0.0.1","Port":{port},"Check":{{"HTTP":"http://127.0.0.1:{port}/","Interval":"10s"}}}}"#
        )
    );
    assert_eq!(
        server.url().expect("url"),
        format!("http://127.0.0.1:{port}/")
    );
    let check = double.services()["svc-1"].check.clone().expect("check");
    assert_eq!(check.http, format!("http://127.0.0.1:{port}/"));
    assert_eq!(check.interval, Some(Duration::from_secs(10)));

    block_on(registration.deregister()).expect("deregistered");
    let requests = double.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].target, "/v1/agent/service/deregister/svc-1");
    assert!(requests[1].body.is_empty());
}

/// Case 25 (`test_none_if_register_fails`), made stricter: a non-success answer is an
/// error naming the agent and quoting it, and nothing is left to deregister.
#[test]
fn case_25_a_refused_registration_is_an_error() {
    let double = ConsulDouble::start().expect("double");
    let (_socket, server) = metrics_socket();
    double.inject(
        Endpoint::Register,
        Fault::Status(400, "Invalid check: nope".to_owned()),
    );
    let consul = agent_for(&double).discovery(StdTransport);
    let error = block_on(consul.register(&server)).expect_err("refused");
    assert!(matches!(
        error,
        DiscoveryError::Rejected { status: 400, .. }
    ));
    assert_eq!(
        error.to_string(),
        format!(
            "the agent at {} refused the registration with status 400: \"Invalid check: nope\"; \
             check the service name, address, tags, meta and health check",
            double.url()
        )
    );
    // The double's own validation produces the same path, quoted verbatim.
    double.clear_faults();
    let zero = agent_for(&double)
        .with_health_check(
            torchlight_server::consul::HealthCheck::new().with_interval(Duration::ZERO),
        )
        .discovery(StdTransport);
    let error = block_on(zero.register(&server)).expect_err("refused");
    assert!(
        error.to_string().contains(
            "\"Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks\""
        ),
        "{error}"
    );
    assert!(double.services().is_empty());
    assert_eq!(
        double.requests().len(),
        2,
        "no deregistration after a failure"
    );
}

/// Case 26 (`test_sets_headers`): the token travels as `X-Consul-Token` on every request,
/// and an agent with ACLs accepts it.
#[test]
fn case_26_token_header_on_every_request() {
    let double = ConsulDouble::start_with_acl("token42").expect("double");
    let (_socket, server) = metrics_socket();
    let consul = agent_for(&double)
        .with_token("token42")
        .discovery(StdTransport);
    let registration = block_on(consul.register(&server))
        .expect("ok")
        .expect("some");
    block_on(registration.deregister()).expect("deregistered");
    let requests = double.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            request.header("x-consul-token"),
            Some("token42"),
            "{}",
            request.target
        );
    }
    assert!(!requests[0].target.contains("token"), "not in the query");

    // From CONSUL_HTTP_TOKEN when not given.
    let from_env = ConsulAgent::with_environment(|name| match name {
        "CONSUL_HTTP_TOKEN" => Some("token42".to_owned()),
        "CONSUL_HTTP_ADDR" => Some(double.addr().to_string()),
        _ => None,
    })
    .discovery(StdTransport);
    let registration = block_on(from_env.register(&server))
        .expect("ok")
        .expect("some");
    block_on(registration.deregister()).expect("deregistered");

    // Missing and wrong tokens: 403, quoted, with a hint about the token.
    for consul in [
        agent_for(&double).discovery(StdTransport),
        agent_for(&double)
            .with_token("wrong")
            .discovery(StdTransport),
    ] {
        let error = block_on(consul.register(&server)).expect_err("forbidden");
        let message = error.to_string();
        assert!(message.contains("with status 403"), "{message}");
        assert!(message.contains("check the ACL token"), "{message}");
    }
    assert!(double.services().is_empty());
}

#[test]
fn deregistering_a_vanished_service_is_fine() {
    let double = ConsulDouble::start().expect("double");
    let (_socket, server) = metrics_socket();
    let consul = agent_for(&double).discovery(StdTransport);
    let registration = block_on(consul.register(&server))
        .expect("ok")
        .expect("some");
    // Someone else removes it first.
    let request = consul.agent().deregister_request().expect("request");
    let first = block_on(StdTransport.exchange(&request, Duration::from_secs(5))).expect("answer");
    assert_eq!(first.status(), 200);
    block_on(registration.deregister()).expect("404 counts as already gone");
    let statuses = double.requests().len();
    assert_eq!(statuses, 3);
}

#[test]
fn a_failing_deregistration_is_reported() {
    let double = ConsulDouble::start().expect("double");
    let (_socket, server) = metrics_socket();
    let consul = agent_for(&double).discovery(StdTransport);
    let registration = block_on(consul.register(&server))
        .expect("ok")
        .expect("some");
    double.inject(
        Endpoint::Deregister,
        Fault::Status(500, "rpc error".to_owned()),
    );
    let error = block_on(registration.deregister()).expect_err("500");
    assert!(
        error
            .to_string()
            .contains("refused the deregistration with status 500: \"rpc error\""),
        "{error}"
    );
}

#[test]
fn a_silent_agent_times_out_within_the_bound() {
    let double = ConsulDouble::start().expect("double");
    let (_socket, server) = metrics_socket();
    let timeout = Duration::from_millis(300);
    let consul = agent_for(&double)
        .with_request_timeout(timeout)
        .discovery(StdTransport);

    double.inject(Endpoint::Register, Fault::Silent);
    let (error, elapsed) = within(timeout * 10, {
        let (consul, server) = (consul.clone(), server.clone());
        move || {
            let start = Instant::now();
            let result = block_on(consul.register(&server));
            (result.expect_err("silent"), start.elapsed())
        }
    });
    assert!(matches!(error, DiscoveryError::Timeout { .. }), "{error}");
    assert!(elapsed >= timeout && elapsed < timeout * 4, "{elapsed:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "registration with the agent at {} got no answer within 300ms; check that the agent \
             is healthy, or raise the request timeout",
            double.url()
        )
    );

    // A slow but timely agent is fine; a silent one on close is bounded too.
    double.inject(Endpoint::Register, Fault::Delay(Duration::from_millis(50)));
    let registration = block_on(consul.register(&server))
        .expect("ok")
        .expect("some");
    double.inject(Endpoint::Deregister, Fault::Silent);
    let (error, elapsed) = within(timeout * 10, move || {
        let start = Instant::now();
        let result = block_on(registration.deregister());
        (result.expect_err("silent"), start.elapsed())
    });
    assert!(matches!(
        error,
        DiscoveryError::Timeout {
            operation: "deregistration",
            ..
        }
    ));
    assert!(elapsed < timeout * 4, "{elapsed:?}");
}

#[test]
fn an_absent_agent_is_unreachable() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let (_socket, server) = metrics_socket();
    let consul = ConsulAgent::with_environment(|_| None)
        .with_agent_address(format!("127.0.0.1:{port}"))
        .discovery(StdTransport);
    let error = block_on(consul.register(&server)).expect_err("refused");
    assert!(
        matches!(error, DiscoveryError::Unreachable { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "registration with the agent at http://127.0.0.1:{port} failed: "
        )),
        "{message}"
    );
    assert!(message.contains("CONSUL_HTTP_ADDR"), "{message}");
}

#[test]
fn something_else_than_an_agent_is_reported() {
    // A server that answers every connection with an SSH banner.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    let banner = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 1024];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n");
        }
    });
    let (_socket, server) = metrics_socket();
    let consul = ConsulAgent::with_environment(|_| None)
        .with_agent_address(addr.to_string())
        .discovery(StdTransport);
    let error = block_on(consul.register(&server)).expect_err("not HTTP");
    assert!(
        matches!(error, DiscoveryError::MalformedResponse { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("is not HTTP/1.1"), "{error}");
    banner.join().expect("banner thread");
}

#[test]
fn unspecified_addresses_need_an_advertised_one() {
    let double = ConsulDouble::start().expect("double");
    let consul = agent_for(&double).discovery(StdTransport);
    let listener = TcpListener::bind("0.0.0.0:0").expect("bind");
    let bound = ServerInfo::new(listener.local_addr().expect("address"));
    let error = block_on(consul.register(&bound)).expect_err("unspecified");
    assert!(
        error.to_string().contains("set an advertised address"),
        "{error}"
    );
    assert!(double.requests().is_empty(), "nothing sent");

    let advertised = bound.with_advertised_address("127.0.0.1");
    let registration = block_on(consul.register(&advertised))
        .expect("ok")
        .expect("some");
    assert_eq!(double.services()["app-metrics"].address, "127.0.0.1");
    block_on(registration.deregister()).expect("deregistered");
}

#[test]
fn prometheus_sees_the_registration_through_http_sd() {
    let double = ConsulDouble::start().expect("double");
    let (_socket, server) = metrics_socket();
    let consul = agent_for(&double)
        .with_name("test-metrics")
        .with_meta("version", "1.2")
        .discovery(StdTransport);
    let registration = block_on(consul.register(&server))
        .expect("ok")
        .expect("some");
    let services = double.services();
    let service = &services["test-metrics"];
    assert_eq!(service.meta["version"], "1.2");
    // The http_sd target is exactly where the metrics server listens.
    let target = format!("{}:{}", service.address, service.port);
    assert_eq!(target, server.bound_address().to_string());
    block_on(registration.deregister()).expect("deregistered");
    assert!(double.services().is_empty());
}
