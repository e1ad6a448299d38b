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
//! `case11_process::scrape::<library>` times one scrape of the process metrics alone
//! (torchlight's `process::register`: reading `/proc` and encoding nine families as
//! text 0.0.4; `prometheus`' `ProcessCollector`, seven), the cost they add to every
//! scrape, each started with no reading kept from an earlier scrape;
//! `case11_process::shared_families::torchlight` is torchlight's scrape of the six
//! families both have.
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
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use torchlight::process::Reading;

    /// Longer than the 100 ms for which `torchlight::process` keeps a reading of a
    /// `/proc` file for the next family of the same scrape: every timed scrape starts
    /// with the readings stale, as a scrape seconds after the last one does.
    const STALE: Duration = Duration::from_millis(101);

    /// Times `scrape` once per sample, each after [`STALE`] of sleep (untimed).
    fn stale_scrape(bencher: Bencher<'_, '_>, mut scrape: impl FnMut() -> usize) {
        black_box(scrape());
        bencher
            .with_inputs(|| std::thread::sleep(STALE))
            .bench_local_values(|()| black_box(scrape()));
    }

    /// A text scrape of `registry` into a kept buffer.
    fn torchlight_scrape(bencher: Bencher<'_, '_>, registry: &torchlight::Registry) {
        let mut body = Vec::new();
        stale_scrape(bencher, || {
            body.clear();
            registry
                .encode_to(&mut body, torchlight::Format::Text)
                .expect("encodes");
            body.len()
        });
    }

    /// One scrape of a registry holding only each library's process metrics:
    /// torchlight's nine families (`process::register`), `prometheus`' seven
    /// (`ProcessCollector::for_self`, its `process` feature).
    mod scrape {
        use super::*;

        #[divan::bench(sample_count = 30, sample_size = 1)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let registry = torchlight::Registry::new();
            torchlight::process::register(&registry).expect("process metrics register");
            torchlight_scrape(bencher, &registry);
        }

        #[divan::bench(sample_count = 30, sample_size = 1)]
        fn prometheus(bencher: Bencher<'_, '_>) {
            use ::prometheus::Encoder as _;
            let registry = ::prometheus::Registry::new();
            registry
                .register(Box::new(
                    ::prometheus::process_collector::ProcessCollector::for_self(),
                ))
                .expect("process collector registers");
            let encoder = ::prometheus::TextEncoder::new();
            let mut body = Vec::new();
            stale_scrape(bencher, || {
                body.clear();
                encoder
                    .encode(&registry.gather(), &mut body)
                    .expect("encodes");
                body.len()
            });
        }
    }

    /// torchlight's scrape of only the six families `prometheus`' collector also has
    /// (it adds `process_threads`; torchlight adds the address-space limit and the
    /// network counters): the like-for-like row against `scrape::prometheus`.
    mod shared_families {
        use super::*;

        #[divan::bench(sample_count = 30, sample_size = 1)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let registry = torchlight::Registry::new();
            for reading in [
                Reading::CpuSeconds,
                Reading::OpenFds,
                Reading::MaxFds,
                Reading::VirtualMemory,
                Reading::ResidentMemory,
                Reading::StartTime,
            ] {
                registry
                    .register_owned(Arc::new(torchlight::Metric::new(
                        reading.name(),
                        reading.help(),
                        reading,
                    )))
                    .expect("registers");
            }
            torchlight_scrape(bencher, &registry);
        }
    }
}
