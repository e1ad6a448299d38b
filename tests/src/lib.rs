//! Cross-adapter conformance suite and reference-parser checks.
//!
//! - [`validate`]: the external validators (`promtool check metrics`,
//!   `prometheus_client`'s OpenMetrics and text parsers) as functions tests call.
//! - [`prometheus`]: a real Prometheus server on loopback, for end-to-end tests.
//! - [`fixtures`]: one registry with every metric type and tricky values, encoded.
#![forbid(unsafe_code)]

pub mod fixtures;
pub mod prometheus;
pub mod validate;

pub use validate::{Family, Sample, openmetrics_parse, promtool_check, text_parse};
