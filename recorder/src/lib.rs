//! torchlight as a [`metrics`] recorder: every `counter!`, `gauge!` and `histogram!`
//! your dependencies record through the `metrics` facade is exposed by torchlight,
//! next to your native torchlight metrics, on any runtime.
//!
//! One line next to `start_http_server`, on any adapter (tokio, smol, async-std, or
//! the threaded mode); the recorder writes into the registry the server serves:
//!
//! ```
//! // Beside the adapter's `start_http_server(Options::new())`, on any runtime:
//! torchlight_metrics::install(&torchlight::REGISTRY)?;
//!
//! metrics::describe_counter!("jobs_done", "Jobs finished.");
//! metrics::counter!("jobs_done", "queue" => "mail").increment(1);
//! metrics::histogram!("job_seconds").record(0.2);
//!
//! let mut text = String::new();
//! torchlight::REGISTRY.encode(&mut text, torchlight::Format::Text)?;
//! assert!(text.contains("# HELP jobs_done_total Jobs finished.\n"));
//! assert!(text.contains("jobs_done_total{queue=\"mail\"} 1\n"));
//! assert!(text.contains("job_seconds_bucket{le=\"0.25\"} 1\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - **Kinds**: counters are torchlight [`Counter`](torchlight::Counter)s (`u64`;
//!   `absolute` raises the count to the given value), gauges
//!   [`FloatGauge`](torchlight::FloatGauge)s (set, increment, decrement), histograms
//!   classic histograms with [`DEFAULT_BUCKETS`](torchlight::DEFAULT_BUCKETS) or the
//!   bounds [`Builder`] chooses per name, prefix or suffix (at most [`MAX_BUCKETS`]),
//!   or native histograms where it says so
//!   ([`Builder::with_native_histogram_for_name`] and its kin).
//! - **Names** follow the registry: kept as recorded (`http.server.requests`) where it
//!   accepts UTF-8 names (`Registry::new`), each scraper reading them as it asked;
//!   sanitised as `metrics-exporter-prometheus` does for a `Registry::legacy()`
//!   ([`names`]). Label values are escaped, never rewritten.
//! - **Idle series** can expire ([`Builder::with_idle_timeout`]), never before a scrape
//!   has shown their final value.
//! - **Labels** of any keys: each set of label keys of a name is a torchlight
//!   [`DynFamily`](torchlight::DynFamily) (at most [`MAX_LABEL_SETS`] per name), bounded by
//!   the family's cardinality limit ([`Builder::with_limit`]).
//! - **Descriptions and units** from `describe_*!` become `# HELP` and (OpenMetrics,
//!   when the name ends in `_<unit>`) `# UNIT`.
//! - **One registry, one name space**: a recorded name that clashes with a native
//!   metric (or is used as two kinds) is a [`RecordError`], reported once; the output
//!   never holds a duplicated family. The other way round, a native metric registered
//!   after the recorder first used its name gets the registry's `RegisterError::Clash`.
//!
//! The mechanism (lookups, registration, what is leaked) is described in
//! [`TorchlightRecorder`]'s module; coming from `metrics-exporter-prometheus`, read
//! [`migration`].
//!
//! This is a crate of its own, not a feature of `torchlight`: the core is `no_std`
//! and allocation-free, while a facade recorder needs `std` (run-time names, locks,
//! `Arc` handles) and the `metrics` crate; library authors who depend on the core do
//! not compile either.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod buckets;
mod builder;
mod cache;
mod child;
mod error;
mod label_sets;
pub mod migration;
pub mod names;
mod recorder;

pub use builder::Builder;
pub use child::MAX_BUCKETS;
pub use error::{BuildError, InstallError, RecordError};
pub use label_sets::MAX_LABEL_SETS;
pub use recorder::TorchlightRecorder;

use torchlight::Registry;

/// Installs a recorder with the default options ([`Builder::new`]) as the process's
/// `metrics` recorder, exposing through `registry`: the one line an application adds
/// next to its adapter's `start_http_server`.
///
/// # Errors
///
/// [`InstallError::AlreadyInstalled`] if a `metrics` recorder is installed already.
pub fn install(registry: &'static Registry) -> Result<(), InstallError> {
    Builder::new(registry).install()
}
