//! Case 9 of `cargo xtask bench`: the `metrics` facade recorded into torchlight's
//! recorder (`torchlight-metrics`, row `torchlight`) and into
//! `metrics-exporter-prometheus`'s (row `metrics`), both built by
//! `torchlight_bench::facade` with the same options and workload.
//!
//! Paths are `case9_facade::<variant>::<library>`:
//!
//! - `counter`, `counter_labelled`, `histogram`: one `counter!(…).increment(1)`,
//!   `counter!(…, two labels).increment(1)` or `histogram!(…).record(v)` call, macro
//!   included: the recorder looks the series up on every call, as in an application
//!   that does not keep handles. The facade's recorder is thread-local here
//!   (`with_local_recorder` around each call, the same cost for both rows) because one
//!   process cannot install two global recorders. One thread, then every core.
//! - `scrape_1000`, `scrape_10000`: rendering a recorder holding one counter family of
//!   1 000 or 10 000 series (the shape of case 6) plus the workload's other metrics.

#![forbid(unsafe_code)]

use divan::{Bencher, black_box};
use metrics::Recorder;
use torchlight_bench::facade::{Exporter, Facade, Torchlight, record};
use torchlight_bench::workload::{KINDS, ROUTES, next_label_pair, next_observation};

fn main() {
    torchlight_bench::machine::print();
    divan::main();
}

/// One thread, then every available core (divan's `0`), on shared series.
const THREADS: &[usize] = &[1, 0];

/// A recorder of kind `F` with the workload recorded, leaked so bench threads share it.
fn recorder<F: Facade + 'static>() -> &'static F {
    let facade: &'static F = Box::leak(Box::new(F::new()));
    record(facade.recorder(), 0);
    facade
}

fn counter(recorder: &dyn Recorder) {
    metrics::with_local_recorder(recorder, || metrics::counter!("events").increment(1));
}

fn counter_labelled(recorder: &dyn Recorder, (kind, route): (usize, usize)) {
    metrics::with_local_recorder(recorder, || {
        metrics::counter!("requests", "kind" => KINDS[kind], "route" => ROUTES[route]).increment(1);
    });
}

fn histogram(recorder: &dyn Recorder, value: f64) {
    metrics::with_local_recorder(recorder, || {
        metrics::histogram!("latency_seconds", "route" => ROUTES[0]).record(value);
    });
}

fn scrape<F: Facade>(bencher: Bencher<'_, '_>, series: usize) {
    let mut facade = F::new();
    record(facade.recorder(), series);
    // The first scrape sizes the buffers later scrapes reuse.
    black_box(facade.scrape());
    bencher.bench_local(|| black_box(facade.scrape()).len());
}

mod case9_facade {
    use super::*;

    /// `counter!("events").increment(1)`: an unlabelled counter.
    mod counter {
        use super::*;

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let facade = recorder::<Torchlight>();
            bencher.bench(|| super::super::counter(facade.recorder()));
        }

        #[divan::bench(threads = THREADS)]
        fn metrics(bencher: Bencher<'_, '_>) {
            let facade = recorder::<Exporter>();
            bencher.bench(|| super::super::counter(facade.recorder()));
        }
    }

    /// `counter!("requests", "kind" => …, "route" => …).increment(1)` over the 18
    /// pre-generated combinations.
    mod counter_labelled {
        use super::*;

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let facade = recorder::<Torchlight>();
            bencher
                .with_inputs(next_label_pair)
                .bench_values(|pair| super::super::counter_labelled(facade.recorder(), pair));
        }

        #[divan::bench(threads = THREADS)]
        fn metrics(bencher: Bencher<'_, '_>) {
            let facade = recorder::<Exporter>();
            bencher
                .with_inputs(next_label_pair)
                .bench_values(|pair| super::super::counter_labelled(facade.recorder(), pair));
        }
    }

    /// `histogram!("latency_seconds", "route" => …).record(v)` over pre-generated values.
    mod histogram {
        use super::*;

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let facade = recorder::<Torchlight>();
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| super::super::histogram(facade.recorder(), value));
        }

        #[divan::bench(threads = THREADS)]
        fn metrics(bencher: Bencher<'_, '_>) {
            let facade = recorder::<Exporter>();
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| super::super::histogram(facade.recorder(), value));
        }
    }

    /// A scrape with 1 000 series in the counter family.
    mod scrape_1000 {
        use super::*;

        #[divan::bench(sample_count = 30)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            scrape::<Torchlight>(bencher, 1_000);
        }

        #[divan::bench(sample_count = 30)]
        fn metrics(bencher: Bencher<'_, '_>) {
            scrape::<Exporter>(bencher, 1_000);
        }
    }

    /// A scrape with 10 000 series in the counter family.
    mod scrape_10000 {
        use super::*;

        #[divan::bench(sample_count = 30)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            scrape::<Torchlight>(bencher, 10_000);
        }

        #[divan::bench(sample_count = 30)]
        fn metrics(bencher: Bencher<'_, '_>) {
            scrape::<Exporter>(bencher, 10_000);
        }
    }
}
