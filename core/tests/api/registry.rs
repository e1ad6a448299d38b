//! Registration rules: names are checked once, at registration, and families whose
//! sample names could coincide cannot both be registered.

use torchlight::{
    Buckets, Counter, Gauge, Histogram, Labelled, Metric, REGISTRY, RegisterError, Registry,
};

macro_rules! counter {
    ($name:literal) => {{
        static METRIC: Metric<Counter> = Metric::new($name, "help", Counter::new());
        &METRIC
    }};
}

macro_rules! gauge {
    ($name:literal) => {{
        static METRIC: Metric<Gauge> = Metric::new($name, "help", Gauge::new());
        &METRIC
    }};
}

#[test]
fn invalid_metric_names_are_rejected() {
    let registry = Registry::legacy();
    for metric in [
        counter!(""),
        counter!("1abc"),
        counter!("a-b"),
        counter!("é"),
        counter!("a b"),
    ] {
        let name = metric.metadata().name();
        assert_eq!(
            registry.register(metric),
            Err(RegisterError::InvalidName { name })
        );
    }
    // Nothing was registered, and the message says what to do.
    assert_eq!(format!("{registry:?}"), "[]");
    let message = RegisterError::InvalidName { name: "a-b" }.to_string();
    assert!(
        message.contains("letters, digits, '_' and ':'"),
        "{message}"
    );
}

#[test]
fn clashing_families_are_rejected() {
    let registry = Registry::new();
    registry.register(counter!("jobs")).unwrap();
    for clash in [counter!("jobs_total"), counter!("jobs")] {
        assert!(matches!(
            registry.register(clash),
            Err(RegisterError::Clash {
                existing: "jobs",
                ..
            })
        ));
    }
    // A gauge named like the counter's samples clashes too.
    for clash in [gauge!("jobs_total"), gauge!("jobs_created"), gauge!("jobs")] {
        assert!(
            matches!(registry.register(clash), Err(RegisterError::Clash { .. })),
            "{clash:?}"
        );
    }
    // Histogram samples: `lat_bucket`, `lat_sum`, `lat_count`.
    static LAT: Metric<Histogram> = Metric::new("lat", "help", Histogram::new());
    registry.register(&LAT).unwrap();
    for clash in [gauge!("lat_sum"), gauge!("lat_count"), gauge!("lat_bucket")] {
        assert!(matches!(
            registry.register(clash),
            Err(RegisterError::Clash {
                existing: "lat",
                ..
            })
        ));
    }
    // Near misses are fine.
    registry.register(gauge!("jobs_totals")).unwrap();
    registry.register(gauge!("lat_sums")).unwrap();
}

#[test]
fn a_metric_registers_once() {
    let metric = counter!("once");
    let first = Registry::new();
    let second = Registry::new();
    first.register(metric).unwrap();
    assert_eq!(
        first.register(metric),
        Err(RegisterError::AlreadyRegistered { name: "once" })
    );
    assert_eq!(
        second.register(metric),
        Err(RegisterError::AlreadyRegistered { name: "once" })
    );
}

#[test]
fn a_rejected_metric_can_register_elsewhere() {
    let first = Registry::new();
    let second = Registry::new();
    first.register(counter!("taken")).unwrap();
    let metric = counter!("taken");
    assert!(first.register(metric).is_err());
    second.register(metric).unwrap();
}

#[test]
fn units_must_be_the_name_suffix() {
    let registry = Registry::new();
    static BAD: Metric<Gauge> = Metric::new("latency", "help", Gauge::new()).with_unit("seconds");
    static GLUED: Metric<Gauge> =
        Metric::new("latencyseconds", "help", Gauge::new()).with_unit("seconds");
    static EMPTY: Metric<Gauge> = Metric::new("latency_", "help", Gauge::new()).with_unit("");
    static GOOD: Metric<Counter> =
        Metric::new("busy_seconds_total", "help", Counter::new()).with_unit("seconds");
    for metric in [&BAD, &GLUED, &EMPTY] {
        assert!(matches!(
            registry.register(metric),
            Err(RegisterError::InvalidUnit { .. })
        ));
    }
    registry.register(&GOOD).unwrap();
}

torchlight::label_value! { enum Bad { One = "1" } }
torchlight::label_set! { struct Le { le: Bad } }
torchlight::label_set! { struct Reserved { __name: Bad } }

#[test]
fn label_names_are_checked() {
    static BUCKETS: Buckets<1> = Buckets::new([1.0]);
    static LE: Metric<Labelled<Le, Histogram<1>, 1>> = Metric::new(
        "le_histogram",
        "help",
        Labelled::new([const { Histogram::with_buckets(&BUCKETS) }; 1]),
    );
    static RESERVED: Metric<Labelled<Reserved, Counter, 1>> = Metric::new(
        "reserved",
        "help",
        Labelled::new([const { Counter::new() }; 1]),
    );
    static LE_COUNTER: Metric<Labelled<Le, Counter, 1>> = Metric::new(
        "le_counter",
        "help",
        Labelled::new([const { Counter::new() }; 1]),
    );
    let registry = Registry::new();
    assert_eq!(
        registry.register(&LE),
        Err(RegisterError::ReservedLabelName {
            name: "le_histogram",
            label: "le"
        })
    );
    assert_eq!(
        registry.register(&RESERVED),
        Err(RegisterError::InvalidLabelName {
            name: "reserved",
            label: "__name"
        })
    );
    // `le` is only reserved on histograms.
    registry.register(&LE_COUNTER).unwrap();
}

#[test]
fn the_default_registry_is_shared() {
    REGISTRY
        .register(counter!("default_registry_probe"))
        .unwrap();
    let mut out = String::new();
    REGISTRY.encode(&mut out, torchlight::Format::Text).unwrap();
    assert!(out.contains("default_registry_probe_total 0\n"));
}

#[test]
fn concurrent_registration_of_one_name_admits_one() {
    static SAME: [Metric<Counter>; 8] = [const { Metric::new("raced", "help", Counter::new()) }; 8];
    let registry = Registry::new();
    let admitted = std::thread::scope(|scope| {
        let handles: Vec<_> = SAME
            .iter()
            .map(|m| scope.spawn(|| registry.register(m).is_ok()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|admitted| *admitted)
            .count()
    });
    assert_eq!(admitted, 1);
}
