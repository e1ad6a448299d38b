//! Stress runs: threads race a reader through the public API thousands of times, each
//! checking one concurrent protocol whole (the histogram's split shards, exemplar
//! slots, the registry's publication). A binary of its own so the hammering threads
//! slow no other test; `loom.rs` model-checks the same protocols.
#![forbid(unsafe_code)]

mod exemplar;
mod expiry;
mod histogram;
mod registry;
