//! Moving a leg from one call to another (consult transfer, conference, SPEC §2.8). Everything
//! that makes the leg moves together: its signaling (the inbound dialog or the dialog set of a
//! leg Tether placed, with the trunk channel it holds), its media (RTP port, Tether's
//! description, what was negotiated, a re-offer still waiting for its answer, who holds whom)
//! and the engine's maps that find it (dialogs, transactions, RTP port). The far party keeps its
//! dialog and never learns of the move. The call left behind keeps a placeholder —
//! [`ALeg::Moved`], or a B leg with no dialog, channel or port — until it finishes.
//!
//! This room only moves; deciding when (a hand-over, a transfer, a conference) is for the rooms
//! of those features.

use tether_sdp::{Negotiated, SessionDescription};

use super::*;
use crate::media::BMedia;

/// A leg taken out of its call, on its way to another.
pub(super) struct Detached {
    /// `Inbound` or `Placed`.
    leg: ALeg,
    /// Where it was: the maps still name this until it is attached.
    from: (u64, Side),
    port: Option<u16>,
    /// The caller's own offer (an inbound A leg only).
    offer: Option<SessionDescription>,
    /// Tether's description on the leg.
    local: Option<SessionDescription>,
    negotiated: Option<Negotiated>,
    /// Tether's re-offer waiting for the party's answer.
    pending: Option<SessionDescription>,
    /// Tether holds the party (its re-INVITE still waiting when true).
    held: Option<bool>,
    /// The party holds its call itself.
    holds: bool,
}

impl Detached {
    /// The leg's RTP port, when media is anchored.
    pub(super) fn port(&self) -> Option<u16> {
        self.port
    }
}

/// Where an attached leg goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// The call's A side, which must not hold a leg of its own (borrowed or moved away).
    A,
    /// A new B leg (only a leg Tether placed can be one).
    NewB,
}

impl Engine {
    /// Takes the leg on `side` out of `call`. `None` when the call has no leg of its own there.
    pub(super) fn detach(&mut self, call: u64, side: Side) -> Option<Detached> {
        let c = self.calls.get_mut(&call)?;
        let leg = match side {
            Side::A => {
                if !c.a.is_own() {
                    return None;
                }
                std::mem::replace(&mut c.a, ALeg::Moved)
            }
            Side::B(i) => {
                let l = c.b.get_mut(i)?;
                // What stays: the leg's history for the events and the CDR, nothing live.
                let mut rest = PlacedLeg::new(l.target.clone());
                rest.state = l.state;
                rest.started_at = l.started_at;
                rest.cause = l.cause;
                ALeg::Placed(std::mem::replace(l, rest))
            }
        };
        if c.info_pending == Some(side) {
            c.info_pending = None;
        }
        c.info_queue.retain(|(s, _, _)| *s != side);
        let mut d = Detached {
            leg,
            from: (call, side),
            port: None,
            offer: None,
            local: None,
            negotiated: None,
            pending: None,
            held: None,
            holds: false,
        };
        if let Some(m) = c.media.as_mut() {
            match side {
                Side::A => {
                    d.port = (!m.a_elsewhere).then_some(m.a_port);
                    d.offer = m.a_offer.take();
                    d.local = m.a_local.take();
                    d.negotiated = m.a_negotiated.take();
                    m.a_elsewhere = true;
                }
                Side::B(i) => {
                    if let Some(b) = m.b.get_mut(i).and_then(Option::take) {
                        d.port = Some(b.port);
                        d.local = Some(b.offer);
                        d.negotiated = b.negotiated;
                    }
                    if m.connected == Some(i) {
                        m.connected = None;
                    }
                }
            }
            if m.pending_offer.as_ref().is_some_and(|(s, _)| *s == side) {
                d.pending = m.pending_offer.take().map(|(_, o)| o);
            }
            if m.held_party.is_some_and(|(s, _)| s == side) {
                d.held = m.held_party.take().map(|(_, pending)| pending);
            }
            if m.held_by == Some(side) {
                m.held_by = None;
                d.holds = true;
            }
        }
        Some(d)
    }

    /// Puts `d` into `call` at `slot`, moving every map entry that named its old place. Gives
    /// it back when it cannot go there (no such call, an A side of its own, an inbound leg as a
    /// B leg).
    pub(super) fn attach(
        &mut self,
        now: Instant,
        call: u64,
        slot: Slot,
        d: Detached,
    ) -> Result<Side, Box<Detached>> {
        let Some(c) = self.calls.get_mut(&call) else {
            return Err(Box::new(d));
        };
        let side = match (slot, &d.leg) {
            (Slot::A, ALeg::Inbound(_) | ALeg::Placed(_)) if !c.a.is_own() => Side::A,
            (Slot::NewB, ALeg::Placed(_)) => Side::B(c.b.len()),
            _ => return Err(Box::new(d)),
        };
        let Detached {
            leg,
            from,
            port,
            offer,
            local,
            negotiated,
            pending,
            held,
            holds,
        } = d;
        match leg {
            ALeg::Placed(l) if side != Side::A => c.b.push(l),
            leg => c.a = leg,
        }
        if let Some(m) = c.media.as_mut() {
            match side {
                Side::A => {
                    if let Some(p) = port {
                        m.a_port = p;
                        m.a_elsewhere = false;
                    }
                    m.a_offer = offer;
                    m.a_local = local;
                    m.a_negotiated = negotiated;
                }
                Side::B(i) => {
                    if m.b.len() <= i {
                        m.b.resize_with(i + 1, || None);
                    }
                    if let (Some(port), Some(offer), Some(slot)) = (port, local, m.b.get_mut(i)) {
                        *slot = Some(BMedia {
                            port,
                            offer,
                            negotiated,
                        });
                    }
                }
            }
            if let Some(o) = pending {
                m.pending_offer = Some((side, o));
                m.pending_quiet = true;
            }
            if let Some(p) = held {
                m.held_party = Some((side, p));
            }
            if holds {
                m.held_by = Some(side);
            }
        }
        // What named the side before belongs to a leg that is gone from it (a party that left
        // a conference): its late responses are ignored rather than given to this leg.
        let to = (call, side);
        self.by_dialog.retain(|_, v| *v != to);
        self.by_txn.retain(|_, v| *v != to);
        let mut dialogs = Vec::new();
        for (id, v) in self.by_dialog.iter_mut() {
            if *v == from {
                *v = to;
                dialogs.push(id.clone());
            }
        }
        let mut txns = Vec::new();
        for (t, v) in self.by_txn.iter_mut() {
            if *v == from {
                *v = to;
                txns.push(*t);
            }
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.keys.dialogs.extend(dialogs);
            c.keys.txns.extend(txns);
        }
        if let Some(p) = port {
            self.by_port.insert(p, call);
        }
        self.pump(now, call);
        Ok(side)
    }
}

impl Engine {
    /// Lets go of a detached leg that goes nowhere (its BYE already sent): its trunk channel
    /// and RTP port are given back.
    pub(super) fn discard(&mut self, d: Detached) {
        let Detached { mut leg, port, .. } = d;
        if let Some(t) = leg.take_trunk() {
            self.channels.release(&t);
        }
        if let Some(port) = port {
            self.by_port.remove(&port);
            if let Some(pool) = self.ports.as_mut() {
                pool.release(port);
            }
            self.out
                .push_back(Output::Media(crate::media::MediaCommand::Close { port }));
        }
    }
}
