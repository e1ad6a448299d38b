//! The workloads of `cargo xtask bench`: torchlight against `prometheus`,
//! `prometheus-client`, `metrics` (+ `metrics-exporter-prometheus`) and `measured`.
//!
//! Every input the benchmarks feed the libraries is defined here once, so each library
//! does the same work: the histogram bucket bounds ([`workload::BUCKETS`]), the observed
//! values, the label values and their pre-generated random order ([`workload`]), the
//! registries that are scraped ([`scrape`]), the servers and the load generator of
//! the HTTP case ([`http`]) and the label children that are created ([`child`]). The benches in `benches/` only time these; the unit tests here check that
//! the libraries really are given the same work (for example, that every scraped
//! registry holds the same series).
//!
//! The crate is a workspace member outside `default-members`: `cargo test` and
//! `cargo xtask ci` never compile the peers. Run it with `cargo xtask bench`.

pub mod allocation;
pub mod child;
pub mod facade;
pub mod http;
pub mod library;
pub mod machine;
pub mod record;
pub mod scrape;
pub mod workload;

pub use library::Library;
