//! Prometheus instrumentation for async Rust: the `no_std`, allocation-free core.
//!
//! - Metrics: [`Counter`], [`FloatCounter`], [`Gauge`], [`FloatGauge`],
//!   [`Histogram`] and [`NativeHistogram`] (exponential buckets by resolution), each
//!   with a `const fn` constructor so it can be a `static`, and lock-free,
//!   allocation-free operations.
//! - Python `prometheus_client`'s other types: [`Summary`] (count and sum), [`Info`]
//!   (constant labels) and [`StateSet`] (its `Enum`).
//! - Labels known at compile time: [`label_value!`], [`label_set!`] and [`Labelled`].
//!   Labels known only at run time (`std`): `Family` (a `static` like any metric,
//!   its label count in its type) and `DynFamily` (label names chosen at run time),
//!   with a cardinality limit.
//! - Names and registration: [`Metric`] names a metric; a [`Registry`] (or the
//!   process-wide [`REGISTRY`]) gathers them without allocating.
//! - Exposition: [`Registry::encode_to`] writes the Prometheus text format 0.0.4,
//!   OpenMetrics 1.0 or the protobuf format ([`Format`]) as bytes into a `Vec<u8>`, a
//!   fixed buffer ([`SliceSink`], no allocator needed) or any [`ByteSink`], byte for
//!   byte as Go's `expfmt` does; [`Registry::encode`] writes the text formats into any
//!   [`core::fmt::Write`].
//! - Created timestamps: counters, histograms and summaries carry when they started
//!   counting (set at registration from the registry's [`WallClock`], at a `Family`
//!   child's creation, at [`Counter::reset`]), written to protobuf's
//!   `created_timestamp` and, when asked ([`Exposition::with_created_samples`]), as
//!   OpenMetrics `_created` samples.
//! - Serving over HTTP is not the core's: `torchlight-server` (through the adapter
//!   crates `torchlight-tokio`, `torchlight-smol`, `torchlight-async-std`) serves a
//!   registry at `/metrics`, so a library that only instruments compiles no HTTP code.
//! - Exemplars (a recent observation's trace id beside a bucket or a counter, in
//!   OpenMetrics): [`ExemplarHistogram`], [`ExemplarCounter`] and
//!   [`ExemplarNativeHistogram`] (a few recent ones for the whole native histogram, in
//!   protobuf), separate types so the plain metrics pay nothing for them; the wrappers take a label source with
//!   [`Timed::exemplar`] and [`CountErrors::exemplar`].
//! - Your own metric types join in through [`Series`] or [`Collect`], reporting their
//!   samples to an [`Encoder`], which is the same whatever the format. Values computed
//!   at scrape time: [`GaugeFn`] and [`CounterFn`] call a function; `AsyncCollector`
//!   (`std`) runs a future before each scrape, on the server's runtime.
//! - Standard collectors (`std`): `process` (client_golang's and Python's process
//!   metrics, one line to register) and [`build_info!`] (`<name>_build_info`).
//! - Future instrumentation: [`Instrument`] wraps any future to time it ([`Timed`]),
//!   count its errors ([`CountErrors`]) or track it while in progress
//!   ([`TrackInProgress`]), on any executor, without allocating; time comes from a
//!   [`Clock`] (`StdClock`, [`ManualClock`] or your own). With the `macros` feature,
//!   `#[timed]`, `#[count_errors]` and `#[track_in_progress]` do the same on `async fn`.
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
//! | `std` (default) | run-time conveniences: a histogram collection parks its thread (instead of spinning) while it waits for observations in flight; `Family` (labels with run-time values, a sharded `RwLock<HashMap>` of `Arc` children, bounded by a cardinality limit); `Registry::register_owned` / `unregister` (metrics owned by `Arc`); `process` (the process metrics); `AsyncCollector` | links `std`; a family allocates twice per new child, its handle and its packed key (about 136 B retained for a counter child with two short values, 16 B of it the state idle expiry reads, plus 24 B in the sorted list a scrape caches), and a scrape after children changed rebuilds that list (one allocation) and a scrape of owned metrics copies their handles into a `Vec` |
//! | `macros` | the attribute macros `#[timed]`, `#[count_errors]` and `#[track_in_progress]` for `async fn` (crate `torchlight-macros`; without `std`, `#[timed]` needs its `clock = …` option) | builds a proc-macro crate with `syn` (`full`), `quote` and `proc-macro2`: a few seconds of compile time, nothing at run time |
//!
//! For the future wrappers, `std` adds `StdClock`, `Instrument::time` (which reads it)
//! and `Arc`-owned metrics, and `macros` costs nothing at run time: the attributes expand
//! to the same wrappers.
//!
//! Without default features the crate is `#![no_std]` and never links `alloc`. Targets
//! without native 64-bit atomics (`thumbv7m-none-eabi`) get them from `portable-atomic`
//! automatically; targets without compare-and-swap (`thumbv6m-none-eabi`) also need the
//! final binary to enable `portable-atomic`'s `critical-section` feature or build with
//! `--cfg portable_atomic_unsafe_assume_single_core`.
//!
//! # Upgrading: the sample model
//!
//! [`Collect`], [`Series`], [`EncodeLabels`] and the methods of [`Encoder`] and
//! [`LabelEncoder`] keep their signatures, so your own implementations keep compiling
//! and exposing the same bytes. What changed: `Encoder::format()` is gone (a metric
//! reports the same samples whatever the format; the encoder decides the spelling),
//! and an error from your `Collect` now fails the byte encoders with
//! [`EncodeError::Collect`] rather than passing for a writer's error. To encode faster,
//! call [`Registry::encode_to`] with a `Vec<u8>` kept between scrapes instead of
//! [`Registry::encode`] with a `String`.
//!
//! # Moved out of the core
//!
//! The exposure server's pieces that lived here under `std` moved to
//! `torchlight-server` (re-exported by every adapter): `exposure::{Options, Limits,
//! StartError, Request, Route, Response, Credentials}`, the content negotiation,
//! `discovery` and `consul`. The core now links no compression code; `CHANGELOG.md`
//! lists each new path.
#![no_std]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// loom is built on `std`, so a loom build links it whatever the features say.
#[cfg(any(feature = "std", loom))]
extern crate std;

mod sync;

mod callback;
#[cfg(not(loom))]
mod clock;
mod collect;
mod counter;
mod created;
mod encoding;
mod exemplar;
#[cfg(all(feature = "std", not(loom)))]
mod family;
mod gauge;
mod histogram;
mod info;
#[cfg(not(loom))]
mod instrument;
#[cfg(not(loom))]
mod labelled;
mod metric;
mod name;
mod native;
#[cfg(all(feature = "std", not(loom)))]
pub mod process;
mod registry;
mod sample;
mod split;
#[cfg(not(loom))]
mod state_set;
mod summary;

pub use callback::{CounterFn, GaugeFn};
#[cfg(all(not(loom), feature = "std"))]
pub use clock::StdClock;
#[cfg(not(loom))]
pub use clock::{Clock, ManualClock};
pub use collect::{Collect, MetricType, Series};
pub use counter::{Counter, FloatCounter};
pub use created::WallClock;
pub use encoding::{
    ByteSink, EncodeError, Exposition, ExternalLabelError, Format, Otlp, RemoteWrite, SliceSink,
    snappy_compress,
};
pub use exemplar::{ExemplarCounter, ExemplarHistogram, ExemplarNativeHistogram};
#[cfg(all(feature = "std", not(loom)))]
pub use family::{DynFamily, Family, LabelCountError, LabelNamesError};
pub use gauge::{FloatGauge, Gauge};
pub use histogram::{Buckets, BucketsError, DEFAULT_BUCKETS, Histogram, Snapshot};
pub use info::{Info, InfoError};
#[cfg(not(loom))]
pub use instrument::{
    AllErrors, CountErrors, ErrorFilter, Inc, IncDec, IncExemplar, Instrument, Observe,
    ObserveExemplar, Timed, TrackInProgress, WithExemplar, caused_by,
};
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use torchlight_macros::{count_errors, timed, track_in_progress};

/// Support for the code `torchlight-macros` generates; not a public API.
#[cfg(feature = "macros")]
#[doc(hidden)]
pub mod __private {
    use core::future::Future;

    /// Returns `future`, telling type inference that its output is `T` before the async
    /// block's body is checked (so `?` in the body infers as in the original `async fn`).
    #[inline(always)]
    pub fn output<T, F: Future<Output = T>>(future: F) -> F {
        future
    }

    /// The clock `#[timed(METRIC)]` reads without a `clock = …` option.
    pub use crate::__timed_default_clock as default_clock;
}

/// The clock `#[timed(METRIC)]` reads without a `clock = …` option: `StdClock`. The
/// proc macro cannot see torchlight's features, so it names this macro, which each
/// build of torchlight defines for itself.
#[cfg(all(feature = "macros", feature = "std"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __timed_default_clock {
    ($($metric:tt)*) => {
        $crate::StdClock
    };
}

/// Without `std` there is no `StdClock`: `#[timed(METRIC)]` must name its clock, and
/// says so (with the metric as written) rather than failing on the missing type.
#[cfg(all(feature = "macros", not(feature = "std")))]
#[doc(hidden)]
#[macro_export]
macro_rules! __timed_default_clock {
    ($($metric:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "`#[timed]` needs a clock: torchlight is built without its `std` feature, so ",
            "there is no `StdClock` to read; name one with the `clock` option, e.g. ",
            "`#[timed(",
            ::core::stringify!($($metric)*),
            ", clock = &CLOCK)]` with `static CLOCK: ManualClock = ManualClock::new();` ",
            "or any `torchlight::Clock` (an executor's timer, a tick counter), ",
            "or enable torchlight's `std` feature"
        ))
    };
}
#[cfg(not(loom))]
pub use labelled::{LabelSet, LabelValue, Labelled};
pub use metric::{Metadata, Metric};
pub use name::{Escaping, NameValidation};
pub use native::{DEFAULT_ZERO_THRESHOLD, NativeHistogram, NativeSnapshot, schema_for};
#[cfg(not(loom))]
pub use registry::REGISTRY;
#[cfg(all(feature = "std", not(loom)))]
pub use registry::{AsyncCollector, CollectorError};
pub use registry::{RegisterError, Registry};
pub use sample::{EncodeLabels, Encoder, Exemplar, ExemplarError, ExemplarLabels, LabelEncoder};
#[cfg(not(loom))]
pub use state_set::StateSet;
pub use summary::Summary;
