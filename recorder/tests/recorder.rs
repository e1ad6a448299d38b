//! The recorder's behaviour through the `metrics` macros, checked against exact
//! exposition bytes.

#![forbid(unsafe_code)]

use std::sync::{Arc, Mutex};

use std::time::Duration;

use metrics::{Unit, with_local_recorder};
use torchlight::{Counter, Escaping, Exposition, Format, Metric, RegisterError, Registry};
use torchlight_metrics::{Builder, MAX_LABEL_SETS, RecordError, TorchlightRecorder};

/// A fresh registry for one test (the recorder needs a `'static` one).
fn registry() -> &'static Registry {
    Box::leak(Box::new(Registry::new()))
}

/// A fresh registry taking only legacy names.
fn legacy_registry() -> &'static Registry {
    Box::leak(Box::new(Registry::legacy()))
}

/// A recorder on a fresh registry whose errors are collected.
fn recorder() -> (TorchlightRecorder, Arc<Mutex<Vec<RecordError>>>) {
    recorder_with(Builder::new(registry()))
}

/// The recorder `builder` builds, its errors collected.
fn recorder_with(builder: Builder) -> (TorchlightRecorder, Arc<Mutex<Vec<RecordError>>>) {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&errors);
    let recorder = builder
        .with_error_hook(move |error| sink.lock().expect("not poisoned").push(error.clone()))
        .build()
        .expect("valid options");
    (recorder, errors)
}

fn encode(recorder: &TorchlightRecorder, format: impl Into<Exposition>) -> String {
    let mut text = String::new();
    recorder
        .registry()
        .encode(&mut text, format)
        .expect("a String never fails");
    text
}

fn text(recorder: &TorchlightRecorder) -> String {
    encode(recorder, Format::Text)
}

#[test]
fn counters_gauges_and_histograms_are_exposed_with_their_values() {
    let (recorder, errors) = recorder();
    with_local_recorder(&recorder, || {
        metrics::describe_counter!("requests", "Requests served.");
        metrics::counter!("requests", "method" => "GET").increment(2);
        metrics::counter!("requests", "method" => "GET").increment(1);
        metrics::counter!("requests", "method" => "POST").absolute(7);
        metrics::gauge!("temperature").set(21.5);
        metrics::gauge!("temperature").increment(1.0);
        metrics::gauge!("temperature").decrement(0.25);
        metrics::histogram!("latency_seconds").record(0.003);
        metrics::histogram!("latency_seconds").record_many(0.2, 2);
        metrics::histogram!("latency_seconds").record(11.0);
    });
    assert_eq!(
        text(&recorder),
        "# HELP requests_total Requests served.\n\
         # TYPE requests_total counter\n\
         requests_total{method=\"GET\"} 3\n\
         requests_total{method=\"POST\"} 7\n\
         # TYPE temperature gauge\n\
         temperature 22.25\n\
         # TYPE latency_seconds histogram\n\
         latency_seconds_bucket{le=\"0.005\"} 1\n\
         latency_seconds_bucket{le=\"0.01\"} 1\n\
         latency_seconds_bucket{le=\"0.025\"} 1\n\
         latency_seconds_bucket{le=\"0.05\"} 1\n\
         latency_seconds_bucket{le=\"0.075\"} 1\n\
         latency_seconds_bucket{le=\"0.1\"} 1\n\
         latency_seconds_bucket{le=\"0.25\"} 3\n\
         latency_seconds_bucket{le=\"0.5\"} 3\n\
         latency_seconds_bucket{le=\"0.75\"} 3\n\
         latency_seconds_bucket{le=\"1\"} 3\n\
         latency_seconds_bucket{le=\"2.5\"} 3\n\
         latency_seconds_bucket{le=\"5\"} 3\n\
         latency_seconds_bucket{le=\"7.5\"} 3\n\
         latency_seconds_bucket{le=\"10\"} 3\n\
         latency_seconds_bucket{le=\"+Inf\"} 4\n\
         latency_seconds_sum 11.403\n\
         latency_seconds_count 4\n"
    );
    assert!(errors.lock().expect("not poisoned").is_empty());
}

#[test]
fn absolute_only_raises_a_counter() {
    let (recorder, _) = recorder();
    with_local_recorder(&recorder, || {
        metrics::counter!("synced").absolute(10);
        metrics::counter!("synced").absolute(4);
        metrics::counter!("synced").increment(1);
    });
    assert!(text(&recorder).ends_with("synced_total 11\n"));
}

#[test]
fn names_and_label_keys_are_sanitised_as_the_prometheus_exporter_does_for_a_legacy_registry() {
    let (recorder, _) = recorder_with(Builder::new(legacy_registry()));
    with_local_recorder(&recorder, || {
        metrics::counter!("http.requests", "http.method" => "GET", "1st" => "a\"b\\c\nd")
            .increment(1);
        // Another spelling of the same sanitised name is the same family.
        metrics::counter!("http_requests", "http_method" => "GET", "_st" => "a\"b\\c\nd")
            .increment(1);
    });
    assert_eq!(
        text(&recorder),
        "# TYPE http_requests_total counter\n\
         http_requests_total{http_method=\"GET\",_st=\"a\\\"b\\\\c\\nd\"} 2\n"
    );
}

#[test]
fn a_utf8_registry_gets_names_and_label_keys_as_recorded() {
    let (recorder, errors) =
        recorder_with(Builder::new(registry()).with_global_label("service.name", "checkout"));
    with_local_recorder(&recorder, || {
        metrics::counter!("http.server.requests", "http.method" => "GET").increment(1);
        // Another spelling of the key is the same label, spelled as first recorded.
        metrics::counter!("http.server.requests", "http_method" => "GET").increment(1);
    });
    let utf8 = Exposition::new(Format::Text).with_escaping(Escaping::AllowUtf8);
    assert_eq!(
        encode(&recorder, utf8),
        "# TYPE \"http.server.requests_total\" counter\n\
         {\"http.server.requests_total\",\"service.name\"=\"checkout\",\"http.method\"=\"GET\"} 2\n"
    );
    // A scraper without UTF-8 support reads the names escaped, as it asked.
    assert_eq!(
        text(&recorder),
        "# TYPE http_server_requests_total counter\n\
         http_server_requests_total{service_name=\"checkout\",http_method=\"GET\"} 2\n"
    );
    assert!(errors.lock().expect("not poisoned").is_empty());
}

#[test]
fn names_a_scraper_reads_alike_are_reported_once_and_never_duplicated() {
    let (recorder, errors) = recorder();
    with_local_recorder(&recorder, || {
        metrics::counter!("jobs.done").increment(1);
        for _ in 0..3 {
            metrics::counter!("jobs_done").increment(5);
        }
        // Two keys that are one label, in one call: refused, once.
        for _ in 0..2 {
            metrics::counter!("jobs.done", "a.b" => "1", "a_b" => "2").increment(1);
        }
    });
    let errors = errors.lock().expect("not poisoned");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        matches!(
            &errors[0],
            RecordError::Register { name, source: RegisterError::Clash { existing: "jobs.done", .. } }
                if name == "jobs_done"
        ),
        "{errors:#?}"
    );
    assert!(
        matches!(&errors[1], RecordError::Labels { .. }),
        "{errors:#?}"
    );
    let utf8 = Exposition::new(Format::Text).with_escaping(Escaping::AllowUtf8);
    assert_eq!(
        encode(&recorder, utf8),
        "# TYPE \"jobs.done_total\" counter\n{\"jobs.done_total\"} 1\n"
    );
}

#[test]
fn with_an_idle_timeout_a_series_goes_after_a_scrape_showed_its_final_value() {
    let (recorder, errors) =
        recorder_with(Builder::new(registry()).with_idle_timeout(Duration::ZERO));
    let jobs = || metrics::counter!("jobs", "queue" => "mail");
    with_local_recorder(&recorder, || jobs().increment(1));
    assert!(text(&recorder).ends_with("jobs_total{queue=\"mail\"} 1\n"));
    with_local_recorder(&recorder, || jobs().increment(1));
    // The final increment is scraped, then the series goes.
    assert!(text(&recorder).ends_with("jobs_total{queue=\"mail\"} 2\n"));
    assert_eq!(text(&recorder), "# TYPE jobs_total counter\n");
    // Recorded again: a new series, from zero.
    with_local_recorder(&recorder, || jobs().increment(1));
    assert!(text(&recorder).ends_with("jobs_total{queue=\"mail\"} 1\n"));

    // A handle kept by the program keeps its series, and loses no update.
    let held = with_local_recorder(&recorder, || metrics::gauge!("depth"));
    held.set(3.0);
    for _ in 0..3 {
        assert!(text(&recorder).contains("depth 3\n"));
    }
    held.set(4.0);
    drop(held);
    assert!(text(&recorder).contains("depth 4\n"));
    assert!(!text(&recorder).contains("depth 4\n"));
    assert!(errors.lock().expect("not poisoned").is_empty());
    assert_eq!(
        Builder::new(registry())
            .with_idle_timeout(Duration::from_secs(60))
            .idle_timeout(),
        Some(Duration::from_secs(60))
    );
}

#[test]
fn label_keys_in_any_order_are_one_series() {
    let (recorder, _) = recorder();
    with_local_recorder(&recorder, || {
        metrics::counter!("hits", "a" => "1", "b" => "2").increment(1);
        metrics::counter!("hits", "b" => "2", "a" => "1").increment(1);
    });
    assert!(text(&recorder).ends_with("hits_total{a=\"1\",b=\"2\"} 2\n"));
}

#[test]
fn different_label_keys_share_one_family() {
    let (recorder, _) = recorder();
    with_local_recorder(&recorder, || {
        metrics::gauge!("queue_depth", "queue" => "mail").set(3.0);
        metrics::gauge!("queue_depth").set(1.0);
        metrics::gauge!("queue_depth", "queue" => "sms", "region" => "eu").set(2.0);
    });
    assert_eq!(
        text(&recorder),
        "# TYPE queue_depth gauge\n\
         queue_depth{queue=\"mail\"} 3\n\
         queue_depth 1\n\
         queue_depth{queue=\"sms\",region=\"eu\"} 2\n"
    );
}

#[test]
fn a_clash_with_a_native_metric_is_reported_once_and_never_duplicated() {
    static NATIVE: Metric<Counter> = Metric::new("jobs", "Native jobs.", Counter::new());
    let (recorder, errors) = recorder();
    recorder.registry().register(&NATIVE).expect("registers");
    NATIVE.inc();
    with_local_recorder(&recorder, || {
        metrics::counter!("jobs_total").increment(5);
        metrics::counter!("jobs").increment(5);
        metrics::gauge!("jobs").set(5.0);
    });
    assert_eq!(
        text(&recorder),
        "# HELP jobs_total Native jobs.\n# TYPE jobs_total counter\njobs_total 1\n"
    );
    let errors = errors.lock().expect("not poisoned");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .all(|error| matches!(error, RecordError::Register { .. })),
        "{errors:?}"
    );
    assert!(
        errors[0].to_string().contains("\"jobs_total\""),
        "{}",
        errors[0]
    );
    assert!(errors[1].to_string().contains("\"jobs\""), "{}", errors[1]);
}

#[test]
fn a_name_used_as_two_kinds_is_reported_once_per_kind() {
    let (recorder, errors) = recorder();
    with_local_recorder(&recorder, || {
        metrics::counter!("work").increment(1);
        for _ in 0..3 {
            metrics::gauge!("work").set(9.0);
        }
        metrics::histogram!("work").record(9.0);
    });
    assert_eq!(text(&recorder), "# TYPE work_total counter\nwork_total 1\n");
    let errors = errors.lock().expect("not poisoned");
    assert_eq!(
        *errors,
        [
            RecordError::KindMismatch {
                name: "work".into(),
                first: "counter",
                now: "gauge"
            },
            RecordError::KindMismatch {
                name: "work".into(),
                first: "counter",
                now: "histogram"
            },
        ]
    );
}

#[test]
fn descriptions_and_units_before_or_after_first_use() {
    let (recorder, errors) = recorder();
    with_local_recorder(&recorder, || {
        metrics::describe_histogram!("read_bytes", Unit::Bytes, "Bytes per read.");
        metrics::histogram!("read_bytes").record(1.0);
        metrics::gauge!("load").set(0.5);
        // After first use: re-registered with the description.
        metrics::describe_gauge!("load", Unit::Percent, "System load.");
        // A unit the name does not end in is left out, not added to the name.
        metrics::describe_counter!("sent", Unit::Bytes, "Bytes sent.");
        metrics::counter!("sent").increment(3);
    });
    let text = encode(&recorder, Format::OpenMetrics);
    assert!(
        text.starts_with(
            "# HELP read_bytes Bytes per read.\n# TYPE read_bytes histogram\n# UNIT read_bytes bytes\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("# HELP sent Bytes sent.\n# TYPE sent counter\nsent_total 3.0\n"),
        "{text}"
    );
    assert!(
        text.contains("# HELP load System load.\n# TYPE load gauge\nload 0.5\n"),
        "{text}"
    );
    assert_eq!(text.matches("# TYPE load ").count(), 1);
    assert!(errors.lock().expect("not poisoned").is_empty());
}

#[test]
fn buckets_per_name_prefix_and_suffix() {
    // Legacy: patterns are sanitised as recorded names are.
    let recorder = Builder::new(legacy_registry())
        .with_buckets(&[1.0])
        .with_buckets_for_prefix("db_", &[2.0])
        .with_buckets_for_prefix("db_slow_", &[3.0])
        .with_buckets_for_suffix("_bytes", &[4.0])
        .with_buckets_for_name("db.slow.query", &[5.0])
        .build()
        .expect("valid bounds");
    with_local_recorder(&recorder, || {
        for name in [
            "other",
            "db_fast",
            "db_slow_scan",
            "db_slow_query",
            "body_bytes",
        ] {
            metrics::histogram!(name).record(0.5);
        }
    });
    let text = text(&recorder);
    for (name, le) in [
        ("other", "1"),
        ("db_fast", "2"),
        ("db_slow_scan", "3"),
        ("db_slow_query", "5"),
        ("body_bytes", "4"),
    ] {
        let line = format!("{name}_bucket{{le=\"{le}\"}} 1\n{name}_bucket{{le=\"+Inf\"}} 1\n");
        assert!(text.contains(&line), "{name}: {text}");
    }
    assert!(
        Builder::new(registry())
            .with_buckets(&[2.0, 1.0])
            .build()
            .is_err(),
        "bounds are checked"
    );
    assert!(Builder::new(registry()).with_buckets(&[]).build().is_err());
    assert!(
        Builder::new(registry())
            .with_buckets(&[1.0; torchlight_metrics::MAX_BUCKETS + 1])
            .build()
            .is_err()
    );
}

#[test]
fn the_family_limit_bounds_cardinality() {
    let recorder = Builder::new(registry())
        .with_limit(2)
        .build()
        .expect("valid options");
    with_local_recorder(&recorder, || {
        for user in ["a", "b", "c", "d"] {
            metrics::counter!("logins", "user" => user).increment(1);
        }
    });
    assert!(
        text(&recorder).ends_with(
            "logins_total{user=\"a\"} 1\nlogins_total{user=\"b\"} 1\n\
             logins_total{otel_metric_overflow=\"true\"} 2\n"
        ),
        "{}",
        text(&recorder)
    );
}

#[test]
fn global_labels_come_first_and_recorded_labels_override_them() {
    let recorder = Builder::new(registry())
        .with_global_label("service", "api")
        .with_global_label("zone", "z1")
        .build()
        .expect("valid options");
    with_local_recorder(&recorder, || {
        metrics::counter!("calls").increment(1);
        metrics::counter!("calls", "zone" => "z2", "kind" => "x").increment(1);
    });
    let text = text(&recorder);
    assert!(
        text.contains("calls_total{service=\"api\",zone=\"z1\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("calls_total{service=\"api\",zone=\"z2\",kind=\"x\"} 1\n"),
        "{text}"
    );
}

#[test]
fn refused_label_keys_and_too_many_key_sets_are_reported_once() {
    let (recorder, errors) = recorder();
    with_local_recorder(&recorder, || {
        for _ in 0..2 {
            metrics::histogram!("sizes", "le" => "1").record(1.0);
            metrics::counter!("dup", "a.b" => "1", "a_b" => "2").increment(1);
        }
        for i in 0..=MAX_LABEL_SETS + 1 {
            let key = format!("k{i}");
            metrics::counter!("wide", key => "v").increment(1);
        }
    });
    let errors = errors.lock().expect("not poisoned");
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(matches!(&errors[0], RecordError::Labels { name, .. } if name == "sizes"));
    assert!(matches!(&errors[1], RecordError::Labels { name, .. } if name == "dup"));
    assert_eq!(
        errors[2],
        RecordError::TooManyLabelSets {
            name: "wide".into(),
            limit: MAX_LABEL_SETS,
        }
    );
    let text = text(&recorder);
    assert_eq!(text.matches("wide_total{").count(), MAX_LABEL_SETS);
    assert!(!text.contains("dup_total{"), "{text}");
}

#[test]
fn installs_once_per_process() {
    let registry = registry();
    torchlight_metrics::install(registry).expect("the first install succeeds");
    metrics::counter!("installed").increment(1);
    let mut text = String::new();
    registry.encode(&mut text, Format::Text).expect("encodes");
    assert!(text.ends_with("installed_total 1\n"), "{text}");
    let again = torchlight_metrics::install(registry);
    assert!(matches!(
        again,
        Err(torchlight_metrics::InstallError::AlreadyInstalled)
    ));
}

#[test]
fn many_label_values_past_the_limit_and_the_cache_all_count() {
    let recorder = Builder::new(registry())
        .with_limit(10)
        .build()
        .expect("valid options");
    with_local_recorder(&recorder, || {
        // Twice: the second round finds the first round's keys in the cache (as far
        // as it holds them) and the rest through the families.
        for _ in 0..2 {
            for user in 0..20_000 {
                metrics::counter!("visits", "user" => user.to_string()).increment(1);
            }
        }
    });
    let text = text(&recorder);
    assert!(
        text.ends_with("visits_total{otel_metric_overflow=\"true\"} 39980\n"),
        "{}",
        &text[text.len().saturating_sub(200)..]
    );
    assert_eq!(text.matches("visits_total{user=").count(), 10);
}

#[test]
fn a_native_metric_registered_after_first_use_gets_the_registry_error() {
    static LATE: Metric<Counter> = Metric::new("early", "Registered too late.", Counter::new());
    let (recorder, errors) = recorder();
    with_local_recorder(&recorder, || metrics::counter!("early").increment(1));
    let refused = recorder.registry().register(&LATE);
    assert!(
        matches!(refused, Err(torchlight::RegisterError::Clash { .. })),
        "{refused:?}"
    );
    assert!(text(&recorder).ends_with("early_total 1\n"));
    assert!(errors.lock().expect("not poisoned").is_empty());
}

#[test]
fn concurrent_first_uses_and_recordings_count_exactly_once() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 2_000;
    let (recorder, errors) = recorder();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let recorder = recorder.clone();
            scope.spawn(move || {
                with_local_recorder(&recorder, || {
                    for round in 0..ROUNDS {
                        // Every thread races to create the same names, sets and children.
                        let shard = (round % 8).to_string();
                        metrics::counter!("racy", "shard" => shard.clone()).increment(1);
                        metrics::counter!(format!("racy_{}", round % 3)).increment(1);
                        metrics::histogram!("racy_seconds", "thread" => thread.to_string())
                            .record(0.1);
                    }
                });
            });
        }
    });
    let text = text(&recorder);
    let per_shard = THREADS * ROUNDS / 8;
    for shard in 0..8 {
        assert!(
            text.contains(&format!("racy_total{{shard=\"{shard}\"}} {per_shard}\n")),
            "{text}"
        );
    }
    for name in 0..3 {
        assert_eq!(
            text.matches(&format!("# TYPE racy_{name}_total counter\n"))
                .count(),
            1
        );
    }
    for thread in 0..THREADS {
        assert!(
            text.contains(&format!(
                "racy_seconds_count{{thread=\"{thread}\"}} {ROUNDS}\n"
            )),
            "{text}"
        );
    }
    assert!(errors.lock().expect("not poisoned").is_empty());
}

/// A native setting is one more layout, picked by the same precedence (name, longest
/// prefix, longest suffix, default): text scrapers see a native histogram's classic
/// form, `+Inf`, `_sum` and `_count` only.
#[test]
fn native_histograms_per_name_prefix_and_suffix() {
    let recorder = Builder::new(registry())
        .with_buckets(&[1.0])
        .with_native_histogram_for_prefix("rpc_", 1.1)
        .with_buckets_for_name("rpc_classic_seconds", &[5.0])
        .with_native_histogram_for_suffix("_native", 2.0)
        .with_native_histogram_for_name("db.query", 1.1)
        .build()
        .expect("valid settings");
    with_local_recorder(&recorder, || {
        for name in [
            "other",
            "rpc_call_seconds",
            "rpc_classic_seconds",
            "size_native",
            "db.query",
        ] {
            metrics::histogram!(name).record(0.5);
            metrics::histogram!(name).record_many(3.0, 2);
        }
    });
    let text = text(&recorder);
    for (name, le, n) in [("other", "1", 1), ("rpc_classic_seconds", "5", 3)] {
        let lines = format!(
            "{name}_bucket{{le=\"{le}\"}} {n}\n{name}_bucket{{le=\"+Inf\"}} 3\n{name}_sum 6.5\n"
        );
        assert!(text.contains(&lines), "{name}: {text}");
    }
    for name in ["rpc_call_seconds", "size_native", "db_query"] {
        let lines =
            format!("# TYPE {name} histogram\n{name}_bucket{{le=\"+Inf\"}} 3\n{name}_sum 6.5\n");
        assert!(text.contains(&lines), "{name} is native: {text}");
    }
    let error = Builder::new(registry())
        .with_native_histogram_for_suffix("_seconds", 1.0)
        .build()
        .expect_err("a factor of 1 picks no schema");
    assert!(error.to_string().contains("greater than 1"), "{error}");
    assert!(
        Builder::new(registry())
            .with_native_histograms(f64::NAN)
            .build()
            .is_err()
    );
}

#[test]
fn invalid_bounds_are_refused_by_build_and_install() {
    let error = Builder::new(registry())
        .with_buckets_for_prefix("db_", &[1.0, f64::NAN])
        .with_limit(5)
        .build()
        .expect_err("NaN is not a bound");
    assert!(
        error
            .to_string()
            .starts_with("histogram buckets for \"db_\": "),
        "{error}"
    );
    let install = Builder::new(registry())
        .with_buckets(&[])
        .install()
        .expect_err("empty bounds");
    assert!(
        matches!(install, torchlight_metrics::InstallError::Build(_)),
        "{install}"
    );
    assert!(std::error::Error::source(&install).is_some());
}
