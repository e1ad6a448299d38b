//! End to end: a real Prometheus (started by the tests on loopback) scrapes every
//! adapter, discovers them through the Consul agent double, stores their exemplars and
//! their UTF-8 names escaped (with `_created` series),
//! queries native histograms (exemplars, quantiles past the bound), scrapes them over
//! HTTPS, and finds the `service` example's p99 latency per route. `cargo xtask e2e`
//! runs this binary alone.
#![forbid(unsafe_code)]

mod discovery;
mod exemplars;
mod https;
mod names;
mod native;
mod prometheus;
mod push;
mod service;
