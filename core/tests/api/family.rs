//! Run-time label families: lookups, errors, removal, the cardinality limit, escaping,
//! ordering and concurrent creation.
#![cfg(feature = "std")]

use std::sync::{Arc, Barrier};
use std::thread;

use torchlight::{
    Buckets, Collect, Counter, DynFamily, Family, Format, Gauge, Histogram, LabelCountError,
    LabelNamesError, Metric, RegisterError, Registry, Summary,
};

fn encode<M: Collect + Send + Sync + 'static>(metric: Metric<M>, format: Format) -> String {
    let registry = Registry::new();
    registry
        .register_owned(Arc::new(metric))
        .expect("valid test metric");
    let mut out = String::new();
    registry
        .encode(&mut out, format)
        .expect("String writes cannot fail");
    out
}

fn counters<const N: usize>(names: [&'static str; N]) -> Family<Counter, N> {
    Family::new(names, Counter::new)
}

#[test]
fn get_or_create_returns_the_same_child() {
    let family = counters(["method", "path"]);
    assert!(family.is_empty());
    let a = family.get_or_create(["GET", "/"]);
    a.inc();
    let b = family.get_or_create(["GET", "/"]);
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(b.get(), 1);
    assert_eq!(family.len(), 1);
    assert_eq!(family.get(["GET", "/"]).map(|c| c.get()), Some(1));
    assert!(family.get(["GET", "/x"]).is_none());
    // Owned values work as well as literals.
    let path = String::from("/");
    assert!(Arc::ptr_eq(
        &family.get_or_create(["GET", path.as_str()]),
        &a
    ));
}

#[test]
fn children_are_keyed_by_full_values_not_their_concatenation() {
    let family = counters(["a", "b"]);
    family.get_or_create(["ab", "c"]).inc();
    family.get_or_create(["a", "bc"]).inc_by(2);
    family.get_or_create(["", "abc"]).inc_by(3);
    family.get_or_create(["abc", ""]).inc_by(4);
    assert_eq!(family.len(), 4);
    assert_eq!(family.get(["ab", "c"]).unwrap().get(), 1);
    assert_eq!(family.get(["a", "bc"]).unwrap().get(), 2);
    assert_eq!(family.get(["", "abc"]).unwrap().get(), 3);
    assert_eq!(family.get(["abc", ""]).unwrap().get(), 4);
    // Values that look like the packed key's length prefix are plain values.
    family.get_or_create(["0000000000000001a", "b"]).inc();
    assert_eq!(family.len(), 5);
    assert_eq!(
        encode(Metric::new("k", "", family), Format::Text),
        "# TYPE k_total counter\n\
         k_total{a=\"\",b=\"abc\"} 3\n\
         k_total{a=\"0000000000000001a\",b=\"b\"} 1\n\
         k_total{a=\"a\",b=\"bc\"} 2\n\
         k_total{a=\"ab\",b=\"c\"} 1\n\
         k_total{a=\"abc\",b=\"\"} 4\n"
    );
}

#[test]
fn a_dynamic_family_checks_the_number_of_values() {
    let family = DynFamily::new(vec!["method", "path"], Counter::new).expect("valid label names");
    let short = LabelCountError {
        expected: 2,
        got: 1,
    };
    assert_eq!(family.get_or_create(&["GET"]).unwrap_err(), short);
    assert_eq!(
        family.get_or_create(&["GET", "/", "x"]).unwrap_err(),
        LabelCountError {
            expected: 2,
            got: 3
        }
    );
    assert_eq!(family.get(&[]).unwrap_err().got, 0);
    assert_eq!(family.remove(&["GET"]).unwrap_err(), short);
    assert!(family.is_empty());
    assert_eq!(
        short.to_string(),
        "expected 2 label values (one per label name, in order), got 1"
    );
    // The right number works as `Family`'s lookups do.
    let child = family.get_or_create(&["GET", "/"]).expect("two values");
    child.inc();
    assert!(Arc::ptr_eq(
        &family
            .get(&["GET", "/"])
            .expect("two values")
            .expect("created"),
        &child
    ));
    assert_eq!(family.label_names(), ["method", "path"]);
}

#[test]
fn a_dynamic_family_checks_its_label_names_when_built() {
    let err = |names: &[&'static str]| DynFamily::new(names, Counter::new).unwrap_err();
    assert_eq!(err(&["ok", ""]), LabelNamesError::Invalid { label: "" });
    assert_eq!(
        err(&["__name__"]),
        LabelNamesError::Invalid { label: "__name__" }
    );
    // UTF-8 label names are built; a legacy registry refuses them at registration.
    assert!(DynFamily::new(["http.request.method", "1a", "a-b"], Counter::new).is_ok());
    assert_eq!(
        err(&["a", "b", "a"]),
        LabelNamesError::Duplicate { label: "a" }
    );
    assert_eq!(
        err(&["otel_metric_overflow"]),
        LabelNamesError::Reserved {
            label: "otel_metric_overflow"
        }
    );
    assert_eq!(
        DynFamily::new(["le"], Histogram::new).unwrap_err(),
        LabelNamesError::Reserved { label: "le" }
    );
    assert_eq!(
        DynFamily::new(["quantile"], Summary::new).unwrap_err(),
        LabelNamesError::Reserved { label: "quantile" }
    );
    // `le` is only reserved for histograms.
    assert!(DynFamily::new(["le"], Gauge::new).is_ok());
    assert!(DynFamily::new([], Counter::new).is_ok());
    assert!(err(&["a", "a"]).to_string().contains("twice"));
}

/// A `Family`'s names are written in the source and checked, like a metric's name,
/// when it is registered: the same rules, as a `RegisterError`.
#[test]
fn label_names_are_checked_at_registration() {
    fn refusal<M, const N: usize>(family: Family<M, N>) -> RegisterError
    where
        M: torchlight::Series + Send + Sync + 'static,
    {
        Registry::legacy()
            .register_owned(Arc::new(Metric::new("m", "", family)))
            .unwrap_err()
    }
    let invalid = |label| RegisterError::InvalidLabelName { name: "m", label };
    assert_eq!(refusal(counters(["ok", "1bad"])), invalid("1bad"));
    assert_eq!(refusal(counters(["__name__"])), invalid("__name__"));
    assert_eq!(refusal(counters(["a-b"])), invalid("a-b"));
    assert_eq!(
        refusal(counters(["a", "b", "a"])),
        RegisterError::DuplicateLabelName {
            name: "m",
            label: "a"
        }
    );
    let reserved = |label| RegisterError::ReservedLabelName { name: "m", label };
    let overflow = refusal(counters(["otel_metric_overflow"]));
    assert_eq!(overflow, reserved("otel_metric_overflow"));
    assert_eq!(
        overflow.to_string(),
        "metric \"m\" cannot use label name \"otel_metric_overflow\": a label family writes \
         it on its overflow series; pick another name"
    );
    assert_eq!(refusal(Family::new(["le"], Histogram::new)), reserved("le"));
    assert_eq!(
        refusal(Family::new(["quantile"], Summary::new)),
        reserved("quantile")
    );
    // `le` is only reserved for histograms.
    let registry = Registry::legacy();
    let gauges = Arc::new(Metric::new("g", "", Family::new(["le"], Gauge::new)));
    assert!(registry.register_owned(gauges).is_ok());
    let none = Arc::new(Metric::new("n", "", counters([])));
    assert!(registry.register_owned(none).is_ok());
    // A static family is refused the same way.
    static BAD: Metric<Family<Counter, 1>> =
        Metric::new("bad", "", Family::new(["a-b"], Counter::new));
    assert_eq!(
        registry.register(&BAD),
        Err(RegisterError::InvalidLabelName {
            name: "bad",
            label: "a-b"
        })
    );
}

#[test]
fn a_family_without_labels_has_one_child() {
    let family = counters([]);
    family.get_or_create([]).inc();
    family.get_or_create([]).inc();
    assert_eq!(family.len(), 1);
    assert_eq!(
        encode(Metric::new("once", "", family), Format::OpenMetrics),
        "# TYPE once counter\nonce_total 2.0\n# EOF\n"
    );
}

#[test]
fn removed_children_stay_usable_and_are_not_exposed() {
    let family = Arc::new(Metric::new("jobs", "", counters(["queue"])));
    let registry = Registry::new();
    registry.register_owned(Arc::clone(&family)).unwrap();
    let kept = family.get_or_create(["a"]);
    let removed = family.get_or_create(["b"]);
    removed.inc();

    let taken = family.remove(["b"]).unwrap();
    assert!(Arc::ptr_eq(&taken, &removed));
    assert!(family.remove(["b"]).is_none(), "already gone");
    drop(taken);
    removed.inc(); // still valid after removal
    assert_eq!(removed.get(), 2);
    assert_eq!(family.len(), 1);

    let mut text = String::new();
    registry.encode(&mut text, Format::Text).unwrap();
    assert_eq!(
        text,
        "# TYPE jobs_total counter\njobs_total{queue=\"a\"} 0\n"
    );

    // Asking again creates a fresh child at zero.
    let again = family.get_or_create(["b"]);
    assert!(!Arc::ptr_eq(&again, &removed));
    assert_eq!(again.get(), 0);

    family.clear();
    assert!(family.is_empty());
    kept.inc();
    removed.inc();
    assert_eq!((kept.get(), removed.get()), (1, 3));
    text.clear();
    registry.encode(&mut text, Format::Text).unwrap();
    assert_eq!(text, "# TYPE jobs_total counter\n");
}

#[test]
fn overflow_series_takes_combinations_beyond_the_limit() {
    let family = counters(["user"]).with_limit(2);
    assert_eq!(family.limit(), 2);
    family.get_or_create(["b"]).inc();
    family.get_or_create(["a"]).inc();
    let overflow = family.get_or_create(["c"]);
    overflow.inc();
    // Every refused combination shares the one overflow child.
    assert!(Arc::ptr_eq(&overflow, &family.get_or_create(["d"])));
    family.get_or_create(["d"]).inc_by(5);
    // Existing children are still found when the family is full.
    family.get_or_create(["a"]).inc();
    assert_eq!(family.len(), 2);
    assert!(family.get(["c"]).is_none());
    let family = Arc::new(Metric::new("logins", "Logins.", family));
    let registry = Registry::new();
    registry.register_owned(Arc::clone(&family)).unwrap();
    let mut text = String::new();
    registry.encode(&mut text, Format::OpenMetrics).unwrap();
    assert_eq!(
        text,
        "# HELP logins Logins.\n\
         # TYPE logins counter\n\
         logins_total{user=\"a\"} 2.0\n\
         logins_total{user=\"b\"} 1.0\n\
         logins_total{otel_metric_overflow=\"true\"} 6.0\n\
         # EOF\n"
    );

    // Removing a child makes room again.
    family.remove(["b"]);
    let c = family.get_or_create(["c"]);
    assert!(!Arc::ptr_eq(&c, &overflow));
    assert_eq!(family.len(), 2);

    // A zero limit sends everything to the overflow child.
    let none = counters(["x"]).with_limit(0);
    none.get_or_create(["1"]).inc();
    none.get_or_create(["2"]).inc();
    assert!(none.is_empty());
    assert_eq!(
        encode(Metric::new("none", "", none), Format::Text),
        "# TYPE none_total counter\nnone_total{otel_metric_overflow=\"true\"} 2\n"
    );
}

#[test]
fn label_values_are_escaped_and_any_unicode_is_kept() {
    let family = Family::new(["value"], Gauge::new);
    let values = [
        "plain",
        "quote\"d",
        "back\\slash",
        "new\nline",
        "all \"\\\n three",
        "ünïcødé ✓ 日本 🦀",
        "tab\tand\rcr",
        "",
    ];
    for (i, value) in values.iter().enumerate() {
        family.get_or_create([value]).set(i64::try_from(i).unwrap());
    }
    let expected_om = "# TYPE v gauge\n\
        v{value=\"\"} 7.0\n\
        v{value=\"all \\\"\\\\\\n three\"} 4.0\n\
        v{value=\"back\\\\slash\"} 2.0\n\
        v{value=\"new\\nline\"} 3.0\n\
        v{value=\"plain\"} 0.0\n\
        v{value=\"quote\\\"d\"} 1.0\n\
        v{value=\"tab\tand\rcr\"} 6.0\n\
        v{value=\"ünïcødé ✓ 日本 🦀\"} 5.0\n\
        # EOF\n";
    assert_eq!(
        encode(Metric::new("v", "", family), Format::OpenMetrics),
        expected_om
    );
}

#[test]
fn histogram_and_summary_families_golden() {
    static BUCKETS: Buckets<2> = Buckets::new([0.5, 1.0]);
    let latency = Family::new(["route"], || Histogram::with_buckets(&BUCKETS));
    latency.get_or_create(["/b"]).observe(0.7);
    latency.get_or_create(["/a"]).observe(2.0);
    assert_eq!(
        encode(
            Metric::new("latency_seconds", "Latency.", latency).with_unit("seconds"),
            Format::OpenMetrics
        ),
        "# HELP latency_seconds Latency.\n\
         # TYPE latency_seconds histogram\n\
         # UNIT latency_seconds seconds\n\
         latency_seconds_bucket{route=\"/a\",le=\"0.5\"} 0\n\
         latency_seconds_bucket{route=\"/a\",le=\"1.0\"} 0\n\
         latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 1\n\
         latency_seconds_sum{route=\"/a\"} 2.0\n\
         latency_seconds_count{route=\"/a\"} 1\n\
         latency_seconds_bucket{route=\"/b\",le=\"0.5\"} 0\n\
         latency_seconds_bucket{route=\"/b\",le=\"1.0\"} 1\n\
         latency_seconds_bucket{route=\"/b\",le=\"+Inf\"} 1\n\
         latency_seconds_sum{route=\"/b\"} 0.7\n\
         latency_seconds_count{route=\"/b\"} 1\n\
         # EOF\n"
    );

    let sizes = Family::new(["kind"], Summary::new);
    sizes.get_or_create(["img"]).observe(1024.0);
    assert_eq!(
        encode(Metric::new("size_bytes", "", sizes), Format::Text),
        "# TYPE size_bytes summary\n\
         size_bytes_sum{kind=\"img\"} 1024\n\
         size_bytes_count{kind=\"img\"} 1\n"
    );
}

#[test]
fn exposition_is_sorted_by_label_values() {
    let family = counters(["a", "b"]);
    // Insert in an order unrelated to the sorted one, over many shards.
    for i in (0..200).rev() {
        let a = format!("{}", i % 7);
        let b = format!("{i:03}");
        family.get_or_create([&a, &b]).inc();
    }
    let text = encode(Metric::new("s", "", family), Format::Text);
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), 200);
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
    assert_eq!(lines[0], "s_total{a=\"0\",b=\"000\"} 1");
}

#[test]
fn registration_checks_the_family() {
    let registry = Registry::legacy();
    let bad_name = Arc::new(Metric::new("bad-name", "", counters(["a"])));
    assert_eq!(
        registry.register_owned(bad_name),
        Err(RegisterError::InvalidName { name: "bad-name" })
    );
    // A state set family's labels may not use its name.
    let states = Arc::new(Metric::new(
        "up",
        "",
        Family::new(["up"], torchlight::StateSet::<bool>::new),
    ));
    assert_eq!(
        registry.register_owned(states),
        Err(RegisterError::ReservedLabelName {
            name: "up",
            label: "up"
        })
    );
}

/// Many threads racing to create the same children end with exactly one child per
/// combination and every increment counted.
#[test]
fn racing_creation_makes_one_child_and_loses_nothing() {
    const THREADS: usize = 8;
    const ROUNDS: u64 = 2_000;
    let family = counters(["key"]);
    let barrier = Barrier::new(THREADS);
    let handles: Vec<Vec<Arc<Counter>>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let mut seen = Vec::new();
                    for round in 0..ROUNDS {
                        let key = format!("k{}", round % 16);
                        let child = family.get_or_create([&key]);
                        child.inc();
                        if round < 16 {
                            seen.push(child);
                        }
                    }
                    seen
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(family.len(), 16);
    let mut total = 0;
    for k in 0..16 {
        let child = family.get([&format!("k{k}")]).unwrap();
        // Every thread got the very same child for this key.
        for seen in &handles {
            assert!(Arc::ptr_eq(&seen[k], &child));
        }
        total += child.get();
    }
    assert_eq!(total, THREADS as u64 * ROUNDS);
}

/// Concurrent creation of distinct combinations never exceeds the limit, and nothing
/// is lost: what did not fit is in the overflow child.
#[test]
fn limit_holds_under_concurrent_creation() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 500;
    const LIMIT: usize = 100;
    let family = counters(["id"]).with_limit(LIMIT);
    let barrier = Barrier::new(THREADS);
    thread::scope(|scope| {
        for t in 0..THREADS {
            let (family, barrier) = (&family, &barrier);
            scope.spawn(move || {
                barrier.wait();
                for i in 0..PER_THREAD {
                    let id = format!("{t}-{i}");
                    family.get_or_create([&id]).inc();
                    assert!(family.len() <= LIMIT);
                }
            });
        }
    });
    assert_eq!(family.len(), LIMIT);
    let text = encode(Metric::new("ids", "", family), Format::Text);
    let mut children = 0;
    let mut total = 0;
    for line in text.lines().skip(1) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: u64 = value.parse().unwrap();
        total += value;
        if series.contains("otel_metric_overflow") {
            assert_eq!(value, (THREADS * PER_THREAD - LIMIT) as u64);
        } else {
            children += 1;
            assert_eq!(value, 1);
        }
    }
    assert_eq!(children, LIMIT);
    assert_eq!(total, (THREADS * PER_THREAD) as u64);
}

/// Scrapes, removals and creations racing each other: no panic, no deadlock, no
/// series shown twice, and a handle stays usable whatever happens to its entry.
#[test]
fn removal_and_scrapes_race_safely() {
    let family = Arc::new(Metric::new("churn", "", counters(["k"]).with_limit(8)));
    let registry = Registry::new();
    registry.register_owned(Arc::clone(&family)).unwrap();
    thread::scope(|scope| {
        for t in 0..3 {
            let family = &family;
            scope.spawn(move || {
                for i in 0..3_000 {
                    let key = format!("{}", (i + t) % 12);
                    let child = family.get_or_create([&key]);
                    if i % 3 == 0 {
                        family.remove([&key]);
                    }
                    child.inc();
                    if i % 500 == 0 {
                        family.clear();
                    }
                }
            });
        }
        scope.spawn(|| {
            for _ in 0..200 {
                let mut text = String::new();
                registry.encode(&mut text, Format::OpenMetrics).unwrap();
                assert!(text.ends_with("# EOF\n"));
                // Shards are read one after another, so a scrape racing removals and
                // creations may mix moments, but never shows a series twice.
                let mut series: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .map(|l| l.rsplit_once(' ').unwrap().0)
                    .collect();
                let all = series.len();
                series.sort_unstable();
                series.dedup();
                assert_eq!(series.len(), all, "{text}");
            }
        });
    });
    assert!(family.len() <= 8);
}

/// Threads racing to create the child that fills the family all get that child: none
/// is sent to the overflow series because the family became full meanwhile.
#[test]
fn racing_for_the_last_slot_never_overflows_the_same_child() {
    const THREADS: usize = 4;
    for _ in 0..200 {
        let family = counters(["k"]).with_limit(1);
        let barrier = Barrier::new(THREADS);
        let children: Vec<Arc<Counter>> = thread::scope(|scope| {
            let workers: Vec<_> = (0..THREADS)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        family.get_or_create(["only"])
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for child in &children {
            assert!(Arc::ptr_eq(child, &children[0]));
        }
        let text = encode(Metric::new("last", "", family), Format::Text);
        assert!(!text.contains("overflow"), "{text}");
    }
}

/// Two lookups in one expression, one of them creating a child, cannot deadlock: no
/// lock guard escapes a call (prometheus/client_rust#231).
#[test]
fn two_lookups_in_one_expression() {
    let family = counters(["k"]);
    family.get_or_create(["a"]).inc();
    let sum = family.get_or_create(["a"]).get()
        + family.get_or_create(["b"]).get()
        + u64::from(family.remove(["a"]).is_some());
    assert_eq!(sum, 2);
}

/// Reverses the label-value escaping (`\\`, `\"`, `\n`).
fn unescape(escaped: &str) -> String {
    let mut out = String::new();
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => panic!("dangling backslash in {escaped:?}"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits `name{a="…",b="…"} value` into its unescaped label values.
fn label_values(line: &str) -> Vec<String> {
    let open = line.find('{').expect("a labelled line");
    let close = line.rfind("} ").expect("a labelled line");
    let mut values = Vec::new();
    let mut rest = &line[open + 1..close];
    while let Some(start) = rest.find("=\"") {
        let body = &rest[start + 2..];
        // The value ends at the first quote not escaped by a backslash.
        let mut end = 0;
        let bytes = body.as_bytes();
        while bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        values.push(unescape(&body[..end]));
        rest = &body[end + 1..];
    }
    values
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Any two values come back out of the exposition exactly, and splitting the same
    /// text differently gives a different child.
    #[test]
    fn any_values_round_trip_and_stay_distinct(a in "\\PC*|[\"\\\\\n]{0,3}", b in "\\PC*|[\"\\\\\n]{0,3}") {
        let family = counters(["a", "b"]);
        family.get_or_create([&a, &b]).inc();
        let joined = format!("{a}{b}");
        let split = joined.len().min(1);
        if joined.is_char_boundary(split) && (&joined[..split], &joined[split..]) != (a.as_str(), b.as_str()) {
            family.get_or_create([&joined[..split], &joined[split..]]).inc_by(2);
        }
        let text = encode(Metric::new("p", "", family), Format::OpenMetrics);
        let line = text.lines().find(|l| l.ends_with(" 1.0")).unwrap();
        proptest::prop_assert_eq!(label_values(line), vec![a.clone(), b.clone()]);
        proptest::prop_assert_eq!(text.lines().count(), 3 + usize::from(text.contains(" 2.0")));
    }
}
