//! Moving the dialogs' output to the transaction layer or the transport, and their timers.

use super::*;

pub(super) fn min_opt(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

impl Engine {
    /// Names `call`'s `side` by transaction `txn` in the engine's table, and remembers it
    /// with the call (see [`crate::call::CallKeys`]).
    pub(super) fn track_txn(&mut self, txn: TxnId, call: u64, side: Side) {
        self.by_txn.insert(txn, (call, side));
        if let Some(c) = self.calls.get_mut(&call) {
            c.keys.txns.push(txn);
        }
    }

    /// As [`Engine::track_txn`], for a dialog.
    pub(super) fn track_dialog(&mut self, id: DialogId, call: u64, side: Side) {
        self.by_dialog.insert(id.clone(), (call, side));
        if let Some(c) = self.calls.get_mut(&call) {
            c.keys.dialogs.push(id);
        }
    }

    // ---- dialog plumbing -----------------------------------------------------------------

    /// Moves every output of the call's dialogs to the transaction layer or the transport,
    /// and arms the call's next dialog timer.
    pub(super) fn pump(&mut self, now: Instant, call: u64) {
        // Buffers kept by the engine between pumps: a pump per message allocates nothing.
        let mut sends = std::mem::take(&mut self.pump_sends);
        let mut b_peers = std::mem::take(&mut self.pump_peers);
        sends.clear();
        b_peers.clear();
        let mut next: Option<Instant> = None;
        let a_peer: Option<Peer> = {
            let Some(c) = self.calls.get_mut(&call) else {
                return;
            };
            match &mut c.a {
                ALeg::Inbound(a) => {
                    if let Some(s) = a.session.as_mut() {
                        while let Some(o) = s.poll_output() {
                            sends.push((Side::A, o));
                        }
                        next = min_opt(next, s.poll_timeout());
                    }
                }
                ALeg::Placed(l) => {
                    if let Some(set) = l.set.as_mut() {
                        while let Some(o) = set.poll_output() {
                            sends.push((Side::A, o));
                        }
                        next = min_opt(next, set.poll_timeout());
                    }
                }
                ALeg::Borrowed { .. } | ALeg::Moved => {}
            }
            for (i, l) in c.b.iter_mut().enumerate() {
                if let Some(set) = l.set.as_mut() {
                    while let Some(o) = set.poll_output() {
                        sends.push((Side::B(i), o));
                    }
                    next = min_opt(next, set.poll_timeout());
                }
            }
            b_peers.extend(c.b.iter().map(|l| l.peer));
            c.a.peer()
        };
        for (side, o) in sends.drain(..) {
            let peer = match side {
                Side::A => a_peer,
                Side::B(i) => b_peers.get(i).copied().flatten(),
            };
            let Some(peer) = peer else { continue };
            match o {
                DialogOut::Response(r) => {
                    let txn = key_of(&r).and_then(|k| self.server_txns.get(&k).copied());
                    let a_invite = match side {
                        Side::A => self
                            .calls
                            .get(&call)
                            .and_then(|c| c.a.inbound())
                            .map(|a| a.txn),
                        Side::B(_) => None,
                    };
                    // The request's own server transaction (a re-INVITE has its own); the
                    // caller's first INVITE transaction only when that one is gone.
                    let is_invite = r.cseq().is_some_and(|c| c.method == Method::Invite);
                    let target = if is_invite { txn.or(a_invite) } else { txn };
                    if let Some(t) = target {
                        self.respond(now, t, r);
                    }
                }
                DialogOut::Request(mut req) => {
                    let via = self.via(peer.transport, None);
                    if req.prepend_header(HeaderName::Via, &via).is_ok() {
                        if let Ok(t) = self.txn.start_client(now, req, peer) {
                            self.track_txn(t, call, side);
                        }
                    }
                }
                DialogOut::Ack(mut ack) => {
                    let branch = self.txn.new_branch();
                    let via = self.via(peer.transport, Some(&branch));
                    if ack.prepend_header(HeaderName::Via, &via).is_ok() {
                        self.out.push_back(Output::Transmit {
                            to: peer,
                            message: ack,
                        });
                    }
                }
                DialogOut::Event(ev) => {
                    use tether_sip::dialog::Event;
                    match ev {
                        Event::AckTimeout { .. } | Event::SessionExpired => {
                            // What else this pump had is dropped with its buffers (rare).
                            self.end_call(now, call, Some(side), 102);
                            return;
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        self.pump_sends = sends;
        self.pump_peers = b_peers;
        self.drain(now);
        if let Some(at) = next {
            // One entry in the queue per call at a time: a deadline later than the one armed
            // is armed when that one falls due (see `dialog_timers`).
            if let Some(c) = self.calls.get_mut(&call) {
                if c.dialog_timer.is_none_or(|armed| at < armed) {
                    c.dialog_timer = Some(at);
                    self.timers.arm(at, TimerKind::Dialogs { call });
                }
            }
        }
    }

    pub(super) fn dialog_timers(&mut self, now: Instant, call: u64) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        // This entry (or an earlier one) is spent; the pump below arms the next.
        if c.dialog_timer.is_some_and(|armed| armed <= now) {
            c.dialog_timer = None;
        }
        match &mut c.a {
            ALeg::Inbound(a) => {
                if let Some(s) = a.session.as_mut() {
                    if s.poll_timeout().is_some_and(|t| t <= now) {
                        let _ = s.handle_timeout(now);
                    }
                }
            }
            ALeg::Placed(l) => {
                if let Some(set) = l.set.as_mut() {
                    if set.poll_timeout().is_some_and(|t| t <= now) {
                        let _ = set.handle_timeout(now);
                    }
                }
            }
            ALeg::Borrowed { .. } | ALeg::Moved => {}
        }
        for l in &mut c.b {
            if let Some(set) = l.set.as_mut() {
                if set.poll_timeout().is_some_and(|t| t <= now) {
                    let _ = set.handle_timeout(now);
                }
            }
        }
        self.pump(now, call);
    }
}
