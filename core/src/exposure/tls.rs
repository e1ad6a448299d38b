//! Transport security carried from [`Options`](super::Options) to a server: [`Tls`].

use core::any::Any;
use std::fmt;

/// Encryption (TLS) for every connection of a server, set with
/// [`Options::tls`](super::Options::tls).
///
/// The core has no TLS code: it only carries the value from the program to the
/// server. The implementation servers accept is `torchlight_server::TlsConfig`
/// (feature `tls` of `torchlight-server` and of each adapter), built from PEM files
/// or a ready `rustls::ServerConfig`; a server given any other type refuses to start
/// (its `StartError` says so) rather than serve plain HTTP.
pub trait Tls: Any + Send + Sync + fmt::Debug {
    /// This value as [`Any`], so the server can recover its concrete type.
    fn as_any(&self) -> &dyn Any;
}
