//! A scripted caller for the simulation: a sans-IO SIP UAC built on the stack's transaction and
//! dialog layers that places calls, cancels some while they ring, hangs up answered ones after a
//! while (or is hung up on), and records how each call ended.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use tether_sip::dialog::{DialogSet, Inbound, Output as DialogOut, SeededRandom, SessionConfig};
use tether_sip::peer::Peer;
use tether_sip::transaction::{Config, Output as TxnOut, TransactionLayer, TuEvent, TxnId};
use tether_sip::{HeaderName, Message, Method};

/// How one call ended, as the caller saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Answered, then we hung up (our BYE got its 200, or timed out: the call is over anyway).
    AnsweredWeHungUp,
    /// Answered, then the far end hung up.
    AnsweredTheyHungUp,
    /// A final failure status.
    Failed(u16),
    /// The INVITE transaction timed out or could not be sent.
    NoResponse,
}

#[derive(Debug)]
struct Plan {
    cancel_after: Option<Duration>,
    hangup_after: Duration,
}

#[derive(Debug)]
struct Call {
    invite_txn: TxnId,
    set: DialogSet,
    plan: Plan,
    sent_at: Instant,
    answered: bool,
    cancelled: bool,
    hangup_at: Option<Instant>,
    bye_sent: bool,
    done: Option<Outcome>,
    /// Live client transactions of this call.
    txns: usize,
}

pub struct Caller {
    pub addr: Peer,
    target: Peer,
    txn: TransactionLayer,
    calls: HashMap<String, Call>,
    by_txn: HashMap<TxnId, String>,
    pub out: Vec<(Peer, Message)>,
    pub outcomes: Vec<(String, Outcome)>,
    n: u64,
    /// (deadline, call): when a call wants the clock; stale entries are harmless.
    due: BTreeSet<(Instant, String)>,
    /// Server transactions of in-dialog requests, for the responses the dialogs produce.
    server: HashMap<(String, u32, Method), TxnId>,
}

impl Caller {
    pub fn new(addr: Peer, target: Peer, seed: u64) -> Caller {
        Caller {
            addr,
            target,
            txn: TransactionLayer::new(Config::default(), seed),
            calls: HashMap::new(),
            by_txn: HashMap::new(),
            out: Vec::new(),
            outcomes: Vec::new(),
            n: 0,
            due: BTreeSet::new(),
            server: HashMap::new(),
        }
    }

    /// Live calls plus live transactions: zero once everything settled.
    pub fn footprint(&self) -> (usize, usize) {
        (self.calls.len(), self.txn.len())
    }

    /// Places a call from `from` to `to`.
    pub fn call(
        &mut self,
        now: Instant,
        from: &str,
        to: &str,
        cancel_after: Option<Duration>,
        hangup_after: Duration,
    ) {
        self.n += 1;
        let call_id = format!("sim-{}-{}", self.addr.addr.port(), self.n);
        let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
        let text = format!(
            "INVITE sip:{to}@{t} SIP/2.0\r\nVia: SIP/2.0/UDP {a}\r\nMax-Forwards: 70\r\nFrom: <sip:{from}@pstn.test>;tag=t{n}\r\nTo: <sip:{to}@{t}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:{from}@{a}>\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{sdp}",
            t = self.target.addr,
            a = self.addr.addr,
            n = self.n,
            len = sdp.len()
        );
        let Ok(inv) = Message::parse(text.into_bytes()) else {
            return;
        };
        let Ok(txn) = self.txn.start_client(now, inv, self.target) else {
            return;
        };
        let sent = self
            .txn
            .request(txn)
            .cloned()
            .expect("the layer keeps its request");
        let set = DialogSet::new(
            sent,
            SessionConfig::default(),
            Box::new(SeededRandom::new(self.n)),
        );
        self.by_txn.insert(txn, call_id.clone());
        self.calls.insert(
            call_id.clone(),
            Call {
                invite_txn: txn,
                set,
                plan: Plan {
                    cancel_after,
                    hangup_after,
                },
                sent_at: now,
                answered: false,
                cancelled: false,
                hangup_at: None,
                bye_sent: false,
                done: None,
                txns: 1,
            },
        );
        self.schedule(&call_id);
        self.drain(now);
    }

    pub fn handle_message(&mut self, now: Instant, msg: Message, from: Peer) {
        let _ = self.txn.handle_message(now, msg, from);
        self.drain(now);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let own = self.due.first().map(|(t, _)| *t);
        [own, self.txn.poll_timeout()].into_iter().flatten().min()
    }

    /// The next instant call `id` needs the clock (cancel, hangup, dialog timers).
    fn schedule(&mut self, id: &str) {
        let Some(c) = self.calls.get(id) else { return };
        let cancel = c
            .plan
            .cancel_after
            .filter(|_| !c.answered && !c.cancelled && c.done.is_none())
            .map(|d| c.sent_at + d);
        let hang = c.hangup_at.filter(|_| !c.bye_sent && c.done.is_none());
        if let Some(t) = [cancel, hang, c.set.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
        {
            self.due.insert((t, id.to_owned()));
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.txn.handle_timeout(now);
        self.drain(now);
        let mut ids = Vec::new();
        while let Some((t, _)) = self.due.first() {
            if *t > now {
                break;
            }
            if let Some((_, id)) = self.due.pop_first() {
                ids.push(id);
            }
        }
        ids.dedup();
        for id in ids {
            let Some(c) = self.calls.get_mut(&id) else {
                continue;
            };
            if c.set.poll_timeout().is_some_and(|t| t <= now) {
                let _ = c.set.handle_timeout(now);
            }
            let due_cancel = c.plan.cancel_after.is_some_and(|d| c.sent_at + d <= now)
                && !c.answered
                && !c.cancelled
                && c.done.is_none();
            if due_cancel {
                c.cancelled = true;
                let _ = self.txn.cancel(now, c.invite_txn);
            }
            let Some(c) = self.calls.get_mut(&id) else {
                continue;
            };
            if c.hangup_at.is_some_and(|t| t <= now) && !c.bye_sent && c.done.is_none() {
                c.bye_sent = true;
                if let Some(s) = c.set.accepted_mut() {
                    let _ = s.bye(now);
                }
            }
            self.pump(now, &id);
        }
        self.drain(now);
    }

    fn drain(&mut self, now: Instant) {
        while let Some(o) = self.txn.poll_output() {
            match o {
                TxnOut::Transmit { to, message } => self.out.push((to, message)),
                TxnOut::Event(ev) => self.on_event(now, ev),
            }
        }
    }

    fn on_event(&mut self, now: Instant, ev: TuEvent) {
        match ev {
            TuEvent::Response { txn, response } => {
                let Some(id) = self.by_txn.get(&txn).cloned() else {
                    return;
                };
                let Some(c) = self.calls.get_mut(&id) else {
                    return;
                };
                let is_invite = response.cseq().is_some_and(|x| x.method == Method::Invite);
                let code = response.status().unwrap_or(0);
                if is_invite {
                    let r = c.set.handle_response(now, &response);
                    if matches!(r, Ok(Inbound::Deliver)) {
                        if (200..300).contains(&code) && !c.answered {
                            c.answered = true;
                            c.hangup_at = Some(now + c.plan.hangup_after);
                        } else if code >= 300 && c.done.is_none() {
                            c.done = Some(Outcome::Failed(code));
                        }
                    }
                } else if response.cseq().is_some_and(|x| x.method == Method::Bye) && code >= 200 {
                    c.done.get_or_insert(Outcome::AnsweredWeHungUp);
                }
                self.pump(now, &id);
            }
            TuEvent::StrayResponse { response, .. } => {
                let Some(id) = response.call_id().map(str::to_owned) else {
                    return;
                };
                if let Some(c) = self.calls.get_mut(&id) {
                    let _ = c.set.handle_response(now, &response);
                }
                self.pump(now, &id);
            }
            TuEvent::Request { txn, request, .. } => {
                let id = request.call_id().unwrap_or_default().to_owned();
                let Some(c) = self.calls.get_mut(&id) else {
                    let r = Message::response_to(
                        &request,
                        481,
                        "Call/Transaction Does Not Exist",
                        None,
                    );
                    let _ = self.txn.respond(now, txn, r);
                    return;
                };
                let dialog = tether_sip::dialog::DialogId::of_received(&request);
                let Some(s) = dialog.and_then(|d| c.set.session_mut(&d)) else {
                    let r = Message::response_to(
                        &request,
                        481,
                        "Call/Transaction Does Not Exist",
                        None,
                    );
                    let _ = self.txn.respond(now, txn, r);
                    return;
                };
                if let Some(cs) = request.cseq() {
                    self.server
                        .insert((id.clone(), cs.seq, cs.method.clone()), txn);
                }
                match s.handle_request(now, &request) {
                    Ok(Inbound::Deliver) => {
                        if let Ok(r) = s.create_response(&request, 200) {
                            let _ = self.txn.respond(now, txn, r);
                        }
                        if request.method() == Some(&Method::Bye) {
                            c.done.get_or_insert(Outcome::AnsweredTheyHungUp);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => {
                        let r = Message::response_to(
                            &request,
                            481,
                            "Call/Transaction Does Not Exist",
                            None,
                        );
                        let _ = self.txn.respond(now, txn, r);
                    }
                }
                self.pump(now, &id);
            }
            TuEvent::Timeout { txn, .. } | TuEvent::TransportError { txn } => {
                let Some(id) = self.by_txn.get(&txn).cloned() else {
                    return;
                };
                if let Some(c) = self.calls.get_mut(&id) {
                    if c.invite_txn == txn && !c.answered {
                        c.done.get_or_insert(Outcome::NoResponse);
                    } else if c.bye_sent {
                        c.done.get_or_insert(Outcome::AnsweredWeHungUp);
                    }
                }
                self.pump(now, &id);
            }
            TuEvent::Terminated { txn } => {
                if let Some(id) = self.by_txn.remove(&txn) {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.txns = c.txns.saturating_sub(1);
                    }
                    self.pump(now, &id);
                }
            }
            _ => {}
        }
    }

    /// Sends the dialogs' output and retires a finished call once its dialogs are quiet.
    fn pump(&mut self, now: Instant, id: &str) {
        let Some(c) = self.calls.get_mut(id) else {
            return;
        };
        let mut sends = Vec::new();
        while let Some(o) = c.set.poll_output() {
            sends.push(o);
        }
        for o in sends {
            match o {
                DialogOut::Request(mut r) => {
                    let via = format!("SIP/2.0/UDP {}", self.addr.addr);
                    let started = r
                        .prepend_header(HeaderName::Via, &via)
                        .ok()
                        .and_then(|()| self.txn.start_client(now, r, self.target).ok());
                    if let Some(t) = started {
                        self.by_txn.insert(t, id.to_owned());
                        if let Some(c) = self.calls.get_mut(id) {
                            c.txns += 1;
                        }
                    }
                }
                DialogOut::Response(r) => {
                    let key = r.cseq().map(|c| (id.to_owned(), c.seq, c.method.clone()));
                    if let Some(t) = key.and_then(|k| self.server.remove(&k)) {
                        let _ = self.txn.respond(now, t, r);
                    }
                }
                DialogOut::Ack(mut a) => {
                    let branch = self.txn.new_branch();
                    let via = format!("SIP/2.0/UDP {};branch={branch}", self.addr.addr);
                    if a.prepend_header(HeaderName::Via, &via).is_ok() {
                        self.out.push((self.target, a));
                    }
                }
                _ => {}
            }
        }
        let finished = self
            .calls
            .get(id)
            .is_some_and(|c| c.done.is_some() && c.set.poll_timeout().is_none() && c.txns == 0);
        if finished {
            self.server.retain(|k, _| k.0 != id);
            if let Some(c) = self.calls.remove(id) {
                if let Some(o) = c.done {
                    self.outcomes.push((id.to_owned(), o));
                }
            }
        } else {
            self.schedule(id);
        }
        self.drain(now);
    }
}
