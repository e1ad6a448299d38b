//! Cross-adapter conformance suite and reference-parser checks.
//!
//! - [`adapter`]: one harness over `torchlight-tokio`, `torchlight-smol` and
//!   `torchlight-async-std`, so `tests/exposure_server.rs` runs one suite on all three.
//! - [`client`]: the independent HTTP client (ureq, no proxies) and raw-socket helpers
//!   for requests no well-behaved client sends.
#![forbid(unsafe_code)]

pub mod adapter;
pub mod client;
