//! `Arc`-owned metrics registered and unregistered at run time.
#![cfg(feature = "std")]

use std::sync::Arc;
use std::thread;

use torchlight::{Counter, Family, Format, Gauge, Metric, RegisterError, Registry};

fn encode(registry: &Registry, format: Format) -> String {
    let mut out = String::new();
    registry
        .encode(&mut out, format)
        .expect("String writes cannot fail");
    out
}

#[test]
fn owned_metrics_follow_static_ones_in_registration_order() {
    static STATIC_A: Metric<Counter> = Metric::new("static_a", "", Counter::new());
    static STATIC_B: Metric<Gauge> = Metric::new("static_b", "", Gauge::new());
    let registry = Registry::new();
    let owned_z = Arc::new(Metric::new("owned_z", "", Gauge::new()));
    let owned_y = Arc::new(Metric::new("owned_y", "", Gauge::new()));
    registry.register_owned(Arc::clone(&owned_z)).unwrap();
    registry.register(&STATIC_A).unwrap();
    registry.register_owned(Arc::clone(&owned_y)).unwrap();
    registry.register(&STATIC_B).unwrap();
    owned_z.set(26);
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        "# TYPE static_a counter\nstatic_a_total 0.0\n\
         # TYPE static_b gauge\nstatic_b 0.0\n\
         # TYPE owned_z gauge\nowned_z 26.0\n\
         # TYPE owned_y gauge\nowned_y 0.0\n\
         # EOF\n"
    );
    assert_eq!(
        format!("{registry:?}").matches("name:").count(),
        4,
        "Debug lists owned metrics too"
    );
}

#[test]
fn unregister_removes_and_allows_registering_again() {
    let registry = Registry::new();
    let jobs = Arc::new(Metric::new("jobs", "", Counter::new()));
    registry.register_owned(Arc::clone(&jobs)).unwrap();
    assert_eq!(
        registry.register_owned(Arc::clone(&jobs)),
        Err(RegisterError::AlreadyRegistered { name: "jobs" })
    );
    // Another registry cannot take it either while it is registered.
    let other = Registry::new();
    assert_eq!(
        other.register_owned(Arc::clone(&jobs)),
        Err(RegisterError::AlreadyRegistered { name: "jobs" })
    );
    assert!(!other.unregister(&jobs), "not registered there");

    assert!(registry.unregister(&jobs));
    assert!(!registry.unregister(&jobs), "already gone");
    assert_eq!(encode(&registry, Format::Text), "");
    jobs.inc(); // the caller's handle is unaffected
    other.register_owned(Arc::clone(&jobs)).unwrap();
    assert_eq!(
        encode(&other, Format::Text),
        "# TYPE jobs_total counter\njobs_total 1\n"
    );
    // The name is free again in the first registry.
    registry
        .register_owned(Arc::new(Metric::new("jobs", "", Gauge::new())))
        .unwrap();
}

#[test]
fn static_registrations_are_permanent() {
    static FOREVER: Metric<Counter> = Metric::new("forever", "", Counter::new());
    let registry = Registry::new();
    registry.register(&FOREVER).unwrap();
    assert!(!registry.unregister(&FOREVER));
    assert!(encode(&registry, Format::Text).contains("forever_total 0"));
}

#[test]
fn owned_and_static_families_cannot_clash() {
    static REQUESTS: Metric<Counter> = Metric::new("requests", "", Counter::new());
    static LATE_GAUGE: Metric<Gauge> = Metric::new("owned_total", "", Gauge::new());
    let registry = Registry::new();
    registry.register(&REQUESTS).unwrap();

    // Owned after static.
    let same_family = Arc::new(Metric::new("requests_total", "", Counter::new()));
    assert_eq!(
        registry.register_owned(same_family),
        Err(RegisterError::Clash {
            name: "requests_total",
            existing: "requests"
        })
    );
    let family = Arc::new(Metric::new(
        "requests",
        "",
        Family::new(["path"], Counter::new),
    ));
    assert_eq!(
        registry.register_owned(family),
        Err(RegisterError::Clash {
            name: "requests",
            existing: "requests"
        })
    );

    // Static after owned.
    let owned = Arc::new(Metric::new("owned", "", Counter::new()));
    registry.register_owned(Arc::clone(&owned)).unwrap();
    assert_eq!(
        registry.register(&LATE_GAUGE),
        Err(RegisterError::Clash {
            name: "owned_total",
            existing: "owned"
        })
    );
    // Owned after owned.
    assert_eq!(
        registry.register_owned(Arc::new(Metric::new("owned", "", Gauge::new()))),
        Err(RegisterError::Clash {
            name: "owned",
            existing: "owned"
        })
    );
    // A failed registration leaves the metric free to register elsewhere.
    let rejected = Arc::new(Metric::new("requests", "", Gauge::new()));
    assert!(registry.register_owned(Arc::clone(&rejected)).is_err());
    Registry::new().register_owned(rejected).unwrap();
    // After unregistering, the static one may take the name.
    assert!(registry.unregister(&owned));
    registry.register(&LATE_GAUGE).unwrap();
}

#[test]
fn owned_registration_is_validated() {
    let registry = Registry::legacy();
    assert_eq!(
        registry.register_owned(Arc::new(Metric::new("1x", "", Counter::new()))),
        Err(RegisterError::InvalidName { name: "1x" })
    );
    assert_eq!(
        registry.register_owned(Arc::new(
            Metric::new("latency", "", Counter::new()).with_unit("seconds")
        )),
        Err(RegisterError::InvalidUnit {
            name: "latency",
            unit: "seconds"
        })
    );
}

/// Registering, unregistering and scraping from several threads at once.
#[test]
fn concurrent_register_unregister_and_scrape() {
    static NAMES: [&str; 4] = ["m0", "m1", "m2", "m3"];
    let registry = Registry::new();
    thread::scope(|scope| {
        for name in NAMES {
            let registry = &registry;
            scope.spawn(move || {
                for _ in 0..300 {
                    let metric = Arc::new(Metric::new(name, "", Counter::new()));
                    metric.inc();
                    registry.register_owned(Arc::clone(&metric)).unwrap();
                    assert!(registry.unregister(&metric));
                }
            });
        }
        scope.spawn(|| {
            for _ in 0..300 {
                let text = encode(&registry, Format::OpenMetrics);
                assert!(text.ends_with("# EOF\n"));
                for line in text.lines().filter(|l| !l.starts_with('#')) {
                    assert!(line.ends_with(" 1.0"), "{line}");
                }
            }
        });
    });
    assert_eq!(encode(&registry, Format::Text), "");
}
