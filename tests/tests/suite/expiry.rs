//! Expiry that waits for a scrape, seen through every adapter in both modes: a
//! family child's final increment is served by a scrape before the child disappears
//! from the next one, and the same values later start a new series.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use torchlight::{Counter, Family, Metric, Registry};
use torchlight_tests::adapter::{Adapter, Config, Server, in_both_modes};
use torchlight_tests::client::get;

const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0";

/// The `jobs_total{tenant="acme"}` value a scrape of `server` shows, if any.
fn scraped(server: &dyn Server, accept: &str) -> Option<f64> {
    let reply = get(&format!("{}metrics", server.url()), &[("Accept", accept)]);
    assert_eq!(reply.status, 200);
    let body = String::from_utf8(reply.body).expect("UTF-8 exposition");
    body.lines()
        .find_map(|line| line.strip_prefix("jobs_total{tenant=\"acme\"} "))
        .map(|value| value.parse().expect("a number (`1` or `1.0`)"))
}

fn final_increment_is_scraped_before_the_child_expires<A: Adapter>() {
    let family = Arc::new(Metric::new(
        "jobs",
        "Jobs run.",
        Family::new(["tenant"], Counter::new).with_idle_timeout(Duration::ZERO),
    ));
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    registry
        .register_owned(Arc::clone(&family))
        .expect("a valid family");
    in_both_modes::<A>(
        || Config::loopback(registry),
        |server| {
            for accept in ["text/plain", OPEN_METRICS] {
                let held = family.get_or_create(["acme"]);
                held.inc();
                assert_eq!(scraped(server, accept), Some(1.0), "{}: held", A::NAME);
                assert_eq!(
                    scraped(server, accept),
                    Some(1.0),
                    "{}: still held",
                    A::NAME
                );
                // The final increment, then the handle goes.
                held.inc();
                drop(held);
                assert_eq!(
                    scraped(server, accept),
                    Some(2.0),
                    "{}: final value",
                    A::NAME
                );
                assert_eq!(scraped(server, accept), None, "{}: expired", A::NAME);
                assert!(family.is_empty());
                // The same values again: a new child, from zero.
                family.get_or_create(["acme"]).inc();
                assert_eq!(
                    scraped(server, accept),
                    Some(1.0),
                    "{}: new series",
                    A::NAME
                );
                assert_eq!(scraped(server, accept), None, "{}: expired again", A::NAME);
            }
        },
    );
}

torchlight_tests::per_adapter_suite!(final_increment_is_scraped_before_the_child_expires);
