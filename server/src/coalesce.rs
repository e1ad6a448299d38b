//! Coalesced scrapes: concurrent requests for the same route (format, encoding,
//! `HEAD` or not) share one encoding of the registry.
//!
//! The protocol: the first scrape of a route starts a *flight*, a detached task that
//! encodes on the blocking pool, stores the answer, removes the flight from the table
//! and then drops the flight's sender, which wakes every waiter. A scrape arriving
//! while a flight of its route is in the table joins it instead of starting another,
//! so no scrape waits for more than the one encoding in flight when it arrived, and a
//! scrape arriving after the flight left the table starts a fresh one (it never gets
//! an answer older than its request unless that answer was still being made).
//! Because the encoding runs in its own task, a scrape whose client goes away does not
//! cancel it for the others.
//!
//! Work that must run once per scrape before encoding (the registry's asynchronous
//! collectors, `collectors.rs`) runs inside the flight, before the blocking encode.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use async_channel::Receiver;
use torchlight::exposure::{Route, ServedRegistry};

use crate::runtime::Runtime;
use crate::service::{Answer, answer};

/// The flights in progress of one server.
#[derive(Debug, Default)]
pub(crate) struct Flights {
    /// Invariant: a route's entry exists exactly while its flight's answer is being
    /// made (inserted before the encoding starts, removed before waiters wake).
    in_flight: Mutex<HashMap<Route, Arc<Flight>>>,
}

#[derive(Debug)]
struct Flight {
    /// Closed (its sender dropped) once `answer` is set.
    done: Receiver<()>,
    answer: OnceLock<Answer>,
}

impl Flights {
    fn table(&self) -> MutexGuard<'_, HashMap<Route, Arc<Flight>>> {
        // Only inserts and removes happen under the lock; a poisoned map is still valid.
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer to `route` (an encoding one), shared with every concurrent request
    /// for the same route.
    pub(crate) async fn answer<R: Runtime>(
        self: &Arc<Self>,
        route: Route,
        registry: ServedRegistry,
    ) -> Answer {
        let flight = {
            let mut table = self.table();
            match table.get(&route) {
                Some(flight) => Arc::clone(flight),
                None => {
                    let (finished, done) = async_channel::bounded::<()>(1);
                    let flight = Arc::new(Flight {
                        done,
                        answer: OnceLock::new(),
                    });
                    table.insert(route, Arc::clone(&flight));
                    let (flights, made) = (Arc::clone(self), Arc::clone(&flight));
                    let registry = registry.clone();
                    R::detach(R::spawn(async move {
                        crate::collectors::collect::<R>(&registry).await;
                        let answer = R::unblock(move || answer(route, &registry)).await;
                        let _ = made.answer.set(answer);
                        flights.table().remove(&route);
                        drop(finished);
                    }));
                    flight
                }
            }
        };
        // Nothing is ever sent: `recv` returns once the flight drops its sender.
        let _ = flight.done.recv().await;
        match flight.answer.get() {
            Some(answer) => answer.clone(),
            // The flight's task was dropped unfinished (its runtime shut down): answer
            // alone rather than not at all.
            None => R::unblock(move || answer(route, &registry)).await,
        }
    }
}
