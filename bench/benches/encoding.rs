//! Case 6 of `cargo xtask bench`: encoding a registry of 100 … 100 000 series to the
//! Prometheus text format 0.0.4 (`torchlight_bench::scrape` builds the registries).
//!
//! Paths are `case6_encode::text::<library>::<series>`,
//! `case6_encode::text_family::torchlight::<series>` for torchlight's run-time `Family`
//! (`text` holds its compile-time `Labelled`), and
//! `case6_encode::text_openmetrics::torchlight::<series>` for the compile-time registry
//! encoded as OpenMetrics (its time against `text`'s is the OpenMetrics overhead), and
//! `case6_encode::protobuf::torchlight::<series>` for the same registry in the protobuf
//! format (against `text`: the protobuf encoder's cost). Every library encodes the same
//! family with the same series and values (a unit test in `torchlight_bench::scrape`
//! checks it); each reuses its output buffer where its API allows. Allocations per
//! scrape are counted by the `memory` bench, not here, so no counting allocator slows
//! these timings.
//!
//! `case11_process::scrape::torchlight` times one scrape of the process metrics alone
//! (`torchlight::process::register`: reading `/proc` and encoding nine families as
//! text 0.0.4), the cost they add to every scrape.
#![forbid(unsafe_code)]

use divan::{Bencher, black_box};
use torchlight_bench::scrape::{
    Measured, Metrics, Prometheus, PrometheusClient, Scrape, Torchlight, TorchlightFamily,
    TorchlightOpenMetrics, TorchlightProtobuf,
};

fn main() {
    torchlight_bench::machine::print();
    divan::main();
}

/// `workload::SERIES_COUNTS`, as divan needs a literal list.
const SERIES: &[usize] = &[100, 1_000, 10_000, 100_000];

/// Times one scrape of a registry of `N` series in `S`.
fn scrape<S: Scrape, const N: usize>(bencher: Bencher<'_, '_>) {
    let mut registry = S::new(N);
    // The first scrape sizes the buffers that later scrapes reuse.
    black_box(registry.scrape());
    bencher.bench_local(|| black_box(registry.scrape()).len());
}

mod case6_encode {
    use super::*;

    /// The Prometheus text format 0.0.4.
    mod text {
        use super::*;

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn torchlight<const N: usize>(bencher: Bencher<'_, '_>) {
            scrape::<Torchlight, N>(bencher);
        }

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn prometheus<const N: usize>(bencher: Bencher<'_, '_>) {
            scrape::<Prometheus, N>(bencher);
        }

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn prometheus_client<const N: usize>(bencher: Bencher<'_, '_>) {
            scrape::<PrometheusClient, N>(bencher);
        }

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn metrics<const N: usize>(bencher: Bencher<'_, '_>) {
            scrape::<Metrics, N>(bencher);
        }

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn measured<const N: usize>(bencher: Bencher<'_, '_>) {
            scrape::<Measured, N>(bencher);
        }
    }

    /// The Prometheus text format 0.0.4 from torchlight's run-time `Family`.
    mod text_family {
        use super::*;

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn torchlight<const N: usize>(bencher: Bencher<'_, '_>) {
            scrape::<TorchlightFamily, N>(bencher);
        }
    }

    /// OpenMetrics 1.0 from torchlight's compile-time `Labelled`.
    mod text_openmetrics {
        use super::*;

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn torchlight<const N: usize>(bencher: Bencher<'_, '_>) {
            scrape::<TorchlightOpenMetrics, N>(bencher);
        }
    }

    /// The protobuf format (length-delimited `MetricFamily`) from torchlight's
    /// compile-time `Labelled`.
    mod protobuf {
        use super::*;

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn torchlight<const N: usize>(bencher: Bencher<'_, '_>) {
            scrape::<TorchlightProtobuf, N>(bencher);
        }
    }
}

mod case11_process {
    use super::*;

    /// One scrape of a registry holding only the process metrics.
    mod scrape {
        use super::*;

        #[divan::bench(sample_count = 100)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let registry = torchlight::Registry::new();
            torchlight::process::register(&registry).expect("process metrics register");
            let mut body = Vec::new();
            bencher.bench_local(|| {
                body.clear();
                registry
                    .encode_to(&mut body, torchlight::Format::Text)
                    .expect("encodes");
                black_box(body.len())
            });
        }
    }
}
