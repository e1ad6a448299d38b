//! Threads register metrics while others scrape the registry: every scrape must list a
//! prefix of the final registration order, each family whole (the publication
//! protocol of the intrusive list in `core/src/registry.rs`; `core/tests/loom.rs`
//! model-checks it).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use torchlight::{Counter, Format, Metric, Registry};

const REGISTRARS: usize = 2;
const PER_REGISTRAR: usize = 400;
const SCRAPERS: usize = 2;
/// Scrapes each scraper makes at least, also after registration ended.
const MIN_SCRAPES: usize = 50;

/// A leaked counter named `m_<registrar>_<i>`, as a `static` would be.
fn leaked(registrar: usize, i: usize) -> &'static Metric<Counter> {
    let name: &'static str = format!("m_{registrar}_{i}").leak();
    Box::leak(Box::new(Metric::new(name, "Stress.", Counter::new())))
}

/// The family names of a text exposition, in order, after checking that each family
/// is whole: its HELP, TYPE and sample lines, with the help every metric here has.
fn families(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() % 3, 0, "a family is cut short:\n{text}");
    lines
        .chunks(3)
        .map(|family| {
            let name = family[0]
                .strip_prefix("# HELP ")
                .and_then(|rest| rest.strip_suffix(" Stress."))
                .unwrap_or_else(|| panic!("bad HELP line {:?}", family[0]));
            assert_eq!(family[1], format!("# TYPE {name} counter"));
            assert_eq!(family[2], format!("{name} 0"));
            name
        })
        .collect()
}

fn digest(names: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    names.hash(&mut hasher);
    hasher.finish()
}

#[test]
fn every_scrape_sees_a_prefix_of_the_registrations() {
    let registry = Registry::new();
    let metrics: Vec<Vec<_>> = (0..REGISTRARS)
        .map(|r| (0..PER_REGISTRAR).map(|i| leaked(r, i)).collect())
        .collect();
    let registering = AtomicBool::new(true);
    // Set by a scraper that saw some but not all registrations; the first registrar
    // waits for it halfway, so at least one scrape races the registrations.
    let overlapped = AtomicBool::new(false);

    // Each scraper returns, per scrape, how many families it saw and their digest.
    let scrapes: Vec<Vec<(usize, u64)>> = thread::scope(|scope| {
        let scrapers: Vec<_> = (0..SCRAPERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut seen = Vec::new();
                    let mut text = String::new();
                    while seen.len() < MIN_SCRAPES || registering.load(Ordering::Relaxed) {
                        text.clear();
                        registry.encode(&mut text, Format::Text).unwrap();
                        let names = families(&text);
                        // Each registrar's metrics appear in its own order, none skipped.
                        for r in 0..REGISTRARS {
                            let prefix = format!("m_{r}_");
                            let own = names.iter().filter(|name| name.starts_with(&prefix));
                            for (i, name) in own.enumerate() {
                                assert_eq!(*name, format!("m_{r}_{i}_total"), "{names:?}");
                            }
                        }
                        if !names.is_empty() && names.len() < REGISTRARS * PER_REGISTRAR {
                            overlapped.store(true, Ordering::Relaxed);
                        }
                        seen.push((names.len(), digest(&names)));
                    }
                    seen
                })
            })
            .collect();
        let registrars: Vec<_> = metrics
            .iter()
            .enumerate()
            .map(|(r, own)| {
                let (registry, overlapped) = (&registry, &overlapped);
                scope.spawn(move || {
                    for (i, metric) in own.iter().enumerate() {
                        if r == 0 && i == PER_REGISTRAR / 2 {
                            while !overlapped.load(Ordering::Relaxed) {
                                thread::yield_now();
                            }
                        }
                        registry.register(metric).unwrap();
                    }
                })
            })
            .collect();
        for registrar in registrars {
            registrar.join().unwrap();
        }
        registering.store(false, Ordering::Relaxed);
        scrapers.into_iter().map(|s| s.join().unwrap()).collect()
    });

    let mut text = String::new();
    registry.encode(&mut text, Format::Text).unwrap();
    let order = families(&text);
    assert_eq!(order.len(), REGISTRARS * PER_REGISTRAR);
    let mut partial = 0;
    for (len, seen) in scrapes.iter().flatten() {
        assert_eq!(
            *seen,
            digest(&order[..*len]),
            "scrape of {len} is not a prefix"
        );
        partial += usize::from(*len > 0 && *len < order.len());
    }
    assert!(partial > 0, "no scrape overlapped the registrations");
}
