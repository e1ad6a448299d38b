//! Connection slots: at most `Limits::max_connections` connections are served at once,
//! and when every slot is taken, a new connection takes the slot of the oldest one that
//! is not in the middle of a request.
//!
//! The protocol: the accept loop accepts every connection at once (the kernel's backlog
//! never holds a scrape behind a flood, and each connection's header deadline starts
//! when it connected, not when a slot freed), then asks [`Slots::admit`] for a slot.
//! With a slot free it is admitted. With none free, the oldest *idle* connection (one
//! that has not sent a complete request head: new, slow, or kept alive between
//! requests) is told to close, and the new one takes its slot once it is gone. Only
//! when every connection is inside a request (its head complete, its response not yet
//! produced) does the accept loop wait, for the first to finish; requests finish, so
//! that wait is bounded by the encoding time. An unfinished head therefore holds a
//! slot only until `max_connections` newer connections arrive or its
//! `header_read_timeout` (hyper's, counted from the connection's start) expires.
//!
//! Cost: one mutex-guarded `BTreeMap` entry per connection, touched at admission, at
//! the start and end of each request and at close; never on the encoding path.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_channel::{Receiver, Sender};

/// The connection table of one server.
#[derive(Debug)]
pub(crate) struct Slots {
    table: Mutex<Table>,
    /// A token is sent whenever a slot frees or a connection becomes idle, so a
    /// waiting [`Slots::admit`] looks again.
    changed: (Sender<()>, Receiver<()>),
}

#[derive(Debug)]
struct Table {
    /// Invariant: never more than `capacity` entries; keys grow with accept order,
    /// so the first idle entry is the oldest idle connection.
    open: BTreeMap<u64, Entry>,
    next_id: u64,
    capacity: usize,
}

#[derive(Debug)]
struct Entry {
    /// Inside a request: its head is complete and its response not yet produced.
    busy: bool,
    /// Dropping it tells the connection to close; `None` once told.
    evict: Option<Sender<()>>,
}

impl Slots {
    /// A table of `capacity` slots (at least one).
    pub(crate) fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            table: Mutex::new(Table {
                open: BTreeMap::new(),
                next_id: 0,
                capacity: capacity.max(1),
            }),
            changed: async_channel::bounded(1),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // The table stays consistent at every await point and no user code runs under
        // the lock, so a poisoned lock holds valid data.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        // A full channel already holds a token that will make `admit` look again.
        let _ = self.changed.0.try_send(());
    }

    /// Waits for a slot for a newly accepted connection, evicting the oldest idle
    /// connection when all are taken. The returned [`Slot`] frees its place on drop;
    /// its [`Evicted`] resolves when the connection must close.
    pub(crate) async fn admit(self: &Arc<Self>) -> (Slot, Evicted) {
        loop {
            {
                let mut table = self.table();
                if table.open.len() < table.capacity {
                    let id = table.next_id;
                    table.next_id += 1;
                    let (evict, evicted) = async_channel::bounded(1);
                    table.open.insert(
                        id,
                        Entry {
                            busy: false,
                            evict: Some(evict),
                        },
                    );
                    let slot = Slot {
                        slots: Arc::clone(self),
                        id,
                    };
                    return (slot, Evicted(evicted));
                }
                // Tell the oldest idle connection to go (once); its slot frees when
                // its task ends, which sends a token.
                let oldest_idle = table
                    .open
                    .values_mut()
                    .find(|entry| !entry.busy && entry.evict.is_some());
                if let Some(entry) = oldest_idle {
                    drop(entry.evict.take());
                }
            }
            // The sender lives in `self`, so this only returns with a token.
            let _ = self.changed.1.recv().await;
        }
    }
}

/// A connection's place in the table; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
    id: u64,
}

impl Slot {
    /// Marks the connection inside a request until the returned guard drops (the
    /// response produced, or the request abandoned): it cannot be evicted meanwhile.
    pub(crate) fn busy(&self) -> Busy {
        self.set_busy(true);
        Busy {
            slots: Arc::clone(&self.slots),
            id: self.id,
        }
    }

    fn set_busy(&self, busy: bool) {
        set_busy(&self.slots, self.id, busy);
    }
}

fn set_busy(slots: &Slots, id: u64, busy: bool) {
    if let Some(entry) = slots.table().open.get_mut(&id) {
        entry.busy = busy;
    }
    if !busy {
        slots.notify();
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.table().open.remove(&self.id);
        self.slots.notify();
    }
}

/// A request in progress on a connection (see [`Slot::busy`]).
#[derive(Debug)]
pub(crate) struct Busy {
    slots: Arc<Slots>,
    id: u64,
}

impl Drop for Busy {
    fn drop(&mut self) {
        set_busy(&self.slots, self.id, false);
    }
}

/// Resolves when the connection has been chosen for eviction.
#[derive(Debug)]
pub(crate) struct Evicted(Receiver<()>);

impl Evicted {
    /// Waits until the slot table tells this connection to close.
    pub(crate) async fn wait(&self) {
        // Nothing is ever sent: `recv` returns once the table drops the sender.
        let _ = self.0.recv().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future;

    #[test]
    fn a_full_table_evicts_the_oldest_idle_connection() {
        let slots = Slots::new(2);
        let (first, first_evicted) = future::block_on(slots.admit());
        let (second, second_evicted) = future::block_on(slots.admit());
        let _busy = first.busy();
        let mut third = Box::pin(slots.admit());
        // No slot: the oldest idle one (the second; the first is inside a request) is
        // told to go, and the third waits until it has.
        assert!(future::block_on(future::poll_once(third.as_mut())).is_none());
        assert!(future::block_on(future::poll_once(second_evicted.wait())).is_some());
        assert!(future::block_on(future::poll_once(first_evicted.wait())).is_none());
        drop(second);
        let (third, _) = future::block_on(third);
        assert_eq!(third.id, 2);
        drop(first);
    }
}
