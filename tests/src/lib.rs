//! Cross-adapter conformance suite and reference-parser checks.
//!
//! - [`validate`]: the external validators (`promtool check metrics`,
//!   `prometheus_client`'s OpenMetrics and text parsers) as functions tests call.
#![forbid(unsafe_code)]

pub mod validate;

pub use validate::{Family, Sample, openmetrics_parse, promtool_check, text_parse};
