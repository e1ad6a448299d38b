//! Case 14 of `cargo xtask bench`: one Prometheus remote-write push of a registry of
//! 10 000 and 100 000 series (the `WriteRequest` encoded, then snappy-compressed, into
//! buffers kept between pushes: `torchlight_bench::scrape::TorchlightRemoteWrite`),
//! against a text scrape of the same registry (issue 23's goal: at most 1.5× its CPU)
//! and against that scrape gzip'd as the server sends it. Before the timings the
//! program prints each body's size as a result line (`body_bytes`, `bench/src/record.rs`):
//! a push's bytes on the wire against the gzip'd text's.
//!
//! Paths are `case14_push::<body>::torchlight::<series>` with `<body>` one of
//! `remote_write`, `text`, `text_gzip`. That a push allocates nothing after the first
//! is `core/tests/alloc`'s (a counting allocator would slow these timings).
#![forbid(unsafe_code)]

use divan::{Bencher, black_box};
use torchlight_bench::Library;
use torchlight_bench::record::Record;
use torchlight_bench::scrape::{Scrape, Torchlight, TorchlightRemoteWrite, TorchlightTextGzip};

/// The registry sizes of case 14, as divan needs a literal list.
const SERIES: &[usize] = &[10_000, 100_000];

fn main() {
    torchlight_bench::machine::print();
    for &series in SERIES {
        let bodies = [
            (
                "remote_write",
                TorchlightRemoteWrite::new(series).scrape().len(),
            ),
            ("text", Torchlight::new(series).scrape().len()),
            ("text_gzip", TorchlightTextGzip::new(series).scrape().len()),
        ];
        for (variant, bytes) in bodies {
            #[allow(clippy::cast_precision_loss)]
            let record = Record {
                case: "case14_push",
                variant,
                parameter: series.to_string(),
                library: Library::Torchlight,
                metric: "body_bytes",
                value: bytes as f64,
            };
            println!("{}", record.line());
        }
    }
    divan::main();
}

/// Times one encode of a registry of `N` series in `S`.
fn encode<S: Scrape, const N: usize>(bencher: Bencher<'_, '_>) {
    let mut registry = S::new(N);
    // The first encode sizes the buffers that later ones reuse.
    black_box(registry.scrape());
    bencher.bench_local(|| black_box(registry.scrape()).len());
}

mod case14_push {
    use super::*;

    /// A remote-write body: `WriteRequest`, then snappy.
    mod remote_write {
        use super::*;

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn torchlight<const N: usize>(bencher: Bencher<'_, '_>) {
            encode::<TorchlightRemoteWrite, N>(bencher);
        }
    }

    /// The text scrape of the same registry (case 6's `text` row at these sizes).
    mod text {
        use super::*;

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn torchlight<const N: usize>(bencher: Bencher<'_, '_>) {
            encode::<Torchlight, N>(bencher);
        }
    }

    /// The text scrape gzip'd as the server sends it.
    mod text_gzip {
        use super::*;

        #[divan::bench(consts = SERIES, sample_count = 30)]
        fn torchlight<const N: usize>(bencher: Bencher<'_, '_>) {
            encode::<TorchlightTextGzip, N>(bencher);
        }
    }
}
