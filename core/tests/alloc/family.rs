//! Allocation accounting for label families, with a counting global allocator: the
//! read path allocates nothing, creating a child allocates a bounded amount, a scrape
//! allocates at most once (nothing when the children did not change), and the memory
//! per child is measured (run with `--nocapture` to see the numbers).
#![cfg(feature = "std")]

use torchlight::{Counter, Family, Format, Histogram, Metric, Registry};

use crate::measure;

#[test]
fn looking_up_an_existing_child_does_not_allocate() {
    let family = Family::new(["method", "path"], Counter::new);
    let path = String::from("/api/v1/items");
    family.get_or_create(["GET", &path]).inc();
    let ((), calls, bytes) = measure(|| {
        for _ in 0..10_000 {
            let child = family.get_or_create(["GET", &path]);
            child.inc();
            drop(child);
            let again = family.get(["GET", &path]);
            assert!(again.is_some());
        }
    });
    assert_eq!((calls, bytes), (0, 0), "the read path allocated");
    assert_eq!(family.get(["GET", &path]).map(|c| c.get()), Some(10_001));
}

#[test]
fn with_an_idle_timeout_looking_up_and_scraping_an_unchanged_family_does_not_allocate() {
    use std::time::Duration;

    static JOBS: Metric<Family<Counter, 1>> = Metric::new(
        "jobs",
        "",
        Family::new(["tenant"], Counter::new).with_idle_timeout(Duration::from_secs(3600)),
    );
    let registry = Registry::new();
    registry.register(&JOBS).expect("valid metric");
    JOBS.get_or_create(["acme"]).inc();
    let mut out = Vec::with_capacity(4096);
    registry
        .encode_to(&mut out, Format::Text)
        .expect("a Vec never fills up");
    let ((), calls, bytes) = measure(|| {
        for _ in 0..1_000 {
            JOBS.get_or_create(["acme"]).inc();
            out.clear();
            registry
                .encode_to(&mut out, Format::Text)
                .expect("a Vec never fills up");
        }
    });
    assert_eq!((calls, bytes), (0, 0), "lookups or scrapes allocated");
    assert_eq!(JOBS.get(["acme"]).map(|child| child.get()), Some(1_001));
}

#[test]
fn an_empty_family_has_allocated_nothing() {
    // Its first lookup draws the hash keys; nothing is allocated before a child.
    let (family, calls, _) = measure(|| {
        let family = Family::new(["method", "path"], Counter::new);
        assert!(family.get(["GET", "/"]).is_none());
        family
    });
    assert_eq!(calls, 0, "an empty family allocated");
    assert!(family.is_empty());
}

#[test]
fn creating_a_child_allocates_its_handle_and_key() {
    let family = Family::new(["path"], Counter::new);
    // Warm the map of the shard up so its growth does not count.
    for i in 0..1_000 {
        family.get_or_create([&format!("warm{i}")]);
    }
    let key = String::from("/fresh");
    let (_child, calls, _) = measure(|| family.get_or_create([&key]));
    // The child's Arc, the packed key (built in place in its Box<str>), and possibly
    // one growth of the shard's map.
    assert!(calls <= 3, "creating a child made {calls} allocation calls");
}

#[test]
fn encoding_a_registry_without_owned_metrics_does_not_allocate() {
    static PLAIN: Metric<Counter> = Metric::new("plain", "", Counter::new());
    let registry = Registry::new();
    registry.register(&PLAIN).expect("valid metric");
    let mut out = String::with_capacity(4096);
    let (result, calls, _) = measure(|| registry.encode(&mut out, Format::OpenMetrics));
    result.expect("String writes cannot fail");
    assert_eq!(calls, 0, "a registry without owned metrics allocated");
    let mut bytes = Vec::with_capacity(4096);
    let (result, calls, _) = measure(|| registry.encode_to(&mut bytes, Format::Text));
    result.expect("a Vec never fills up");
    assert_eq!(calls, 0, "the byte encoder allocated");
}

/// A registry holding only a `Family<Counter>` of `children` children, registered as a
/// static metric (so the registry itself copies nothing).
fn family_registry(children: usize) -> (&'static Registry, &'static Metric<Family<Counter, 2>>) {
    let family = Family::new(["method", "path"], Counter::new).with_limit(children + 1);
    let metric: &'static Metric<Family<Counter, 2>> =
        Box::leak(Box::new(Metric::new("requests", "Requests.", family)));
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    registry.register(metric).expect("registers once");
    for i in 0..children {
        metric.get_or_create(["GET", &format!("/path/{i}")]).inc();
    }
    (registry, metric)
}

/// `(exposition, allocation calls)` of one scrape into a buffer that is big enough.
fn scrape(registry: &Registry, format: Format) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(1 << 22);
    let (result, calls, _) = measure(|| registry.encode_to(&mut out, format));
    result.expect("a Vec never fills up");
    (out, calls)
}

#[test]
fn a_family_scrape_allocates_at_most_once_and_not_at_all_when_unchanged() {
    for children in [0, 1, 100, 10_000] {
        let (registry, family) = family_registry(children);
        for format in [Format::Text, Format::OpenMetrics] {
            let (first, calls) = scrape(registry, format);
            assert!(
                calls <= 1,
                "{children} children: first scrape made {calls} calls"
            );
            let (again, calls) = scrape(registry, format);
            assert_eq!(again, first, "{children} children");
            assert_eq!(calls, 0, "{children} children: unchanged scrape allocated");
        }
        // A new child: the list is rebuilt, once.
        family.get_or_create(["PUT", "/new"]).inc();
        let (grown, calls) = scrape(registry, Format::Text);
        assert!(calls <= 1, "{children} children + 1: {calls} calls");
        let grown = String::from_utf8(grown).expect("UTF-8");
        assert!(grown.contains("requests_total{method=\"PUT\",path=\"/new\"} 1\n"));
        // A removed child: rebuilt again, and gone.
        family.remove(["PUT", "/new"]);
        let (shrunk, calls) = scrape(registry, Format::Text);
        assert!(
            calls <= 1,
            "{children} children after removal: {calls} calls"
        );
        assert!(!String::from_utf8(shrunk).expect("UTF-8").contains("PUT"));
        let (_, calls) = scrape(registry, Format::Text);
        assert_eq!(calls, 0, "{children} children: unchanged scrape allocated");
    }
}

/// Net heap bytes per child, plus its inline size, over 10 000 children.
#[test]
fn memory_per_child() {
    const CHILDREN: usize = 10_000;
    let values: Vec<String> = (0..CHILDREN).map(|i| format!("/path/{i:05}")).collect();

    let (counters, _, counter_bytes) = measure(|| {
        let family = Family::new(["method", "path"], Counter::new);
        let family = family.with_limit(CHILDREN);
        for value in &values {
            family.get_or_create(["GET", value]);
        }
        family
    });
    assert_eq!(counters.len(), CHILDREN);

    let (histograms, _, histogram_bytes) = measure(|| {
        let family = Family::new(["method", "path"], Histogram::new);
        let family = family.with_limit(CHILDREN);
        for value in &values {
            family.get_or_create(["GET", value]);
        }
        family
    });
    assert_eq!(histograms.len(), CHILDREN);

    let per = |bytes: i64| bytes / i64::try_from(CHILDREN).expect("small");
    println!(
        "memory per child over {CHILDREN} children with two label values of 3 and 11 bytes: \
         Family<Counter> {} B (size_of::<Counter>() = {} B), \
         Family<Histogram> {} B (size_of::<Histogram>() = {} B)",
        per(counter_bytes),
        size_of::<Counter>(),
        per(histogram_bytes),
        size_of::<Histogram>(),
    );
    // Generous bounds that still catch a regression to per-value boxes or per-child
    // maps: the packed key is one allocation, the child one more, the map entry ~40 B.
    assert!(
        per(counter_bytes) < 200,
        "{} B per counter",
        per(counter_bytes)
    );
    // The child's `Arc` puts its two counts before it, padded to the child's alignment
    // (a cache-line-aligned histogram pays a whole line for them).
    let arc_header = align_of::<Histogram>().max(2 * size_of::<usize>());
    let histogram = i64::try_from(size_of::<Histogram>() + arc_header).expect("small");
    assert!(
        per(histogram_bytes) < histogram + 200,
        "{} B per histogram",
        per(histogram_bytes)
    );
}

#[test]
fn expired_children_give_their_memory_back() {
    use std::sync::Arc;
    use std::time::Duration;

    let family = Arc::new(Metric::new(
        "jobs",
        "Jobs.",
        Family::new(["tenant", "job"], Counter::new)
            .with_limit(10_000)
            .with_idle_timeout(Duration::ZERO),
    ));
    let registry = Registry::new();
    registry
        .register_owned(Arc::clone(&family))
        .expect("valid metric");
    // Room for the biggest exposition up front, so the buffer's growth does not count.
    let mut out = Vec::with_capacity(1 << 20);
    let scrape = |out: &mut Vec<u8>| {
        out.clear();
        registry
            .encode_to(out, Format::Text)
            .expect("a Vec never fills up");
    };
    // The level before any child: registered, scraped once (its hash keys drawn, its
    // empty sorted list cached).
    assert!(family.get(["warm", "up"]).is_none());
    scrape(&mut out);
    let ((), _, net) = measure(|| {
        for i in 0..2_000 {
            family.get_or_create(["acme", &format!("job-{i}")]).inc();
        }
        scrape(&mut out); // exposes every child
        assert!(out.len() > 2_000 * 20, "the children were written");
        scrape(&mut out); // removes them
        assert!(family.is_empty());
        scrape(&mut out);
    });
    assert_eq!(net, 0, "expired children kept {net} bytes");
}
