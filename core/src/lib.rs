//! Prometheus instrumentation for async Rust: the `no_std`, allocation-free core.
//!
//! - Metrics: [`Counter`], [`FloatCounter`], [`Gauge`], [`FloatGauge`] and
//!   [`Histogram`], each with a `const fn` constructor so it can be a `static`, and
//!   lock-free, allocation-free operations.
//! - Labels known at compile time: [`label_value!`], [`label_set!`] and [`Labelled`].
//! - Names and registration: [`Metric`] names a metric; a [`Registry`] (or the
//!   process-wide [`REGISTRY`]) gathers them without allocating.
//! - Exposition: [`Registry::encode`] writes the Prometheus text format 0.0.4 or
//!   OpenMetrics 1.0 ([`Format`]) into any [`core::fmt::Write`], byte for byte as Go's
//!   `expfmt` does.
//! - Your own metric types join in through [`Series`] or [`Collect`].
//!
//! ```
//! use torchlight::{Counter, Format, Histogram, Metric, REGISTRY};
//!
//! static REQ_TIME: Metric<Histogram> =
//!     Metric::new("req_time_seconds", "time spent in requests", Histogram::new());
//! static ERRORS: Metric<Counter> = Metric::new("errors", "failed requests", Counter::new());
//!
//! REGISTRY.register(&REQ_TIME)?;
//! REGISTRY.register(&ERRORS)?;
//! REQ_TIME.observe(0.042);
//!
//! let mut body = String::new();
//! REGISTRY.encode(&mut body, Format::OpenMetrics)?;
//! assert!(body.contains("req_time_seconds_bucket{le=\"0.05\"} 1\n"));
//! assert!(body.ends_with("errors_total 0.0\n# EOF\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | enables | costs |
//! |---|---|---|
//! | `std` (default) | run-time conveniences (yielding while a histogram collection waits) | links `std` |
//!
//! Without default features the crate is `#![no_std]` and never links `alloc`. Targets
//! without native 64-bit atomics (`thumbv7m-none-eabi`) get them from `portable-atomic`
//! automatically; targets without compare-and-swap (`thumbv6m-none-eabi`) also need the
//! final binary to enable `portable-atomic`'s `critical-section` feature or build with
//! `--cfg portable_atomic_unsafe_assume_single_core`.
//!
//! `std` also enables [`discovery`] (the runtime-neutral `ServiceDiscovery` trait) and
//! [`consul`] (the sans-IO Consul agent protocol and a blocking transport), at no
//! dependency cost.
#![no_std]
#![deny(unsafe_code)]
// Under loom only the atomics-bearing modules are model-checked; the rest sits unused.
#![cfg_attr(loom, allow(dead_code, unused_imports))]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "std")]
extern crate std;

mod sync;

mod collect;
#[cfg(all(feature = "std", not(loom)))]
pub mod consul;
mod counter;
#[cfg(all(feature = "std", not(loom)))]
pub mod discovery;
mod encoding;
mod gauge;
mod histogram;
#[cfg(not(loom))]
mod labelled;
#[cfg(not(loom))]
mod metric;
mod name;
#[cfg(not(loom))]
mod registry;

pub use collect::{Collect, Series};
pub use counter::{Counter, FloatCounter};
pub use encoding::{EncodeLabels, Encoder, Format, LabelEncoder, MetricType};
pub use gauge::{FloatGauge, Gauge};
pub use histogram::{Buckets, BucketsError, DEFAULT_BUCKETS, Histogram, Snapshot};
#[cfg(not(loom))]
pub use labelled::{LabelSet, LabelValue, Labelled};
#[cfg(not(loom))]
pub use metric::{Metadata, Metric};
#[cfg(not(loom))]
pub use registry::{REGISTRY, RegisterError, Registry};
