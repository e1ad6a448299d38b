//! Expiry that waits for a scrape (`Family::with_idle_timeout`) and `retain`: a child's
//! final value is scraped before it goes, a held handle keeps its child, expiry frees
//! room under the limit, `retain` removes by values and metric.
#![cfg(feature = "std")]

use std::sync::Arc;
use std::time::Duration;

use torchlight::{Counter, DynFamily, Family, Format, Gauge, Metric, Registry};

/// A family of counters by `tenant`, registered alone, expiring after `timeout`.
fn tenants(timeout: Duration) -> (Registry, Arc<Metric<Family<Counter, 1>>>) {
    let family = Arc::new(Metric::new(
        "jobs",
        "",
        Family::new(["tenant"], Counter::new).with_idle_timeout(timeout),
    ));
    let registry = Registry::new();
    registry
        .register_owned(Arc::clone(&family))
        .expect("valid test metric");
    (registry, family)
}

fn scrape(registry: &Registry) -> String {
    let mut text = String::new();
    registry
        .encode(&mut text, Format::Text)
        .expect("String writes cannot fail");
    text
}

/// The value of `jobs_total{tenant="<tenant>"}` in `text`, if the series is there.
fn value(text: &str, tenant: &str) -> Option<u64> {
    let prefix = format!("jobs_total{{tenant=\"{tenant}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.parse().expect("an integer counter"))
}

#[test]
fn a_final_increment_is_scraped_before_the_child_goes() {
    let (registry, family) = tenants(Duration::ZERO);
    family.get_or_create(["acme"]).inc();
    // No handle held: this scrape writes the final value so far, and exposes it.
    assert_eq!(value(&scrape(&registry), "acme"), Some(1));
    // Looked up again since: not removed; the final increment is written.
    family.get_or_create(["acme"]).inc();
    assert_eq!(value(&scrape(&registry), "acme"), Some(2));
    assert_eq!(family.len(), 1);
    let gone = scrape(&registry);
    assert_eq!(value(&gone, "acme"), None, "removed once exposed:\n{gone}");
    assert!(family.is_empty());
    // The same values later: a new child, a new series from zero.
    family.get_or_create(["acme"]).inc();
    assert_eq!(value(&scrape(&registry), "acme"), Some(1));
}

#[test]
fn a_held_handle_keeps_its_child_and_every_update_is_scraped() {
    let (registry, family) = tenants(Duration::ZERO);
    let held = family.get_or_create(["acme"]);
    for round in 1..=5 {
        held.inc();
        assert_eq!(value(&scrape(&registry), "acme"), Some(round), "held");
    }
    // The last update through the handle, then the handle goes.
    held.inc();
    drop(held);
    assert_eq!(
        value(&scrape(&registry), "acme"),
        Some(6),
        "released: exposed"
    );
    assert_eq!(value(&scrape(&registry), "acme"), None);
}

#[test]
fn get_counts_as_use() {
    let (registry, family) = tenants(Duration::ZERO);
    family.get_or_create(["acme"]).inc();
    scrape(&registry); // exposed
    // A handle looked up with `get` and used since: the child stays, its update shows.
    family.get(["acme"]).expect("still there").inc();
    assert_eq!(value(&scrape(&registry), "acme"), Some(2));
    assert_eq!(value(&scrape(&registry), "acme"), None);
}

#[test]
fn a_child_idle_for_less_than_the_timeout_stays() {
    let (registry, family) = tenants(Duration::from_secs(3600));
    family.get_or_create(["acme"]).inc();
    for _ in 0..5 {
        assert_eq!(value(&scrape(&registry), "acme"), Some(1));
    }
    assert_eq!(family.len(), 1);
    assert_eq!(family.idle_timeout(), Some(Duration::from_secs(3600)));
}

#[test]
fn without_a_timeout_nothing_expires() {
    let family = Arc::new(Metric::new(
        "jobs",
        "",
        Family::new(["tenant"], Counter::new),
    ));
    let registry = Registry::new();
    registry.register_owned(Arc::clone(&family)).expect("valid");
    family.get_or_create(["acme"]).inc();
    for _ in 0..5 {
        assert_eq!(value(&scrape(&registry), "acme"), Some(1));
    }
    assert_eq!(family.idle_timeout(), None);
}

#[test]
fn expiry_frees_room_under_the_limit_and_the_overflow_child_stays() {
    let family = Arc::new(Metric::new(
        "jobs",
        "",
        Family::new(["tenant"], Counter::new)
            .with_limit(1)
            .with_idle_timeout(Duration::ZERO),
    ));
    let registry = Registry::new();
    registry.register_owned(Arc::clone(&family)).expect("valid");
    family.get_or_create(["acme"]).inc();
    family.get_or_create(["initech"]).inc(); // full: the overflow child
    let text = scrape(&registry);
    assert!(
        text.contains("jobs_total{otel_metric_overflow=\"true\"} 1\n"),
        "{text}"
    );
    scrape(&registry);
    assert!(family.is_empty());
    family.get_or_create(["initech"]).inc();
    let text = scrape(&registry);
    assert_eq!(value(&text, "initech"), Some(1), "room again:\n{text}");
    for _ in 0..3 {
        scrape(&registry);
    }
    let text = scrape(&registry);
    assert!(
        text.contains("jobs_total{otel_metric_overflow=\"true\"} 1\n"),
        "{text}"
    );
}

#[test]
fn a_dynamic_family_expires_alike() {
    let family = Arc::new(Metric::new(
        "level",
        "",
        DynFamily::new(vec!["room"], Gauge::new)
            .expect("valid names")
            .with_idle_timeout(Duration::ZERO),
    ));
    let registry = Registry::new();
    registry.register_owned(Arc::clone(&family)).expect("valid");
    family.get_or_create(&["hall"]).expect("one value").set(-3);
    assert!(scrape(&registry).contains("level{room=\"hall\"} -3\n"));
    assert!(!scrape(&registry).contains("hall"));
    assert!(family.is_empty());
    assert_eq!(family.idle_timeout(), Some(Duration::ZERO));
}

#[test]
fn retain_removes_what_the_predicate_refuses() {
    let (registry, family) = tenants(Duration::from_secs(3600));
    for (tenant, jobs) in [("acme", 5), ("globex", 1), ("initech", 2)] {
        family.get_or_create([tenant]).inc_by(jobs);
    }
    let held = family.get_or_create(["globex"]);
    let mut offered = Vec::new();
    family.retain(|[tenant], jobs| {
        offered.push(((*tenant).to_owned(), jobs.get()));
        jobs.get() > 1
    });
    // Offered in exposition order, with their values.
    assert_eq!(
        offered,
        [
            ("acme".into(), 5),
            ("globex".into(), 1),
            ("initech".into(), 2)
        ]
    );
    assert_eq!(family.len(), 2);
    let text = scrape(&registry);
    assert_eq!(value(&text, "globex"), None, "{text}");
    // A removed child's handle stays valid; it is no longer the family's.
    held.inc();
    assert_eq!(held.get(), 2);
    assert_eq!(family.get_or_create(["globex"]).get(), 0);
    family.retain(|_, _| false);
    assert!(family.is_empty());
    assert_eq!(value(&scrape(&registry), "acme"), None);
}

#[test]
fn a_dynamic_family_retains_by_values() {
    let family = DynFamily::new(vec!["method", "path"], Counter::new).expect("valid names");
    for (method, path) in [("GET", "/"), ("POST", "/"), ("GET", "/a")] {
        family
            .get_or_create(&[method, path])
            .expect("two values")
            .inc();
    }
    family.retain(|values, _| values[0] == "GET");
    assert_eq!(family.len(), 2);
    assert!(family.get(&["POST", "/"]).expect("two values").is_none());
    assert!(family.get(&["GET", "/a"]).expect("two values").is_some());
}
