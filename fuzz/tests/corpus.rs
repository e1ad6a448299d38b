//! The committed inputs, replayed on every `cargo test`: each target's seed corpus
//! (`corpus/<target>/`, what `cargo xtask fuzz` starts from and grows) and every input
//! that once made a target fail (`regressions/<target>/`, named for what it found).
//! The seed corpus's OpenMetrics expositions also go through `prometheus_client`'s
//! strict parser, too slow for the fuzzer itself.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use arbitrary::Unstructured;
use torchlight::{Escaping, Format};
use torchlight_fuzz::{TARGETS, model};

/// The files in `fuzz/<folder>/<target>/`, sorted; none when the folder is missing.
fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(folder)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs every file of `folder` through its target, naming the file that fails.
fn replay(folder: &str) -> usize {
    let mut replayed = 0;
    for (target, run) in TARGETS {
        for file in inputs(folder, target) {
            let data = std::fs::read(&file).unwrap();
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                panic!(
                    "{} fails {target}; reproduce with `cargo run -p torchlight-fuzz -- {target} {}`",
                    file.display(),
                    file.display()
                );
            }
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (target, _) in TARGETS {
        assert!(
            !inputs("corpus", target).is_empty(),
            "fuzz/corpus/{target}/ is empty: run `cargo xtask fuzz {target}` and commit what it adds"
        );
    }
}

#[test]
fn the_seed_corpus_passes_every_target() {
    assert!(replay("corpus") > 0);
}

#[test]
fn inputs_that_once_failed_pass() {
    replay("regressions");
}

/// Registries of the `text` corpus the strict parser reads: one Python run each, so a
/// sample (the first ones, in file-name order) rather than the whole corpus.
const STRICT_SAMPLE: usize = 25;

/// What the `text` target encodes from the seeds, checked by `prometheus_client`'s
/// strict OpenMetrics parser under two schemes: the fuzz target's own strict checks
/// are written from the specification, and this holds them to the reference parser.
#[test]
fn the_seed_expositions_pass_the_strict_openmetrics_parser() {
    let mut checked = 0;
    for file in inputs("corpus", "text") {
        if checked >= 2 * STRICT_SAMPLE {
            break;
        }
        let data = std::fs::read(&file).unwrap();
        let mut u = Unstructured::new(&data);
        let _sum_safe: bool = u.arbitrary().unwrap_or(true);
        let Ok(built) = model::build(&mut u, true) else {
            continue;
        };
        if built.families.is_empty() {
            continue;
        }
        for scheme in [Escaping::AllowUtf8, Escaping::Underscores] {
            if built
                .families
                .iter()
                .any(|family| family.reserved_label(scheme))
            {
                continue;
            }
            let mut body = Vec::new();
            built
                .registry
                .encode_to(&mut body, Format::OpenMetrics.with_escaping(scheme))
                .unwrap();
            let text = String::from_utf8(body).unwrap();
            let families = torchlight_tests::validate::openmetrics_parse(&text)
                .unwrap_or_else(|error| panic!("{}: {error}\n{text}", file.display()));
            let expected: usize = built
                .families
                .iter()
                .map(|family| family.samples(scheme).len())
                .sum();
            let parsed: usize = families.iter().map(|family| family.samples.len()).sum();
            assert_eq!(parsed, expected, "{}:\n{text}", file.display());
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "the text corpus holds no registry with families"
    );
}
