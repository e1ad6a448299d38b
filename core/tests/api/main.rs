//! The core's public behaviour, one module per concern, in one test binary (each test
//! binary links the core and its dev-dependencies anew). The tests that need a
//! process of their own are binaries of their own: the counting global allocator
//! (`alloc/`), the stress runs (`stress/`), loom (`loom.rs`) and the process metrics
//! (`process.rs`, which counts this process's open files).
#![forbid(unsafe_code)]

// Shared by the modules below: client_model's messages (the independent protobuf
// decoder) and the instrumentation tests' doubles and executors.
#[cfg(all(feature = "std", not(loom)))]
mod client_model;
#[cfg(all(feature = "std", not(loom)))]
mod otlp_proto;
#[cfg(all(feature = "std", not(loom)))]
mod prompb;
#[cfg(all(feature = "std", not(loom)))]
mod support;

mod async_collector;
mod clock;
mod created;
mod expiry;
mod exposition;
mod family;
mod fixed_buffer;
mod instrument;
mod names;
mod native;
mod otlp;
mod owned;
mod protobuf;
mod registry;
mod remote_write;
mod types;
