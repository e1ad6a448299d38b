//! The server's sans-I/O protocols, without a socket: the HTTP exposure protocol
//! (routing, negotiation, authorization, answers), the Consul agent protocol and the
//! discovery types. One test binary, so the crate links once.
#![forbid(unsafe_code)]

mod consul;
mod discovery;
mod exposure;
