//! Service discovery wired into every adapter's server: the lifecycle of issue 6
//! (register once listening, a failed registration is a start error that releases the
//! port, deregister on close before stopping, every request bounded), Python
//! `prometheus_async` cases 20–21 with a custom discovery (`FakeSD`) and 23–26 through
//! `Options::consul` on each adapter (its runtime's sockets and timer), against the Consul agent double (no real agent
//! can be installed here; see `torchlight_tests::consul`).
//!
//! Each test is a generic function over [`Adapter`]; `per_adapter_suite!` at the bottom generates
//! `tokio::name`, `smol::name` and `async_std::name` tests from it.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use torchlight::{Counter, Metric, Registry};
use torchlight_server::consul::ConsulAgent;
use torchlight_server::discovery::{
    DiscoveryError, DiscoveryFuture, Registration, ServerInfo, ServiceDiscovery,
};
use torchlight_tests::adapter::{Adapter, Config, Server, StartFailure};
use torchlight_tests::client::get;
use torchlight_tests::consul::{ConsulDouble, Endpoint, Fault, Gate};

/// A fresh registry holding one counter `name` (help `cnt`) at 1.
fn registry_with(name: &str) -> &'static Registry {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let metric: &'static Metric<Counter> =
        Box::leak(Box::new(Metric::new(name, "cnt", Counter::new())));
    metric.inc();
    registry.register(metric).expect("a valid counter");
    registry
}

fn empty_registry() -> &'static Registry {
    Box::leak(Box::new(Registry::new()))
}

/// An agent talking to `double` only (no `CONSUL_HTTP_*` from the environment).
fn agent_for(double: &ConsulDouble) -> ConsulAgent {
    ConsulAgent::with_environment(|_| None)
        .with_agent_address(double.url())
        .with_request_timeout(Duration::from_secs(2))
}

fn config_with(discovery: Arc<dyn ServiceDiscovery>) -> Config {
    let mut config = Config::loopback(empty_registry());
    config.service_discovery = Some(discovery);
    config
}

/// The usual case, one call: `Options::consul(agent)`; the server talks to the agent
/// over its own runtime.
fn config_with_consul(agent: ConsulAgent) -> Config {
    let mut config = Config::loopback(empty_registry());
    config.consul = Some(agent);
    config
}

fn start<A: Adapter>(config: Config) -> Box<dyn Server> {
    A::start(config).unwrap_or_else(|error| panic!("{}: {error}", A::NAME))
}

fn start_err<A: Adapter>(config: Config) -> StartFailure {
    match A::start(config) {
        Ok(server) => panic!("{}: started on {}", A::NAME, server.local_addr()),
        Err(failure) => failure,
    }
}

/// The port a server listened on before its registration failed: servers here bind
/// port 0, so no test picks a port by number and binds it again.
fn failed_port(failure: &StartFailure) -> u16 {
    failure
        .registration
        .as_ref()
        .expect("a registration error")
        .0
        .port()
}

/// A port that was free a moment ago (only for an agent that must not exist).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("an ephemeral port")
        .port()
}

/// Whether `port` on loopback can be bound again right now (the server released it).
fn rebinds(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

fn refuses_connections(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err()
}

/// Polls `done` every 20 ms for up to `limit`.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// Runs `f` on a thread and fails the test if it takes longer than `bound`, so a
/// missing timeout shows as a failure rather than a hung test.
fn within<T: Send + 'static>(bound: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(bound)
        .unwrap_or_else(|_| panic!("still running after {bound:?}: a timeout did not fire"))
}

fn paths(double: &ConsulDouble) -> Vec<String> {
    double
        .requests()
        .iter()
        .map(|request| request.path().to_owned())
        .collect()
}

// --- Python cases 20–21 with a custom discovery (`FakeSD`) -------------------------

/// Python's `FakeSD`: records the server it was given and how often it was
/// deregistered; `decline` makes it answer `None`.
#[derive(Default)]
struct FakeSd {
    received: Mutex<Vec<ServerInfo>>,
    deregistered: Arc<Mutex<usize>>,
    decline: bool,
}

impl ServiceDiscovery for FakeSd {
    fn register<'a>(&'a self, server: &'a ServerInfo) -> DiscoveryFuture<'a, Option<Registration>> {
        Box::pin(async move {
            self.received
                .lock()
                .map_err(|_| DiscoveryError::other("poisoned"))?
                .push(server.clone());
            if self.decline {
                return Ok(None);
            }
            let deregistered = Arc::clone(&self.deregistered);
            Ok(Some(Registration::new(move || async move {
                *deregistered
                    .lock()
                    .map_err(|_| DiscoveryError::other("poisoned"))? += 1;
                Ok(())
            })))
        })
    }
}

/// 20 `test_start_http_server[FakeSD]`: `is_registered`, the discovery received this
/// server's info, the server serves, close deregisters once (and only once).
fn python_20_with_service_discovery<A: Adapter>() {
    let sd = Arc::new(FakeSd::default());
    let mut config = Config::loopback(registry_with("test_start_http_server"));
    config.service_discovery = Some(sd.clone());
    let mut server = start::<A>(config);
    assert!(server.is_registered());
    let received = sd.received.lock().expect("lock").clone();
    assert_eq!(received, [server.server_info()]);
    assert_eq!(received[0].bound_address(), server.local_addr());
    assert_eq!(received[0].url().expect("url"), server.url());
    let reply = get(&format!("{}metrics", server.url()), &[]);
    assert!(reply.text().contains(
        "# HELP test_start_http_server_total cnt\n# TYPE test_start_http_server_total counter\ntest_start_http_server_total 1\n"
    ));
    assert_eq!(*sd.deregistered.lock().expect("lock"), 0);
    server.close();
    assert_eq!(*sd.deregistered.lock().expect("lock"), 1);
    server.close();
    assert_eq!(*sd.deregistered.lock().expect("lock"), 1, "closing twice");

    // A discovery that declines (`Ok(None)`): not registered, nothing undone.
    let declining = Arc::new(FakeSd {
        decline: true,
        ..FakeSd::default()
    });
    let mut server = start::<A>(config_with(declining.clone()));
    assert!(!server.is_registered());
    assert_eq!(declining.received.lock().expect("lock").len(), 1);
    server.close();
    assert_eq!(*declining.deregistered.lock().expect("lock"), 0);

    // No discovery: not registered.
    let mut server = start::<A>(Config::loopback(empty_registry()));
    assert!(!server.is_registered());
    server.close();
}

/// `serve_until(signal)` in both modes registers at start and deregisters once, after
/// the signal and before it returns.
fn serve_until_deregisters_after_its_signal<A: Adapter>() {
    for threaded in [false, true] {
        let sd = Arc::new(FakeSd::default());
        let config = config_with(sd.clone());
        let serving = if threaded {
            A::serve_until_in_thread(config)
        } else {
            A::serve_until(config)
        };
        assert_eq!(sd.received.lock().expect("lock").len(), 1);
        assert_eq!(*sd.deregistered.lock().expect("lock"), 0);
        serving.signal().expect("deregistered");
        assert_eq!(*sd.deregistered.lock().expect("lock"), 1);
    }
}

/// 21 `test_start_in_thread[FakeSD]`: the same in threaded mode; deregistration runs
/// before `close` returns.
fn python_21_in_thread_with_service_discovery<A: Adapter>() {
    let sd = Arc::new(FakeSd::default());
    let mut config = Config::loopback(registry_with("test_start_http_server_in_thread"));
    config.service_discovery = Some(sd.clone());
    let mut server = A::start_in_thread(config).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(server.thread_name().as_deref(), Some("torchlight-metrics"));
    assert!(server.is_registered());
    assert_eq!(
        sd.received.lock().expect("lock").clone(),
        [server.server_info()]
    );
    let reply = get(&format!("{}metrics", server.url()), &[]);
    assert!(
        reply
            .text()
            .contains("HELP test_start_http_server_in_thread_total cnt")
    );
    let address = server.local_addr();
    server.close();
    assert_eq!(*sd.deregistered.lock().expect("lock"), 1);
    assert_eq!(server.thread_name(), None, "close joins the thread");
    assert!(refuses_connections(address));
}

/// A custom discovery's error aborts the start and is returned as is.
fn custom_discovery_error_aborts_the_start<A: Adapter>() {
    struct Refusing;
    impl ServiceDiscovery for Refusing {
        fn register<'a>(
            &'a self,
            _server: &'a ServerInfo,
        ) -> DiscoveryFuture<'a, Option<Registration>> {
            Box::pin(async { Err(DiscoveryError::other("directory is read-only")) })
        }
    }
    let config = config_with(Arc::new(Refusing));
    let failure = start_err::<A>(config);
    let port = failed_port(&failure);
    assert!(
        failure.message.contains("directory is read-only"),
        "{failure}"
    );
    let (address, error) = *failure.registration.expect("a registration error");
    assert_eq!(address.port(), port);
    assert!(matches!(error, DiscoveryError::Other(_)), "{error:?}");
    assert!(rebinds(port), "the port is released");
}

// --- Consul through the adapter's own transport (cases 23–26) ---------------------

/// Cases 24 and 26 through `start_http_server`: the exact payload (name, id, tags,
/// address, port, check URL and interval), the token on every request, registered only
/// once the socket listens, deregistered on close.
fn consul_exact_payload_token_and_deregistration<A: Adapter>() {
    let double = ConsulDouble::start_with_acl("token42").expect("double");
    let consul = agent_for(&double)
        .with_name("test-metrics")
        .with_service_id("svc-1")
        .with_tags(["foo", "bar"])
        .with_token("token42");
    let mut server = start::<A>(config_with_consul(consul));
    assert!(server.is_registered());
    let port = server.local_addr().port();

    let requests = double.requests();
    assert_eq!(requests.len(), 1);
    let register = &requests[0];
    assert_eq!(
        (register.method.as_str(), register.target.as_str()),
        ("PUT", "/v1/agent/service/register")
    );
    assert_eq!(register.header("x-consul-token"), Some("token42"));
    assert_eq!(
        register.body_text(),
        format!(
            r#"{{"Name":"test-metrics","ID":"svc-1","Tags":["foo","bar"],"Address":"127.0.0.1","Port":{port},"Check":{{"HTTP":"http://127.0.0.1:{port}/","Interval":"10s"}}}}"#
        )
    );
    let service = double.services()["svc-1"].clone();
    assert_eq!(service.name, "test-metrics");
    let mut tags = service.tags.clone();
    tags.sort();
    assert_eq!(tags, ["bar", "foo"]);
    assert_eq!(
        (service.address.as_str(), service.port),
        ("127.0.0.1", port)
    );
    let check = service.check.expect("a check");
    assert_eq!(check.http, server.url());
    assert_eq!(check.interval, Some(Duration::from_secs(10)));
    // The check URL answers: the server serves once registered.
    assert_eq!(get(&check.http, &[]).status, 200);

    server.close();
    assert!(double.services().is_empty());
    let requests = double.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        (requests[1].method.as_str(), requests[1].target.as_str()),
        ("PUT", "/v1/agent/service/deregister/svc-1")
    );
    assert_eq!(requests[1].header("x-consul-token"), Some("token42"));
    server.close();
    assert_eq!(double.requests().len(), 2, "closing twice sends nothing");
}

/// Case 23: the service stays after close iff deregistration is off.
fn consul_deregisters_on_close_only_when_enabled<A: Adapter>() {
    for deregister in [true, false] {
        let double = ConsulDouble::start().expect("double");
        let consul = agent_for(&double)
            .with_name("test-metrics")
            .with_deregister(deregister);
        let mut server = start::<A>(config_with_consul(consul));
        assert!(server.is_registered());
        server.close();
        assert_eq!(
            double.services().contains_key("test-metrics"),
            !deregister,
            "deregister = {deregister}"
        );
        let deregistrations = paths(&double)
            .iter()
            .filter(|path| path.contains("/deregister/"))
            .count();
        assert_eq!(deregistrations, usize::from(deregister));
    }
}

/// Case 25 made strict: a refused registration (500 from a faulty agent, 403 from an
/// agent with ACLs) is a start error naming the agent and quoting its answer, and the
/// port is released at once.
fn consul_refused_registration_is_a_start_error<A: Adapter>() {
    let double = ConsulDouble::start().expect("double");
    double.inject(
        Endpoint::Register,
        Fault::Status(500, "rpc error: leader unavailable".to_owned()),
    );
    let config = config_with_consul(agent_for(&double));
    let failure = start_err::<A>(config);
    let port = failed_port(&failure);
    let expected = format!(
        "the agent at {} refused the registration with status 500: \"rpc error: leader unavailable\"; see the agent's log",
        double.url()
    );
    assert!(failure.message.contains(&expected), "{failure}");
    assert!(
        failure.message.contains(&format!("127.0.0.1:{port}")),
        "names the server: {failure}"
    );
    let (_, error) = *failure.registration.expect("a registration error");
    assert!(matches!(
        error,
        DiscoveryError::Rejected { status: 500, .. }
    ));
    assert!(rebinds(port), "the port is released");
    assert_eq!(paths(&double), ["/v1/agent/service/register"]);

    let acl = ConsulDouble::start_with_acl("right").expect("double");
    let config = config_with_consul(agent_for(&acl).with_token("wrong"));
    let failure = start_err::<A>(config);
    let port = failed_port(&failure);
    assert!(
        failure.message.contains(&format!(
            "the agent at {} refused the registration with status 403",
            acl.url()
        )),
        "{failure}"
    );
    assert!(failure.message.contains("check the ACL token"), "{failure}");
    assert!(rebinds(port), "the port is released");
    assert!(acl.services().is_empty());
}

/// No agent listening: connection refused is a start error naming the agent.
fn consul_unreachable_agent_is_a_start_error<A: Adapter>() {
    let agent_port = free_port();
    let consul = ConsulAgent::with_environment(|_| None)
        .with_agent_address(format!("http://127.0.0.1:{agent_port}"))
        .with_request_timeout(Duration::from_secs(2));
    let config = config_with_consul(consul);
    let failure = start_err::<A>(config);
    let port = failed_port(&failure);
    assert!(
        failure.message.contains(&format!(
            "registration with the agent at http://127.0.0.1:{agent_port} failed"
        )),
        "{failure}"
    );
    let (_, error) = *failure.registration.expect("a registration error");
    assert!(
        matches!(error, DiscoveryError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(rebinds(port), "the port is released");
}

/// A silent agent: the start fails with a timeout within the configured bound, in
/// both modes, and the port is released.
fn consul_silent_agent_times_out<A: Adapter + 'static>() {
    let double = ConsulDouble::start().expect("double");
    double.inject(Endpoint::Register, Fault::Silent);
    let bound = Duration::from_millis(300);
    for threaded in [false, true] {
        let config = config_with_consul(agent_for(&double).with_request_timeout(bound));
        let started = Instant::now();
        let failure = within(Duration::from_secs(10), move || {
            let result = if threaded {
                A::start_in_thread(config)
            } else {
                A::start(config)
            };
            match result {
                Ok(server) => panic!("started on {}", server.local_addr()),
                Err(failure) => failure,
            }
        });
        let port = failed_port(&failure);
        let took = started.elapsed();
        assert!(took >= bound, "gave up after {took:?}, before the bound");
        assert!(took < bound + Duration::from_secs(3), "took {took:?}");
        assert!(
            failure
                .message
                .contains(&format!("got no answer within {bound:?}")),
            "{failure}"
        );
        let (_, error) = *failure.registration.expect("a registration error");
        assert!(matches!(error, DiscoveryError::Timeout { .. }), "{error:?}");
        assert!(rebinds(port), "the port is released (threaded: {threaded})");
    }
}

/// `0.0.0.0` without an advertised address: an error saying so, nothing sent; with
/// one, that address is registered (and in the check URL).
fn consul_unspecified_address_needs_an_advertised_one<A: Adapter>() {
    let double = ConsulDouble::start().expect("double");
    let mut config = config_with_consul(agent_for(&double));
    config.address = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let failure = start_err::<A>(config.clone());
    assert!(failure.message.contains("unspecified address"), "{failure}");
    assert!(failure.message.contains("advertised address"), "{failure}");
    let (_, error) = *failure.registration.expect("a registration error");
    assert!(matches!(error, DiscoveryError::UnspecifiedAddress { .. }));
    assert!(double.requests().is_empty(), "nothing sent");

    config.advertised_address = Some("localhost".to_owned());
    let mut server = start::<A>(config);
    assert!(server.is_registered());
    let port = server.local_addr().port();
    let service = double.services()["app-metrics"].clone();
    assert_eq!(
        (service.address.as_str(), service.port),
        ("localhost", port)
    );
    assert_eq!(
        service.check.expect("check").http,
        format!("http://localhost:{port}/")
    );
    server.close();
    assert!(double.services().is_empty());
}

/// Threaded mode: registers, `close` (and drop) deregisters in the server thread before
/// joining it; a failed registration is an error, not a hang.
fn consul_threaded_mode<A: Adapter>() {
    let double = ConsulDouble::start().expect("double");
    let consul = agent_for(&double).with_service_id("threaded");
    let mut server =
        A::start_in_thread(config_with_consul(consul)).unwrap_or_else(|error| panic!("{error}"));
    assert!(server.is_registered());
    assert_eq!(
        double.services()["threaded"].port,
        server.local_addr().port()
    );
    let address = server.local_addr();
    server.close();
    assert!(double.services().is_empty());
    assert!(refuses_connections(address));

    // Dropping the threaded handle deregisters in the server thread before it returns.
    let mut server = A::start_in_thread(config_with_consul(agent_for(&double)))
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(double.services().contains_key("app-metrics"));
    server.drop_handle();
    assert!(double.services().is_empty(), "deregistered by the drop");

    double.inject(
        Endpoint::Register,
        Fault::Status(403, "ACL not found".to_owned()),
    );
    let config = config_with_consul(agent_for(&double));
    let failure = match A::start_in_thread(config) {
        Ok(server) => panic!("started on {}", server.local_addr()),
        Err(failure) => failure,
    };
    let port = failed_port(&failure);
    assert!(
        failure
            .message
            .contains("refused the registration with status 403: \"ACL not found\""),
        "{failure}"
    );
    assert!(rebinds(port), "the port is released");
}

/// A failed deregistration is `close`'s error, and the server stops anyway; closing
/// again is harmless. A silent agent on close times out within the bound.
fn consul_failed_deregistration_still_stops_the_server<A: Adapter>() {
    let double = ConsulDouble::start().expect("double");
    let mut server = start::<A>(config_with_consul(agent_for(&double)));
    double.inject(
        Endpoint::Deregister,
        Fault::Status(500, "agent is shutting down".to_owned()),
    );
    let address = server.local_addr();
    let error = server.try_close().expect_err("deregistration refused");
    assert!(
        error.to_string().contains(&format!(
            "the agent at {} refused the deregistration with status 500: \"agent is shutting down\"",
            double.url()
        )),
        "{error}"
    );
    assert!(refuses_connections(address), "stopped all the same");
    assert!(rebinds(address.port()));
    server.try_close().expect("closing again is harmless");

    let bound = Duration::from_millis(300);
    double.inject(Endpoint::Deregister, Fault::Silent);
    let mut server = start::<A>(config_with_consul(
        agent_for(&double).with_request_timeout(bound),
    ));
    let address = server.local_addr();
    let started = Instant::now();
    let error = server.try_close().expect_err("no answer");
    assert!(started.elapsed() < bound + Duration::from_secs(3));
    assert!(matches!(error, DiscoveryError::Timeout { .. }), "{error:?}");
    assert!(refuses_connections(address));
}

/// 404 on deregistration (someone removed the service already) counts as gone.
fn consul_unknown_service_on_close_counts_as_gone<A: Adapter>() {
    let double = ConsulDouble::start().expect("double");
    let mut server = start::<A>(config_with_consul(
        agent_for(&double).with_service_id("gone"),
    ));
    double.inject(
        Endpoint::Deregister,
        Fault::Status(404, "Unknown service ID \"gone\"".to_owned()),
    );
    server
        .try_close()
        .expect("404 counts as already deregistered");
}

/// The server keeps serving while it deregisters (the agent's health check still
/// answers) and stops accepting only afterwards.
fn consul_serves_while_deregistering<A: Adapter>() {
    let double = ConsulDouble::start().expect("double");
    let gate = Gate::new();
    double.inject(Endpoint::Deregister, Fault::Hold(gate.clone()));
    let mut server = start::<A>(config_with_consul(agent_for(&double)));
    let url = server.url();
    let closer = thread::spawn(move || {
        let result = server.try_close();
        (server, result)
    });
    assert!(
        gate.wait_arrived(Duration::from_secs(5)),
        "close sends the deregistration"
    );
    assert_eq!(get(&url, &[]).status, 200, "served during deregistration");
    gate.release();
    let (_server, result) = closer.join().expect("close");
    result.expect("deregistered");
    assert!(double.services().is_empty());
}

/// Dropping the handle without `close` deregisters in the background (best effort),
/// then stops.
fn consul_dropping_the_handle_deregisters<A: Adapter>() {
    let double = ConsulDouble::start().expect("double");
    let mut server = start::<A>(config_with_consul(agent_for(&double)));
    let address = server.local_addr();
    assert!(double.services().contains_key("app-metrics"));
    server.drop_handle();
    assert!(eventually(Duration::from_secs(5), || double
        .services()
        .is_empty()));
    assert!(eventually(Duration::from_secs(5), || refuses_connections(
        address
    )));
}

/// An HTTPS server registers an `https://` check, with `TLSSkipVerify` when the
/// health check asks for it (a certificate the agent cannot verify), in both modes;
/// the check URL answers over TLS.
fn consul_https_server_registers_an_https_check<A: Adapter>() {
    let pki = torchlight_tests::tls::Pki::new();
    let double = ConsulDouble::start().expect("double");
    let config = || {
        let check = torchlight_server::consul::HealthCheck::new().with_tls_skip_verify(true);
        let mut config = config_with_consul(
            agent_for(&double)
                .with_name("tls-metrics")
                .with_health_check(check),
        );
        config.tls = Some(pki.server_tls());
        config
    };
    for threaded in [false, true] {
        let mut server = if threaded {
            A::start_in_thread(config()).unwrap_or_else(|error| panic!("{error}"))
        } else {
            start::<A>(config())
        };
        let port = server.local_addr().port();
        let requests = double.requests();
        assert_eq!(
            requests.last().expect("a registration").body_text(),
            format!(
                r#"{{"Name":"tls-metrics","ID":"tls-metrics","Tags":null,"Address":"127.0.0.1","Port":{port},"Check":{{"HTTP":"https://127.0.0.1:{port}/","Interval":"10s","TLSSkipVerify":true}}}}"#
            )
        );
        let check = double.services()["tls-metrics"]
            .check
            .clone()
            .expect("a check");
        assert_eq!(check.http, format!("https://127.0.0.1:{port}/"));
        assert!(check.tls_skip_verify);
        assert_eq!(check.http, server.url());
        let reply = torchlight_tests::tls::https_get(server.local_addr(), &pki.client(), "/", "");
        assert_eq!(reply.status, 200);
        server.close();
        assert!(double.services().is_empty());
    }
}

torchlight_tests::per_adapter_suite!(
    python_20_with_service_discovery,
    python_21_in_thread_with_service_discovery,
    serve_until_deregisters_after_its_signal,
    custom_discovery_error_aborts_the_start,
    consul_exact_payload_token_and_deregistration,
    consul_deregisters_on_close_only_when_enabled,
    consul_refused_registration_is_a_start_error,
    consul_unreachable_agent_is_a_start_error,
    consul_silent_agent_times_out,
    consul_unspecified_address_needs_an_advertised_one,
    consul_threaded_mode,
    consul_failed_deregistration_still_stops_the_server,
    consul_unknown_service_on_close_counts_as_gone,
    consul_serves_while_deregistering,
    consul_dropping_the_handle_deregisters,
    consul_https_server_registers_an_https_check,
);
