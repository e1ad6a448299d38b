//! Fuzz targets for every parser of torchlight that reads bytes from the network or from
//! disk, and round trips for its encoders, each a `fn(&[u8])` that panics when a
//! property fails.
//!
//! [`TARGETS`] is the one list: `cargo xtask fuzz` runs each under libFuzzer (the
//! binary `src/main.rs` built with coverage instrumentation and `--cfg fuzzing`), and
//! `tests/corpus.rs` replays the committed seed corpus (`corpus/<target>/`) and every
//! input that once failed (`regressions/<target>/`) through the same functions in a
//! plain `cargo test`.
//!
//! What each target checks, against something independent of the code it tests:
//!
//! | target | input | property |
//! |---|---|---|
//! | `exposure` | method, path, `Accept`, `Accept-Encoding`, `Authorization` | routing and negotiation agree with a model written from the HTTP rules; `Basic` credentials round-trip through an independent base64 |
//! | `web_config` | exporter-toolkit's YAML file | parses or fails with an error, never panics; users it reads are the ones written |
//! | `consul` | the agent's HTTP answer, an agent address, the registration's strings | the response parser is consistent across splits; the register body is JSON that `serde_json` reads back to the same strings |
//! | `names` | names | the grammars and each escaping scheme match a model written from the specifications |
//! | `text` | a registry (families, labels, values) | text 0.0.4, 1.0.0 and OpenMetrics under every escaping scheme read back by an independent parser to the same values; OpenMetrics passes strict checks written from its specification |
//! | `protobuf` | a registry | the protobuf exposition decodes with prost to the same values |
//! | `push` | a registry, bytes | snappy round-trips through `snap`; remote write and OTLP decode with prost to the same values |
//! | `native` | a factor, observations | the native histogram's buckets equal an exact model's (big-integer powers of two) |
#![forbid(unsafe_code)]

pub mod exposition;
mod intern;
pub mod model;
mod targets;

/// A target: runs one input, panicking when a property fails.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `cargo xtask fuzz` and the corpus folders name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("exposure", targets::exposure),
    ("web_config", targets::web_config),
    ("consul", targets::consul),
    ("names", targets::names),
    ("text", targets::text),
    ("protobuf", targets::protobuf),
    ("push", targets::push),
    ("native", targets::native),
];

/// The target named `name`.
#[must_use]
pub fn target(name: &str) -> Option<Target> {
    TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .map(|(_, run)| *run)
}
