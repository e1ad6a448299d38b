//! Summary, Info, StateSet and `# UNIT`: golden bytes in both formats, and the
//! registration rules for units and state set names.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use torchlight::{
    Counter, Format, Histogram, Info, InfoError, Labelled, Metric, RegisterError, Registry,
    StateSet, Summary,
};

torchlight::label_value! {
    /// A task's state.
    enum TaskState { Starting = "starting", Running = "running", Stopped = "stopped" }
}

torchlight::label_value! {
    /// A region.
    enum Region { Eu = "eu", Us = "us" }
}

torchlight::label_set! {
    /// Per-region labels.
    struct ByRegion { region: Region }
}

fn encode(registry: &Registry, format: Format) -> String {
    let mut out = String::new();
    registry
        .encode(&mut out, format)
        .expect("String writes cannot fail");
    out
}

#[test]
fn summary_golden() {
    static RPC: Metric<Summary> =
        Metric::new("rpc_seconds", "Summary.", Summary::new()).with_unit("seconds");
    static EMPTY: Metric<Summary> = Metric::new("empty", "Nothing yet.", Summary::new());
    let registry = Registry::new();
    registry.register(&RPC).unwrap();
    registry.register(&EMPTY).unwrap();
    // Negative and NaN values are dropped: OpenMetrics parsers reject such a `_sum`.
    for value in [0.05, -1.0, 0.2, f64::NAN, 12.25] {
        RPC.observe(value);
    }
    assert_eq!(
        encode(&registry, Format::Text),
        "# HELP rpc_seconds Summary.\n\
         # TYPE rpc_seconds summary\n\
         rpc_seconds_sum 12.5\n\
         rpc_seconds_count 3\n\
         # HELP empty Nothing yet.\n\
         # TYPE empty summary\n\
         empty_sum 0\n\
         empty_count 0\n"
    );
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        "# HELP rpc_seconds Summary.\n\
         # TYPE rpc_seconds summary\n\
         # UNIT rpc_seconds seconds\n\
         rpc_seconds_sum 12.5\n\
         rpc_seconds_count 3\n\
         # HELP empty Nothing yet.\n\
         # TYPE empty summary\n\
         empty_sum 0.0\n\
         empty_count 0\n\
         # EOF\n"
    );
}

#[test]
fn summary_with_labels_golden() {
    static BY_REGION: Metric<Labelled<ByRegion, Summary, 2>> = Metric::new(
        "payload_bytes",
        "Payload sizes.",
        Labelled::new([const { Summary::new() }; 2]),
    );
    let registry = Registry::new();
    registry.register(&BY_REGION).unwrap();
    BY_REGION.get(ByRegion { region: Region::Us }).observe(1e6);
    assert_eq!(
        encode(&registry, Format::Text),
        "# HELP payload_bytes Payload sizes.\n\
         # TYPE payload_bytes summary\n\
         payload_bytes_sum{region=\"eu\"} 0\n\
         payload_bytes_count{region=\"eu\"} 0\n\
         payload_bytes_sum{region=\"us\"} 1e+06\n\
         payload_bytes_count{region=\"us\"} 1\n"
    );
}

/// Scrapes racing observations of 1.0 must always see `_sum == _count`.
#[test]
fn summary_count_and_sum_agree_under_contention() {
    static S: Summary = Summary::new();
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 20_000;
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        let observers: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    for _ in 0..PER_THREAD {
                        S.observe(1.0);
                    }
                })
            })
            .collect();
        scope.spawn(|| {
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                let snapshot = S.snapshot();
                #[allow(clippy::cast_precision_loss)]
                let count = snapshot.count() as f64;
                assert_eq!(snapshot.sum(), count, "torn summary");
                assert!(snapshot.count() >= last, "count went backwards");
                last = snapshot.count();
            }
        });
        for observer in observers {
            observer.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    let snapshot = S.snapshot();
    assert_eq!(snapshot.count(), THREADS * PER_THREAD);
    #[allow(clippy::cast_precision_loss)]
    let expected = (THREADS * PER_THREAD) as f64;
    assert_eq!(snapshot.sum(), expected);
}

#[test]
fn info_golden() {
    static BUILD: Metric<Info<3>> = Metric::new(
        "build",
        "Build \"facts\".",
        Info::new([
            ("version", "1.2.3"),
            ("commit", "a\"b\\c\nd"),
            ("host", "bäckerei ✓"),
        ]),
    );
    static EMPTY_INFO: Metric<Info<0>> = Metric::new("target_info", "", Info::new([]));
    let registry = Registry::new();
    registry.register(&BUILD).unwrap();
    registry.register(&EMPTY_INFO).unwrap();
    assert_eq!(
        encode(&registry, Format::Text),
        "# HELP build_info Build \"facts\".\n\
         # TYPE build_info gauge\n\
         build_info{version=\"1.2.3\",commit=\"a\\\"b\\\\c\\nd\",host=\"bäckerei ✓\"} 1\n\
         # TYPE target_info gauge\n\
         target_info 1\n"
    );
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        "# HELP build Build \\\"facts\\\".\n\
         # TYPE build info\n\
         build_info{version=\"1.2.3\",commit=\"a\\\"b\\\\c\\nd\",host=\"bäckerei ✓\"} 1.0\n\
         # TYPE target info\n\
         target_info 1.0\n\
         # EOF\n"
    );
}

#[test]
fn info_label_names_are_checked() {
    assert_eq!(
        Info::try_new([("ok", "1"), ("__reserved", "2")]),
        Err(InfoError::InvalidLabelName { index: 1 })
    );
    assert_eq!(
        Info::try_new([("", "1")]),
        Err(InfoError::InvalidLabelName { index: 0 })
    );
    // UTF-8 label names are built; a legacy registry refuses them at registration.
    assert!(Info::try_new([("service.name", "1")]).is_ok());
    assert_eq!(
        Info::try_new([("a", "1"), ("b", "2"), ("a", "3")]),
        Err(InfoError::DuplicateLabelName { index: 2 })
    );
    assert!(Info::try_new([("a", "1"), ("b", "")]).is_ok());
    assert!(
        InfoError::DuplicateLabelName { index: 2 }
            .to_string()
            .contains("#2")
    );
}

#[test]
fn state_set_golden() {
    static TASK: Metric<StateSet<TaskState>> =
        Metric::new("task_state", "Task state.", StateSet::new());
    static FLAG: Metric<StateSet<bool>> = Metric::new("feature", "", StateSet::new());
    let registry = Registry::new();
    registry.register(&TASK).unwrap();
    registry.register(&FLAG).unwrap();
    assert_eq!(TASK.get(), TaskState::Starting, "starts in the first state");
    TASK.set(TaskState::Stopped);
    FLAG.set(true);
    assert_eq!(
        encode(&registry, Format::Text),
        "# HELP task_state Task state.\n\
         # TYPE task_state gauge\n\
         task_state{task_state=\"starting\"} 0\n\
         task_state{task_state=\"running\"} 0\n\
         task_state{task_state=\"stopped\"} 1\n\
         # TYPE feature gauge\n\
         feature{feature=\"false\"} 0\n\
         feature{feature=\"true\"} 1\n"
    );
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        "# HELP task_state Task state.\n\
         # TYPE task_state stateset\n\
         task_state{task_state=\"starting\"} 0.0\n\
         task_state{task_state=\"running\"} 0.0\n\
         task_state{task_state=\"stopped\"} 1.0\n\
         # TYPE feature stateset\n\
         feature{feature=\"false\"} 0.0\n\
         feature{feature=\"true\"} 1.0\n\
         # EOF\n"
    );
}

#[test]
fn state_set_with_labels_golden() {
    static PER_REGION: Metric<Labelled<ByRegion, StateSet<bool>, 2>> = Metric::new(
        "healthy",
        "Region health.",
        Labelled::new([const { StateSet::new() }; 2]),
    );
    let registry = Registry::new();
    registry.register(&PER_REGION).unwrap();
    PER_REGION.get(ByRegion { region: Region::Eu }).set(true);
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        "# HELP healthy Region health.\n\
         # TYPE healthy stateset\n\
         healthy{region=\"eu\",healthy=\"false\"} 0.0\n\
         healthy{region=\"eu\",healthy=\"true\"} 1.0\n\
         healthy{region=\"us\",healthy=\"false\"} 1.0\n\
         healthy{region=\"us\",healthy=\"true\"} 0.0\n\
         # EOF\n"
    );
}

/// Every scrape shows exactly one state set, however fast the state changes.
#[test]
fn state_set_shows_exactly_one_state() {
    static TASK: Metric<StateSet<TaskState>> = Metric::new("racing_state", "", StateSet::new());
    let registry = Registry::new();
    registry.register(&TASK).unwrap();
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        scope.spawn(|| {
            let states = [TaskState::Starting, TaskState::Running, TaskState::Stopped];
            for i in 0..50_000 {
                TASK.set(states[i % 3]);
            }
            done.store(true, Ordering::Relaxed);
        });
        let mut scrapes = 0;
        while !done.load(Ordering::Relaxed) || scrapes == 0 {
            let text = encode(&registry, Format::Text);
            let on = text.lines().filter(|line| line.ends_with(" 1")).count();
            assert_eq!(on, 1, "{text}");
            scrapes += 1;
        }
    });
}

#[test]
fn unit_metadata_is_openmetrics_only() {
    static BYTES: Metric<Counter> =
        Metric::new("sent_bytes_total", "Bytes sent.", Counter::new()).with_unit("bytes");
    static LATENCY: Metric<Histogram<0>> = Metric::new(
        "latency_seconds",
        "",
        Histogram::with_buckets(&torchlight::Buckets::new([])),
    )
    .with_unit("seconds");
    let registry = Registry::new();
    registry.register(&BYTES).unwrap();
    registry.register(&LATENCY).unwrap();
    BYTES.inc_by(3);
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        "# HELP sent_bytes Bytes sent.\n\
         # TYPE sent_bytes counter\n\
         # UNIT sent_bytes bytes\n\
         sent_bytes_total 3.0\n\
         # TYPE latency_seconds histogram\n\
         # UNIT latency_seconds seconds\n\
         latency_seconds_bucket{le=\"+Inf\"} 0\n\
         latency_seconds_sum 0.0\n\
         latency_seconds_count 0\n\
         # EOF\n"
    );
    let text = encode(&registry, Format::Text);
    assert!(!text.contains("UNIT"), "{text}");
    assert!(text.starts_with(
        "# HELP sent_bytes_total Bytes sent.\n# TYPE sent_bytes_total counter\nsent_bytes_total 3\n"
    ));
}

#[test]
fn unit_must_be_the_name_suffix() {
    fn register(metric: &'static Metric<impl torchlight::Collect>) -> Result<(), RegisterError> {
        Registry::new().register(metric)
    }
    static OK_COUNTER: Metric<Counter> =
        Metric::new("queue_bytes", "", Counter::new()).with_unit("bytes");
    static OK_COUNTER_TOTAL: Metric<Counter> =
        Metric::new("io_seconds_total", "", Counter::new()).with_unit("seconds");
    static OK_SUMMARY: Metric<Summary> =
        Metric::new("rpc_duration_seconds", "", Summary::new()).with_unit("seconds");
    assert_eq!(register(&OK_COUNTER), Ok(()));
    assert_eq!(register(&OK_COUNTER_TOTAL), Ok(()));
    assert_eq!(register(&OK_SUMMARY), Ok(()));

    static NOT_SUFFIX: Metric<Counter> =
        Metric::new("latency", "", Counter::new()).with_unit("seconds");
    static PARTIAL_WORD: Metric<Counter> =
        Metric::new("megabytes", "", Counter::new()).with_unit("bytes");
    static WHOLE_NAME: Metric<Counter> =
        Metric::new("seconds", "", Counter::new()).with_unit("seconds");
    static EMPTY: Metric<Counter> = Metric::new("x_", "", Counter::new()).with_unit("");
    static TOTAL_AS_UNIT: Metric<Counter> =
        Metric::new("io_seconds_total", "", Counter::new()).with_unit("total");
    static INFO: Metric<Info<0>> =
        Metric::new("build_seconds", "", Info::new([])).with_unit("seconds");
    static STATES: Metric<StateSet<bool>> =
        Metric::new("up_bool", "", StateSet::new()).with_unit("bool");
    for (metric, name, unit) in [
        (&NOT_SUFFIX, "latency", "seconds"),
        (&PARTIAL_WORD, "megabytes", "bytes"),
        (&WHOLE_NAME, "seconds", "seconds"),
        (&EMPTY, "x_", ""),
    ] {
        assert_eq!(
            register(metric),
            Err(RegisterError::InvalidUnit { name, unit }),
            "{name}"
        );
    }
    // A counter's unit is checked against its family name, without `_total`.
    assert_eq!(
        register(&TOTAL_AS_UNIT),
        Err(RegisterError::InvalidUnit {
            name: "io_seconds_total",
            unit: "total"
        })
    );
    assert_eq!(
        register(&INFO),
        Err(RegisterError::InvalidUnit {
            name: "build_seconds",
            unit: "seconds"
        })
    );
    assert_eq!(
        register(&STATES),
        Err(RegisterError::InvalidUnit {
            name: "up_bool",
            unit: "bool"
        })
    );
    assert!(
        RegisterError::InvalidUnit {
            name: "latency",
            unit: "seconds"
        }
        .to_string()
        .contains("must end in \"_seconds\"")
    );
}

#[test]
fn state_set_name_must_be_a_label_name() {
    static COLON: Metric<StateSet<bool>> = Metric::new("job:up", "", StateSet::new());
    static DUNDER: Metric<StateSet<bool>> = Metric::new("__up", "", StateSet::new());
    let registry = Registry::legacy();
    assert_eq!(
        registry.register(&COLON),
        Err(RegisterError::InvalidName { name: "job:up" })
    );
    assert_eq!(
        registry.register(&DUNDER),
        Err(RegisterError::InvalidName { name: "__up" })
    );
    // A state set may not carry its own name as a series label either.
    torchlight::label_set! {
        /// Labels named like the family.
        struct Clashing { flag: bool }
    }
    static SELF_LABEL: Metric<Labelled<Clashing, StateSet<bool>, 2>> =
        Metric::new("flag", "", Labelled::new([const { StateSet::new() }; 2]));
    assert_eq!(
        registry.register(&SELF_LABEL),
        Err(RegisterError::ReservedLabelName {
            name: "flag",
            label: "flag"
        })
    );
}

#[test]
fn summary_reserves_quantile_and_clashes_like_a_histogram() {
    torchlight::label_set! {
        /// A label named like the summary's own.
        struct Quantile { quantile: bool }
    }
    static Q: Metric<Labelled<Quantile, Summary, 2>> =
        Metric::new("q", "", Labelled::new([const { Summary::new() }; 2]));
    static RPC: Metric<Summary> = Metric::new("rpc", "", Summary::new());
    static RPC_COUNT: Metric<Counter> = Metric::new("rpc_count", "", Counter::new());
    let registry = Registry::new();
    assert_eq!(
        registry.register(&Q),
        Err(RegisterError::ReservedLabelName {
            name: "q",
            label: "quantile"
        })
    );
    registry.register(&RPC).unwrap();
    assert_eq!(
        registry.register(&RPC_COUNT),
        Err(RegisterError::Clash {
            name: "rpc_count",
            existing: "rpc"
        })
    );
}
