//! The table of open TCP and TLS connections: by identifier (to answer on a request's own
//! connection) and by peer (to reuse a connection, RFC 3261 §18.1 and §18.2.2), bounded by the
//! connection limit. It holds only the senders into each connection's outbound queue; the
//! connections themselves live in their tasks.

use crate::peer::{ConnectionId, Peer};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{mpsc, oneshot};

/// One message waiting to be written, with where to report how the write went.
#[derive(Debug)]
pub(super) struct Outbound {
    pub bytes: Bytes,
    pub done: Option<oneshot::Sender<Result<(), super::TransportError>>>,
}

#[derive(Debug)]
struct Entry {
    peer: Peer,
    tx: mpsc::Sender<Outbound>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<ConnectionId, Entry>,
    by_peer: HashMap<Peer, ConnectionId>,
    next: u64,
}

#[derive(Debug)]
pub(super) struct ConnTable {
    inner: Mutex<Inner>,
    max: usize,
}

/// The table is full.
#[derive(Debug)]
pub(super) struct Full;

impl ConnTable {
    pub fn new(max: usize) -> Self {
        ConnTable {
            inner: Mutex::new(Inner::default()),
            max,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a connection; the newest connection to a peer is the one reused. The connection
    /// stays in the table as long as the returned registration lives.
    pub fn register(
        self: &Arc<Self>,
        peer: Peer,
        tx: mpsc::Sender<Outbound>,
    ) -> Result<Registration, Full> {
        let mut t = self.lock();
        if t.by_id.len() >= self.max {
            return Err(Full);
        }
        t.next += 1;
        let id = ConnectionId(t.next);
        t.by_id.insert(id, Entry { peer, tx });
        t.by_peer.insert(peer, id);
        Ok(Registration {
            table: self.clone(),
            id,
            peer,
        })
    }

    pub fn remove(&self, id: ConnectionId) {
        let mut t = self.lock();
        if let Some(e) = t.by_id.remove(&id) {
            if t.by_peer.get(&e.peer) == Some(&id) {
                t.by_peer.remove(&e.peer);
            }
        }
    }

    pub fn is_full(&self) -> bool {
        self.lock().by_id.len() >= self.max
    }

    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    pub fn by_id(&self, id: ConnectionId) -> Option<mpsc::Sender<Outbound>> {
        self.lock().by_id.get(&id).map(|e| e.tx.clone())
    }

    pub fn by_peer(&self, peer: &Peer) -> Option<mpsc::Sender<Outbound>> {
        let t = self.lock();
        t.by_peer
            .get(peer)
            .and_then(|id| t.by_id.get(id))
            .map(|e| e.tx.clone())
    }

    pub fn peer_of(&self, id: ConnectionId) -> Option<Peer> {
        self.lock().by_id.get(&id).map(|e| e.peer)
    }
}

/// Removes a connection from the table when its task ends, however it ends.
pub(super) struct Registration {
    table: Arc<ConnTable>,
    pub id: ConnectionId,
    pub peer: Peer,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.table.remove(self.id);
    }
}
