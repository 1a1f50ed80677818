//! The RFC 3261 §17 transaction layer, sans-IO.
//!
//! [`TransactionLayer`] owns every client and server transaction of one SIP element. The caller
//! feeds it received messages ([`TransactionLayer::handle_message`]), the TU's requests and
//! responses ([`TransactionLayer::start_client`], [`TransactionLayer::respond`],
//! [`TransactionLayer::cancel`]), the clock ([`TransactionLayer::handle_timeout`]) and transport
//! failures, then polls [`Output`]s (messages to transmit, events for the TU) and the next
//! deadline ([`TransactionLayer::poll_timeout`]). RFC 6026 applies: 2xx retransmissions and the
//! ACK for a 2xx belong to the TU; the layer passes them through.
//!
//! This room matches messages to transactions and runs their timers. It never reads a socket or
//! a clock, never sleeps, and knows nothing of dialogs beyond the merged-request check of
//! §8.2.2.2.

mod ack_cancel;
mod branch;
mod event;
mod inbound;
mod invite_client;
mod invite_server;
mod kept;
mod key;
mod non_invite_client;
mod non_invite_server;
mod timers;

#[cfg(test)]
mod tests;

pub use crate::peer::{Peer, Transport};
pub use ack_cancel::{ack_for_non_2xx, cancel_for};
pub use branch::BranchGenerator;
pub use event::{Output, TuEvent, TxnError, TxnId};
pub use key::{ClientKey, MergeKey, ServerKey};
pub use timers::{Timer, TimerConfig};

use crate::header_name::HeaderName;
use crate::message::Message;
use crate::method::Method;
use foldhash::HashMap;
use invite_client::InviteClient;
use invite_server::InviteServer;
use non_invite_client::NonInviteClient;
use non_invite_server::NonInviteServer;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

/// What a state machine asks the layer to do.
#[derive(Debug)]
pub(crate) enum Step {
    /// Transmit to the transaction's peer.
    Send(Message),
    /// A response for the TU (client transactions).
    Response(Message),
    /// An ACK for a 2xx, for the TU (INVITE server in Accepted).
    Ack(Message),
    Timeout(Timer),
    TransportError,
}

/// Settings of a transaction layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub timers: TimerConfig,
    /// Live transactions beyond which new requests are answered 503 without a transaction.
    pub max_transactions: usize,
    /// The Retry-After value (seconds) of that 503.
    pub retry_after: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timers: TimerConfig::default(),
            max_transactions: 100_000,
            retry_after: 5,
        }
    }
}

/// The state of a live transaction, for inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxnState {
    Calling,
    Trying,
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    /// A CANCEL held back until its INVITE receives a provisional response (§9.1).
    WaitingForProvisional,
}

/// Which transport failure [`TransactionLayer::handle_transport_error`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// Sending this transaction's message failed.
    Transaction(TxnId),
    /// Every transaction towards this peer is affected (a connection closed).
    Peer(Peer),
}

#[derive(Debug)]
enum Machine {
    InviteClient(InviteClient),
    NonInviteClient(NonInviteClient),
    InviteServer(InviteServer),
    NonInviteServer(NonInviteServer),
}

impl Machine {
    fn next_deadline(&self) -> Option<Instant> {
        match self {
            Machine::InviteClient(m) => m.next_deadline(),
            Machine::NonInviteClient(m) => m.next_deadline(),
            Machine::InviteServer(m) => m.next_deadline(),
            Machine::NonInviteServer(m) => m.next_deadline(),
        }
    }
    fn is_terminated(&self) -> bool {
        match self {
            Machine::InviteClient(m) => m.is_terminated(),
            Machine::NonInviteClient(m) => m.is_terminated(),
            Machine::InviteServer(m) => m.is_terminated(),
            Machine::NonInviteServer(m) => m.is_terminated(),
        }
    }
    /// The request, while the transaction keeps it (until its final response).
    fn request(&self) -> Option<&Message> {
        match self {
            Machine::InviteClient(m) => m.request(),
            Machine::NonInviteClient(m) => m.request(),
            Machine::InviteServer(m) => m.request(),
            Machine::NonInviteServer(m) => m.request(),
        }
    }
    fn state(&self) -> Option<TxnState> {
        use TxnState as S;
        Some(match self {
            Machine::InviteClient(m) => match m.state() {
                invite_client::State::Calling => S::Calling,
                invite_client::State::Proceeding => S::Proceeding,
                invite_client::State::Completed => S::Completed,
                invite_client::State::Accepted => S::Accepted,
                invite_client::State::Terminated => return None,
            },
            Machine::NonInviteClient(m) => match m.state() {
                non_invite_client::State::Trying => S::Trying,
                non_invite_client::State::Proceeding => S::Proceeding,
                non_invite_client::State::Completed => S::Completed,
                non_invite_client::State::Terminated => return None,
            },
            Machine::InviteServer(m) => match m.state() {
                invite_server::State::Proceeding => S::Proceeding,
                invite_server::State::Completed => S::Completed,
                invite_server::State::Confirmed => S::Confirmed,
                invite_server::State::Accepted => S::Accepted,
                invite_server::State::Terminated => return None,
            },
            Machine::NonInviteServer(m) => match m.state() {
                non_invite_server::State::Trying => S::Trying,
                non_invite_server::State::Proceeding => S::Proceeding,
                non_invite_server::State::Completed => S::Completed,
                non_invite_server::State::Terminated => return None,
            },
        })
    }
}

#[derive(Debug)]
struct Entry {
    peer: Peer,
    machine: Machine,
    deadline: Option<Instant>,
    // Shared with the tables that find the transaction by them.
    client_key: Option<Arc<ClientKey>>,
    server_key: Option<Arc<ServerKey>>,
    merge_key: Option<Arc<MergeKey>>,
    /// Answered by the layer itself (CANCEL, 482): the TU hears nothing of it.
    internal: bool,
    /// INVITE client: the CANCEL created for it, sent or waiting.
    cancel: Option<TxnId>,
}

/// A CANCEL waiting for its INVITE's first provisional response.
#[derive(Debug)]
struct DeferredCancel {
    request: Message,
    peer: Peer,
}

/// All transactions of one SIP element. See the module documentation.
#[derive(Debug)]
pub struct TransactionLayer {
    config: Config,
    /// `config.timers`, shared by every transaction (a copy in each would make every lingering
    /// transaction 72 bytes larger).
    timers: Arc<TimerConfig>,
    branches: BranchGenerator,
    next_id: u64,
    // Entries and keys are behind pointers: a finished transaction lingers for 32 s (timers
    // J, L, M), so at thousands of calls a second these tables hold hundreds of thousands of
    // entries, and growing one moves all of them at once — 16 bytes each this way, hundreds
    // inline (a pause of tens of milliseconds in which datagrams pile up unread). A key is
    // shared by its table and its entry.
    txns: HashMap<TxnId, Box<Entry>>,
    clients: HashMap<Arc<ClientKey>, TxnId>,
    servers: HashMap<Arc<ServerKey>, TxnId>,
    merges: HashMap<Arc<MergeKey>, TxnId>,
    deadlines: BTreeSet<(Instant, TxnId)>,
    deferred: HashMap<TxnId, DeferredCancel>,
    out: VecDeque<Output>,
    steps: Vec<Step>,
}

impl TransactionLayer {
    /// A layer whose branches come from a generator seeded with `seed` (seed it from the OS in
    /// a server, from the test's seed in a simulation).
    pub fn new(config: Config, seed: u64) -> TransactionLayer {
        TransactionLayer {
            config,
            timers: Arc::new(config.timers),
            branches: BranchGenerator::new(seed),
            next_id: 1,
            txns: HashMap::default(),
            clients: HashMap::default(),
            servers: HashMap::default(),
            merges: HashMap::default(),
            deadlines: BTreeSet::new(),
            deferred: HashMap::default(),
            out: VecDeque::new(),
            steps: Vec::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A fresh RFC 3261 branch (for the TU's ACKs for 2xx, which are not transactions).
    pub fn new_branch(&mut self) -> String {
        self.branches.branch()
    }

    /// Live transactions, CANCELs waiting for a provisional included.
    pub fn len(&self) -> usize {
        self.txns.len() + self.deferred.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Transactions still at work: a client waiting for a final response, a server whose TU
    /// has not answered yet, a CANCEL waiting for a provisional. What is left only absorbs
    /// retransmissions (Completed, Confirmed, Accepted). A node shutting down waits for this
    /// to reach 0 so that its last requests (BYEs) are answered.
    pub fn pending(&self) -> usize {
        self.deferred.len()
            + self
                .txns
                .values()
                .filter(|e| {
                    matches!(
                        e.machine.state(),
                        Some(TxnState::Calling | TxnState::Trying | TxnState::Proceeding)
                    )
                })
                .count()
    }

    pub fn state(&self, id: TxnId) -> Option<TxnState> {
        if self.deferred.contains_key(&id) {
            return Some(TxnState::WaitingForProvisional);
        }
        self.txns.get(&id).and_then(|e| e.machine.state())
    }

    /// The request that created a live transaction, until its final response: a finished
    /// transaction that only lingers to absorb retransmissions keeps no more than it needs
    /// for that.
    pub fn request(&self, id: TxnId) -> Option<&Message> {
        if let Some(d) = self.deferred.get(&id) {
            return Some(&d.request);
        }
        self.txns.get(&id).and_then(|e| e.machine.request())
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The earliest deadline of any transaction; call `handle_timeout` then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    fn alloc_id(&mut self) -> TxnId {
        let id = TxnId(self.next_id);
        self.next_id += 1;
        id
    }

    // ---- client side -------------------------------------------------------------------

    /// Starts a client transaction for `request` towards `to` and sends it. A top Via without
    /// a branch gets a generated one. ACK is refused: it is not a transaction.
    pub fn start_client(
        &mut self,
        now: Instant,
        mut request: Message,
        to: Peer,
    ) -> Result<TxnId, TxnError> {
        let method = request.method().ok_or(TxnError::NotARequest)?.clone();
        if method == Method::Ack {
            return Err(TxnError::AckIsNotATransaction);
        }
        for (have, what) in [
            (request.has_from(), "From"),
            (request.has_to(), "To"),
            (request.call_id().is_some(), "Call-ID"),
            (request.cseq().is_some(), "CSeq"),
        ] {
            if !have {
                return Err(TxnError::Missing(what));
            }
        }
        if !request.has_via() {
            return Err(TxnError::Missing("Via"));
        }
        if request.top_via_branch().is_none() {
            let branch = self.branches.branch();
            set_top_via_branch(&mut request, &branch)?;
        }
        let key = ClientKey::of(&request)?;
        if key.method != method {
            return Err(TxnError::Missing("CSeq method equal to the request method"));
        }
        if self.clients.contains_key(&key) {
            return Err(TxnError::BranchInUse);
        }
        let id = self.alloc_id();
        self.insert_client(now, id, key, request, to);
        Ok(id)
    }

    fn insert_client(
        &mut self,
        now: Instant,
        id: TxnId,
        key: ClientKey,
        request: Message,
        to: Peer,
    ) {
        let reliable = to.is_reliable();
        let timers = Arc::clone(&self.timers);
        let machine = if key.method == Method::Invite {
            Machine::InviteClient(InviteClient::start(
                now,
                request,
                reliable,
                timers,
                &mut self.steps,
            ))
        } else {
            Machine::NonInviteClient(NonInviteClient::start(
                now,
                request,
                reliable,
                timers,
                &mut self.steps,
            ))
        };
        let key = Arc::new(key);
        self.clients.insert(Arc::clone(&key), id);
        let entry = Entry {
            peer: to,
            machine,
            deadline: None,
            client_key: Some(key),
            server_key: None,
            merge_key: None,
            internal: false,
            cancel: None,
        };
        self.txns.insert(id, Box::new(entry));
        self.apply(now, id, None);
    }

    /// Cancels an INVITE client transaction (§9.1): builds the CANCEL and sends it through its
    /// own client transaction, whose id is returned. Until the INVITE has received a provisional
    /// response the CANCEL waits; it is dropped (and reported terminated) if the INVITE ends
    /// first. Asking twice returns the same CANCEL.
    pub fn cancel(&mut self, now: Instant, invite: TxnId) -> Result<TxnId, TxnError> {
        self.cancel_with_reason(now, invite, None)
    }

    /// [`TransactionLayer::cancel`] with a `Reason` header on the CANCEL (RFC 3326), e.g.
    /// `SIP;cause=200;text="Call completed elsewhere"` when another fork answered.
    pub fn cancel_with_reason(
        &mut self,
        now: Instant,
        invite: TxnId,
        reason: Option<&str>,
    ) -> Result<TxnId, TxnError> {
        let entry = self
            .txns
            .get(&invite)
            .ok_or(TxnError::UnknownTransaction(invite))?;
        let Machine::InviteClient(m) = &entry.machine else {
            return Err(TxnError::WrongKind(invite));
        };
        let state = m.state();
        if !matches!(
            state,
            invite_client::State::Calling | invite_client::State::Proceeding
        ) {
            return Err(TxnError::NotCancellable(invite));
        }
        if let Some(c) = entry.cancel {
            return Ok(c);
        }
        let mut request = cancel_for(m.request().ok_or(TxnError::NotCancellable(invite))?)?;
        if let Some(r) = reason {
            request
                .push_header(HeaderName::Reason, r)
                .map_err(|_| TxnError::Missing("a valid Reason value"))?;
        }
        let peer = entry.peer;
        let id = self.alloc_id();
        if let Some(e) = self.txns.get_mut(&invite) {
            e.cancel = Some(id);
        }
        self.deferred.insert(id, DeferredCancel { request, peer });
        if state == invite_client::State::Proceeding {
            self.launch_cancel(now, invite, id);
        }
        Ok(id)
    }

    fn launch_cancel(&mut self, now: Instant, invite: TxnId, cancel: TxnId) {
        let Some(d) = self.deferred.remove(&cancel) else {
            return;
        };
        let key = match ClientKey::of(&d.request) {
            Ok(k) if !self.clients.contains_key(&k) => k,
            _ => {
                self.out
                    .push_back(Output::Event(TuEvent::Terminated { txn: cancel }));
                return;
            }
        };
        if let Some(Machine::InviteClient(m)) = self.txns.get_mut(&invite).map(|e| &mut e.machine) {
            m.on_cancel_sent(now);
        }
        self.insert_client(now, cancel, key, d.request, d.peer);
        self.reschedule(invite);
    }

    // ---- server side -------------------------------------------------------------------

    /// The TU's response on a server transaction. While an INVITE transaction is Accepted, each
    /// 2xx retransmission of the TU goes out through here.
    pub fn respond(&mut self, now: Instant, txn: TxnId, response: Message) -> Result<(), TxnError> {
        if !response.is_response() {
            return Err(TxnError::NotAResponse);
        }
        let entry = self
            .txns
            .get_mut(&txn)
            .ok_or(TxnError::UnknownTransaction(txn))?;
        match &mut entry.machine {
            Machine::InviteServer(m) => m.respond(now, response, &mut self.steps)?,
            Machine::NonInviteServer(m) => m.respond(now, response, &mut self.steps)?,
            _ => return Err(TxnError::WrongKind(txn)),
        }
        self.apply(now, txn, None);
        Ok(())
    }

    // ---- time and failures -------------------------------------------------------------

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<TxnId> = self
            .deadlines
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, id)| *id)
            .collect();
        for id in due {
            if let Some(entry) = self.txns.get_mut(&id) {
                match &mut entry.machine {
                    Machine::InviteClient(m) => m.on_timeout(now, &mut self.steps),
                    Machine::NonInviteClient(m) => m.on_timeout(now, &mut self.steps),
                    Machine::InviteServer(m) => m.on_timeout(now, &mut self.steps),
                    Machine::NonInviteServer(m) => m.on_timeout(now),
                }
            }
            self.apply(now, id, None);
        }
    }

    /// The transport could not send for a transaction, or lost its connection to a peer:
    /// the transactions concerned end and the TU hears of it.
    pub fn handle_transport_error(&mut self, now: Instant, failure: TransportFailure) {
        let ids: Vec<TxnId> = match failure {
            TransportFailure::Transaction(id) => vec![id],
            TransportFailure::Peer(peer) => {
                let mut v: Vec<TxnId> = self
                    .txns
                    .iter()
                    .filter(|(_, e)| e.peer == peer)
                    .map(|(id, _)| *id)
                    .collect();
                v.sort();
                v
            }
        };
        for id in ids {
            if let Some(entry) = self.txns.get_mut(&id) {
                match &mut entry.machine {
                    Machine::InviteClient(m) => m.on_transport_error(&mut self.steps),
                    Machine::NonInviteClient(m) => m.on_transport_error(&mut self.steps),
                    Machine::InviteServer(m) => m.on_transport_error(&mut self.steps),
                    Machine::NonInviteServer(m) => m.on_transport_error(&mut self.steps),
                }
            }
            self.apply(now, id, None);
        }
    }

    // ---- bookkeeping -------------------------------------------------------------------

    /// Turns the steps a machine produced into outputs, then handles a waiting CANCEL, the
    /// timer index and termination.
    fn apply(&mut self, now: Instant, id: TxnId, from: Option<Peer>) {
        let mut steps = std::mem::take(&mut self.steps);
        if let Some(entry) = self.txns.get(&id) {
            let quiet = entry.internal;
            for step in steps.drain(..) {
                let o = match step {
                    Step::Send(message) => Output::Transmit {
                        to: entry.peer,
                        message,
                    },
                    _ if quiet => continue,
                    Step::Response(response) => {
                        Output::Event(TuEvent::Response { txn: id, response })
                    }
                    Step::Ack(ack) => Output::Event(TuEvent::AckFor2xx {
                        txn: id,
                        ack,
                        from: from.unwrap_or(entry.peer),
                    }),
                    Step::Timeout(timer) => Output::Event(TuEvent::Timeout { txn: id, timer }),
                    Step::TransportError => Output::Event(TuEvent::TransportError { txn: id }),
                };
                self.out.push_back(o);
            }
        }
        steps.clear();
        self.steps = steps;

        // A CANCEL waiting for this INVITE: send it on the first provisional, drop it once
        // there is a final response or the INVITE ended.
        let waiting = self.txns.get(&id).and_then(|e| match &e.machine {
            Machine::InviteClient(m) => e
                .cancel
                .filter(|c| self.deferred.contains_key(c))
                .map(|c| (c, m.state())),
            _ => None,
        });
        if let Some((cancel, state)) = waiting {
            match state {
                invite_client::State::Calling => {}
                invite_client::State::Proceeding => self.launch_cancel(now, id, cancel),
                _ => {
                    self.deferred.remove(&cancel);
                    self.out
                        .push_back(Output::Event(TuEvent::Terminated { txn: cancel }));
                }
            }
        }

        if self
            .txns
            .get(&id)
            .is_some_and(|e| e.machine.is_terminated())
        {
            self.remove(id);
        } else {
            self.reschedule(id);
        }
    }

    fn reschedule(&mut self, id: TxnId) {
        let Some(entry) = self.txns.get_mut(&id) else {
            return;
        };
        let next = entry.machine.next_deadline();
        if next != entry.deadline {
            if let Some(old) = entry.deadline {
                self.deadlines.remove(&(old, id));
            }
            if let Some(new) = next {
                self.deadlines.insert((new, id));
            }
            entry.deadline = next;
        }
    }

    fn remove(&mut self, id: TxnId) {
        let Some(entry) = self.txns.remove(&id).map(|e| *e) else {
            return;
        };
        if let Some(t) = entry.deadline {
            self.deadlines.remove(&(t, id));
        }
        if let Some(k) = entry.client_key {
            if self.clients.get(&k) == Some(&id) {
                self.clients.remove(&k);
            }
        }
        if let Some(k) = entry.server_key {
            if self.servers.get(&k) == Some(&id) {
                self.servers.remove(&k);
            }
        }
        if let Some(k) = entry.merge_key {
            if self.merges.get(&k) == Some(&id) {
                self.merges.remove(&k);
            }
        }
        if let Some(c) = entry.cancel {
            if self.deferred.remove(&c).is_some() {
                self.out
                    .push_back(Output::Event(TuEvent::Terminated { txn: c }));
            }
        }
        if !entry.internal {
            self.out
                .push_back(Output::Event(TuEvent::Terminated { txn: id }));
        }
    }
}

/// Sets the branch of the top Via, keeping any other Via values of the same line in place.
/// A line holding one via-parm without a branch gets `;branch=` appended to its text;
/// otherwise the line is rebuilt from its parsed values.
fn set_top_via_branch(msg: &mut Message, branch: &str) -> Result<(), TxnError> {
    let bad = |_| TxnError::Missing("valid Via");
    let value = msg
        .header_value(&HeaderName::Via)
        .ok_or(TxnError::Missing("Via"))?;
    let single = !value.contains([',', '\r', '\n']);
    let has_branch = msg.top_via_branch().is_some();
    if single && !has_branch {
        let line = [value, ";branch=", branch].concat();
        return msg.replace_first(HeaderName::Via, &line).map_err(bad);
    }
    let line = msg
        .remove_first(&HeaderName::Via)
        .ok_or(TxnError::Missing("Via"))?;
    let mut vias = crate::headers::Via::parse_list(line.value())
        .map_err(|_| TxnError::Missing("valid Via"))?;
    if vias.len() > 1 {
        let rest: Vec<String> = vias.iter().skip(1).map(ToString::to_string).collect();
        msg.prepend_header(HeaderName::Via, &rest.join(", "))
            .map_err(bad)?;
    }
    let top = vias.first_mut().ok_or(TxnError::Missing("Via"))?;
    top.params.set("branch", Some(branch));
    let top = top.to_string();
    msg.prepend_header(HeaderName::Via, &top).map_err(bad)
}
