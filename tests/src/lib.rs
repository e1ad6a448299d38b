//! Cross-adapter conformance suite and reference-parser checks.
#![forbid(unsafe_code)]

pub mod fixtures;
