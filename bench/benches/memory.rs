//! Cases 6 (allocations per scrape) and 8 (memory per series, allocations per new
//! label child) of `cargo xtask bench`, counted with `torchlight_bench::allocation`'s
//! counting allocator. Not a divan bench: the numbers are counts, not timings, so each
//! is measured once, deterministically, and printed as a result line
//! (`torchlight_bench::record`).
//!
//! Arguments: `--bench` (ignored, cargo passes it), `--quick` (fewer new children),
//! and filters: a result is measured when its `case::variant::library` path contains
//! any filter (all of them when there is none).
#![forbid(unsafe_code)]

use std::mem::size_of;

use torchlight_bench::Library;
use torchlight_bench::allocation::{Counting, totals};
use torchlight_bench::child;
use torchlight_bench::record::Record;
use torchlight_bench::scrape::{self, Scrape};
use torchlight_bench::workload::{SERIES_COUNTS, child_labels};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Scrapes averaged per registry after the first (which sizes the buffers).
const SCRAPES: u64 = 5;

fn main() {
    let mut quick = false;
    let mut filters: Vec<String> = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--bench" => {}
            "--quick" => quick = true,
            // divan-style options the other bench programs take; ignored here.
            other if other.starts_with("--") => {}
            filter => filters.push(filter.to_owned()),
        }
    }
    let selected = |case: &str, variant: &str, library: Library| {
        let path = format!("{case}::{variant}::{library}");
        filters.is_empty() || filters.iter().any(|filter| path.contains(filter.as_str()))
    };

    torchlight_bench::machine::print();
    for library in Library::ALL {
        if selected("case6_encode", "text", library) {
            allocations_per_scrape("text", library, |series| scrape::build(library, series));
        }
    }
    if selected("case6_encode", "text_family", Library::Torchlight) {
        allocations_per_scrape("text_family", Library::Torchlight, |series| {
            Box::new(scrape::TorchlightFamily::new(series))
        });
    }
    if selected("case6_encode", "text_openmetrics", Library::Torchlight) {
        allocations_per_scrape("text_openmetrics", Library::Torchlight, |series| {
            Box::new(scrape::TorchlightOpenMetrics::new(series))
        });
    }
    let children = if quick { 1_000 } else { 10_000 };
    for library in Library::ALL {
        if selected("case8_memory", "new_child", library) {
            new_children(library, children);
        }
    }
    if selected("case8_memory", "compile_time", Library::Torchlight) {
        compile_time_series();
    }
}

fn emit(
    case: &'static str,
    variant: &'static str,
    parameter: String,
    library: Library,
    metric: &'static str,
    value: f64,
) {
    let record = Record {
        case,
        variant,
        parameter,
        library,
        metric,
        value,
    };
    println!("{}", record.line());
}

/// Case 6: heap allocations and bytes allocated per scrape, once the output buffer is
/// sized, and the size of the exposition, for the registries `build` makes.
fn allocations_per_scrape(
    variant: &'static str,
    library: Library,
    build: impl Fn(usize) -> Box<dyn Scrape>,
) {
    for series in SERIES_COUNTS {
        let mut registry = build(series);
        let exposition_bytes = registry.scrape().len();
        let before = totals();
        for _ in 0..SCRAPES {
            std::hint::black_box(registry.scrape());
        }
        let spent = totals().since(before);
        let parameter = series.to_string();
        emit(
            "case6_encode",
            variant,
            parameter.clone(),
            library,
            "allocations_per_scrape",
            spent.allocations as f64 / SCRAPES as f64,
        );
        emit(
            "case6_encode",
            variant,
            parameter.clone(),
            library,
            "allocated_bytes_per_scrape",
            spent.allocated_bytes as f64 / SCRAPES as f64,
        );
        emit(
            "case6_encode",
            variant,
            parameter,
            library,
            "exposition_bytes",
            exposition_bytes as f64,
        );
    }
}

/// Case 8: create `n` children with new run-time label values; report allocations per
/// child and the bytes still allocated per child afterwards (the family's own growth
/// included, the label strings handed in excluded).
fn new_children(library: Library, n: usize) {
    let Some(family) = child::build(library) else {
        return;
    };
    let labels = child_labels(n);
    let before = totals();
    for label in &labels {
        family.insert(label);
    }
    let spent = totals().since(before);
    let parameter = n.to_string();
    emit(
        "case8_memory",
        "new_child",
        parameter.clone(),
        library,
        "allocations_per_child",
        spent.allocations as f64 / n as f64,
    );
    emit(
        "case8_memory",
        "new_child",
        parameter,
        library,
        "retained_bytes_per_child",
        spent.retained_bytes() as f64 / n as f64,
    );
    drop(family);
}

/// Case 8, for reference: torchlight's compile-time labelled series live in a static
/// array, so a series costs its metric's size and creating one allocates nothing.
fn compile_time_series() {
    torchlight::label_value! { enum Kind { A = "a", B = "b", C = "c" } }
    torchlight::label_value! { enum Route { X = "x", Y = "y", Z = "z", W = "w", V = "v", U = "u" } }
    torchlight::label_set! { struct Request { kind: Kind, route: Route } }
    static FAMILY: torchlight::Labelled<Request, torchlight::Counter, 18> =
        torchlight::Labelled::new([const { torchlight::Counter::new() }; 18]);

    let before = totals();
    for (labels, _) in FAMILY.iter() {
        FAMILY.get(labels).inc();
    }
    let spent = totals().since(before);
    let bytes = size_of::<torchlight::Labelled<Request, torchlight::Counter, 18>>() as f64 / 18.0;
    emit(
        "case8_memory",
        "compile_time",
        "18".to_owned(),
        Library::Torchlight,
        "allocations_per_child",
        spent.allocations as f64 / 18.0,
    );
    emit(
        "case8_memory",
        "compile_time",
        "18".to_owned(),
        Library::Torchlight,
        "retained_bytes_per_child",
        bytes,
    );
}
