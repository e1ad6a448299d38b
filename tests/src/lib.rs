//! Cross-adapter conformance suite and reference-parser checks.
//!
//! - [`consul`]: a Consul agent double (no real agent can be installed here) that
//!   validates and records registrations and serves Prometheus `http_sd_configs`.
//! - [`validate`]: the external validators (`promtool check metrics`,
//!   `prometheus_client`'s OpenMetrics and text parsers) as functions tests call.
#![forbid(unsafe_code)]

pub mod consul;
pub mod validate;

pub use consul::ConsulDouble;

pub use validate::{Family, Sample, openmetrics_parse, promtool_check, text_parse};
