//! The cross-adapter suite: every behaviour a user sees through an adapter, run
//! against tokio, smol and async-std (and the threaded mode) by one harness, plus the
//! checks of the exposition against the reference parsers. One test binary, so the
//! workspace links once for all of them; each module is one concern.
#![forbid(unsafe_code)]

mod adapter_api;
mod collectors;
mod consul;
mod consul_double;
mod created;
mod discovery;
mod exemplars;
mod expiry;
mod exposition;
mod exposure_https;
mod exposure_server;
mod firmware;
mod fixtures;
mod large_scrape;
mod metrics_recorder;
mod names;
mod otlp_push;
mod push;
mod readme;
mod tower_layer;
mod validators;
