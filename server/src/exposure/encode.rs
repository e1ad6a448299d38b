//! Step 3 of a request: encoding the registry for an exposition route, once per
//! flight of concurrent scrapes.
//!
//! [`encode`] is the whole encoding: the registry in the negotiated format, gzip'd if
//! asked for, with a failing or panicking collector turned into `None` (a 500).
//!
//! [`Flights`] shares it: concurrent requests for the same target (format and
//! compression) share one encoding of the registry. The first scrape of a target starts
//! a *flight*, a detached task that runs the registry's asynchronous collectors (each
//! under its timeout, on the runtime), encodes on the blocking pool, stores the result,
//! removes the flight from the table and then drops the flight's sender, which wakes
//! every waiter. A scrape arriving while a flight of its target is in the table joins
//! it instead of starting another, so no scrape waits for more than the one encoding
//! in flight when it arrived, and a scrape arriving after the flight left the table
//! starts a fresh one (it never gets an answer older than its request unless that
//! answer was still being made). Because the encoding runs in its own task, a scrape
//! whose client goes away does not cancel it for the others.

use std::collections::HashMap;
use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use async_channel::Receiver;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use torchlight::{Exposition, Registry};

use crate::registry::ServedRegistry;
use crate::runtime::{Runtime, sleep};

/// An encoded exposition, or `None` when a collector failed or panicked.
pub(crate) type Encoded = Option<Bytes>;

/// Encodes `registry` in `format`, compressed if `gzip`; `None` if a collector failed
/// or panicked.
pub(crate) fn encode(registry: &Registry, format: Exposition, gzip: bool) -> Encoded {
    // A panic leaves nothing half-updated that this thread reads afterwards: the
    // registry is only read, and the partial body is discarded.
    panic::catch_unwind(AssertUnwindSafe(|| exposition(registry, format, gzip)))
        .ok()
        .flatten()
        .map(Bytes::from)
}

fn exposition(registry: &Registry, format: Exposition, gzip: bool) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    registry.encode_to(&mut body, format).ok()?;
    if !gzip {
        return Some(body);
    }
    // Level 1: exposition text is repetitive, so the fastest level already shrinks it
    // several times, at a fraction of the default level's CPU time per scrape.
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
    // Writing into a `Vec` cannot fail; `ok()?` keeps that an error path, not a panic.
    encoder.write_all(&body).ok()?;
    encoder.finish().ok()
}

/// Runs `registry`'s asynchronous collectors once, each raced against a sleep on `R`'s
/// timer for its timeout, then encodes on `R`'s blocking pool.
async fn collect_and_encode<R: Runtime>(
    registry: ServedRegistry,
    format: Exposition,
    gzip: bool,
) -> Encoded {
    registry.collect_async(sleep::<R>).await;
    R::unblock(move || encode(&registry, format, gzip)).await
}

/// What a flight is keyed by: the negotiated format and compression (a `HEAD` shares
/// the `GET`'s encoding).
type Key = (Exposition, bool);

/// The flights in progress of one server (or one embedded service).
#[derive(Debug, Default)]
pub(crate) struct Flights {
    /// Invariant: a key's entry exists exactly while its flight's encoding is being
    /// made (inserted before the encoding starts, removed before waiters wake).
    in_flight: Mutex<HashMap<Key, Arc<Flight>>>,
}

#[derive(Debug)]
struct Flight {
    /// Closed (its sender dropped) once `encoded` is set.
    done: Receiver<()>,
    encoded: OnceLock<Encoded>,
}

impl Flights {
    fn table(&self) -> MutexGuard<'_, HashMap<Key, Arc<Flight>>> {
        // Only inserts and removes happen under the lock; a poisoned map is still valid.
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `registry` encoded in `format` (gzip'd if `gzip`), shared with every concurrent
    /// request for the same.
    pub(crate) async fn encode<R: Runtime>(
        self: &Arc<Self>,
        registry: &ServedRegistry,
        format: Exposition,
        gzip: bool,
    ) -> Encoded {
        let key = (format, gzip);
        let flight = {
            let mut table = self.table();
            match table.get(&key) {
                Some(flight) => Arc::clone(flight),
                None => {
                    let (finished, done) = async_channel::bounded::<()>(1);
                    let flight = Arc::new(Flight {
                        done,
                        encoded: OnceLock::new(),
                    });
                    table.insert(key, Arc::clone(&flight));
                    let (flights, made) = (Arc::clone(self), Arc::clone(&flight));
                    let registry = registry.clone();
                    R::detach(R::spawn(async move {
                        let encoded = collect_and_encode::<R>(registry, format, gzip).await;
                        let _ = made.encoded.set(encoded);
                        flights.table().remove(&key);
                        drop(finished);
                    }));
                    flight
                }
            }
        };
        // Nothing is ever sent: `recv` returns once the flight drops its sender.
        let _ = flight.done.recv().await;
        match flight.encoded.get() {
            Some(encoded) => encoded.clone(),
            // The flight's task was dropped unfinished (its runtime shut down): encode
            // alone rather than not at all.
            None => collect_and_encode::<R>(registry.clone(), format, gzip).await,
        }
    }
}
