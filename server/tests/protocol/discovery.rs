//! The service-discovery trait from a user's side: a custom implementation, held as
//! `Arc<dyn ServiceDiscovery>` the way servers hold it, driven by a tiny `block_on`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use torchlight_server::discovery::{
    DiscoveryError, DiscoveryFuture, Registration, ServerInfo, ServiceDiscovery,
};

/// Polls to completion; the futures under test never wait on anything.
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

/// A discovery that records what happens and can be told to skip or fail.
#[derive(Default)]
struct Recorder {
    events: Arc<Mutex<Vec<String>>>,
    skip: bool,
    fail: bool,
    keep: bool,
}

impl Recorder {
    fn events(&self) -> Vec<String> {
        self.events.lock().expect("not poisoned").clone()
    }
}

impl ServiceDiscovery for Recorder {
    fn register<'a>(&'a self, server: &'a ServerInfo) -> DiscoveryFuture<'a, Option<Registration>> {
        Box::pin(async move {
            if self.fail {
                return Err(DiscoveryError::other("directory is read-only"));
            }
            if self.skip {
                return Ok(None);
            }
            let url = server.url()?;
            self.events
                .lock()
                .expect("not poisoned")
                .push(format!("register {url}"));
            if self.keep {
                return Ok(Some(Registration::kept()));
            }
            let events = Arc::clone(&self.events);
            Ok(Some(Registration::new(move || async move {
                events
                    .lock()
                    .expect("not poisoned")
                    .push(format!("deregister {url}"));
                Ok(())
            })))
        })
    }
}

fn local(port: u16) -> ServerInfo {
    ServerInfo::new(SocketAddr::from(([127, 0, 0, 1], port)))
}

#[test]
fn registers_and_deregisters_through_a_trait_object() {
    let recorder = Arc::new(Recorder::default());
    let discovery: Arc<dyn ServiceDiscovery> = recorder.clone();
    let registration = block_on(discovery.register(&local(9464)))
        .expect("registered")
        .expect("some");
    assert!(registration.deregisters());
    assert_eq!(recorder.events(), ["register http://127.0.0.1:9464/"]);
    block_on(registration.deregister()).expect("deregistered");
    assert_eq!(
        recorder.events(),
        [
            "register http://127.0.0.1:9464/",
            "deregister http://127.0.0.1:9464/"
        ]
    );
}

#[test]
fn futures_are_send_and_registrations_travel_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let recorder = Recorder::default();
    let server = local(1);
    let future = recorder.register(&server);
    assert_send(&future);
    let registration = block_on(future).expect("ok").expect("some");
    let events = Arc::clone(&recorder.events);
    std::thread::spawn(move || block_on(registration.deregister()))
        .join()
        .expect("no panic")
        .expect("deregistered");
    assert_eq!(events.lock().expect("not poisoned").len(), 2);
}

#[test]
fn none_means_not_registered() {
    let recorder = Recorder {
        skip: true,
        ..Recorder::default()
    };
    assert!(
        block_on(recorder.register(&local(1)))
            .expect("ok")
            .is_none()
    );
    assert!(recorder.events().is_empty());
}

#[test]
fn kept_registration_deregisters_nothing() {
    let recorder = Recorder {
        keep: true,
        ..Recorder::default()
    };
    let registration = block_on(recorder.register(&local(2)))
        .expect("ok")
        .expect("some");
    assert!(!registration.deregisters());
    assert_eq!(
        format!("{registration:?}"),
        "Registration { deregisters: false }"
    );
    block_on(registration.deregister()).expect("nothing to do");
    assert_eq!(recorder.events(), ["register http://127.0.0.1:2/"]);
}

#[test]
fn a_custom_error_keeps_its_message_and_source() {
    let recorder = Recorder {
        fail: true,
        ..Recorder::default()
    };
    let error = block_on(recorder.register(&local(1))).expect_err("fails");
    assert_eq!(
        error.to_string(),
        "service discovery failed: directory is read-only"
    );
    let source = std::error::Error::source(&error).expect("has a source");
    assert_eq!(source.to_string(), "directory is read-only");
}

#[test]
fn unspecified_address_needs_an_advertised_one() {
    for bound in ["0.0.0.0:9464", "[::]:9464"] {
        let server = ServerInfo::new(bound.parse().expect("address"));
        let error = server.url().expect_err("unspecified");
        assert!(matches!(error, DiscoveryError::UnspecifiedAddress { .. }));
        let message = error.to_string();
        assert!(message.contains(bound), "{message}");
        assert!(message.contains("set an advertised address"), "{message}");
        // The custom discovery sees the same error and the server would not start.
        let recorder = Recorder::default();
        assert!(matches!(
            block_on(recorder.register(&server)),
            Err(DiscoveryError::UnspecifiedAddress { .. })
        ));

        let advertised = server.with_advertised_address("10.1.2.3");
        assert_eq!(
            advertised.url().expect("advertised"),
            "http://10.1.2.3:9464/"
        );
        assert_eq!(advertised.host().expect("advertised"), "10.1.2.3");
    }
}

#[test]
fn server_info_describes_the_endpoint() {
    let server = ServerInfo::new("[fe80::1]:443".parse().expect("address")).with_https(true);
    assert_eq!(server.scheme(), "https");
    assert!(server.is_https());
    assert_eq!(server.port(), 443);
    assert_eq!(server.host().expect("concrete"), "fe80::1");
    assert_eq!(server.url().expect("concrete"), "https://[fe80::1]:443/");
    assert_eq!(server.advertised_address(), None);

    let advertised = server.clone().with_advertised_address("2001:db8::7");
    assert_eq!(advertised.url().expect("v6"), "https://[2001:db8::7]:443/");
    assert_eq!(advertised.bound_address(), server.bound_address());
    // An empty advertised address is no advertised address.
    assert_eq!(server.clone().with_advertised_address(""), server);
}
