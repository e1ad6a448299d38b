//! Cross-adapter conformance suite and reference-parser checks.
//!
//! - [`consul`]: a Consul agent double (no real agent can be installed here) that
//!   validates and records registrations and serves Prometheus `http_sd_configs`.
//! - [`validate`]: the external validators (`promtool check metrics`,
//!   `prometheus_client`'s OpenMetrics and text parsers) as functions tests call.
//! - [`prometheus`]: a real Prometheus server on loopback, for end-to-end tests.
//! - [`proxy`]: a recording TCP proxy, to see what Prometheus and a server negotiated.
//! - [`fixtures`]: one registry with every metric type and tricky values, encoded.
//! - [`adapter`]: one harness over `torchlight-tokio`, `torchlight-smol` and
//!   `torchlight-async-std`, so `tests/exposure_server.rs` runs one suite on all three.
//! - [`client`]: the independent HTTP client (ureq, no proxies) and raw-socket helpers
//!   for requests no well-behaved client sends.
//! - [`tls`]: certificates generated at test time and an HTTPS client (rustls).
//! - [`examples`]: the example programs, built for the tests that run them.
//! - [`soak`]: a quickstart under mixed load for minutes (`cargo xtask soak`).
#![forbid(unsafe_code)]

pub mod adapter;
pub mod client;
pub mod consul;
pub mod daemon;
pub mod examples;
pub mod fixtures;
// The core tests' hand-written mirror, shared rather than copied (the core's tests
// cannot depend on this crate): decodes what an OTLP pusher sent, independently of the
// encoder.
#[allow(missing_docs)]
#[path = "../../core/tests/api/otlp_proto.rs"]
pub mod otlp_proto;
pub mod prometheus;
pub mod prompb;
pub mod proxy;
pub mod receiver;
pub mod soak;
pub mod tls;
pub mod validate;

pub use consul::ConsulDouble;
pub use validate::{
    Exemplar, Family, Sample, openmetrics_parse, prometheus_client_created,
    prometheus_client_names, promtool_check, text_parse,
};

/// Generates, for each generic test `name::<A: Adapter>()` listed, one `#[test]` per
/// adapter: `tokio::name`, `smol::name` and `async_std::name`.
#[macro_export]
macro_rules! per_adapter_suite {
    ($($test:ident),* $(,)?) => {
        $crate::per_adapter_suite!(@module tokio, $crate::adapter::Tokio, [$($test),*]);
        $crate::per_adapter_suite!(@module smol, $crate::adapter::Smol, [$($test),*]);
        $crate::per_adapter_suite!(@module async_std, $crate::adapter::AsyncStd, [$($test),*]);
    };
    (@module $module:ident, $adapter:ty, [$($test:ident),*]) => {
        mod $module {
            $(
                #[test]
                fn $test() {
                    super::$test::<$adapter>();
                }
            )*
        }
    };
}
