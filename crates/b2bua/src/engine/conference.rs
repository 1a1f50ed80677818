//! ConferenceCall and DropParty (SPEC §2.8): three parties of two calls mixed by Tether's media
//! engine, each hearing the others; any party dropped.
//!
//! ConferenceCall takes the same two calls as TransferCall — a held call whose device leg is
//! lent to an answered consultation — and makes one call of them: the held party is retrieved
//! (`sendrecv` re-INVITE, the music stops), the held call's two legs move into the
//! consultation call ([`super::handover`]: its A side in place of the borrowed leg, its B leg
//! as a new B leg) and the three legs join one mixing room named by the call's global call id
//! ([`MediaCommand::Mix`]). The held call ends with its own CDR; the conference goes on as the
//! consultation call, whose CDR covers it to its end.
//!
//! More parties: the device consults from the conference (ConsultationCall on it): its leg
//! leaves the mix — the others go on talking — and is lent to the consultation as from any
//! call; ConferenceCall with the conference as the held call then moves the consulted party's
//! leg into the conference and mixes the device's leg again (RetrieveCall does the latter alone
//! when the consultation was cleared instead). Two parties left while the device consults:
//! the one left is held, as in any call lending its device leg.
//!
//! Parties leave by hanging up, by a media failure on their leg, by [`Control::DropParty`] or
//! by their device clearing its connection: the leg is unmixed, closed and its channel freed
//! at once, and the others go on. CUCM-like, whoever leaves — the device that set the
//! conference up included — the conference goes on while three parties remain, and with two
//! left the call becomes an ordinary two-party call again (the two relayed, one of them on the
//! A side so that every two-party rule applies).
//!
//! [`Control::DropParty`]: crate::control::Control::DropParty

use super::handover::Slot;
use super::transfer::Join;
use super::*;
use crate::call::{Conference, Member};
use crate::control::{ControlError, ControlOk, DeviceEventKind, Party};
use crate::media::MediaCommand;

/// Q.850 16: normal call clearing.
const NORMAL: u8 = 16;

impl Engine {
    pub(super) fn conference_call(
        &mut self,
        now: Instant,
        held: u64,
        active: u64,
        device: &str,
    ) -> Result<ControlOk, ControlError> {
        if self
            .calls
            .get(&held)
            .is_some_and(|c| c.conference.is_some())
        {
            return self.add_party(now, held, active, device);
        }
        let Join {
            hconn,
            cconn: _,
            lent,
            x_side,
            x_held,
            y,
            y_port,
            x_number,
            y_number,
            x_display: _,
            x_leg_id: _,
            x_span: _,
            x_conns,
            y_conns,
        } = self.joinable(held, active, device)?;
        // The held call's legs: its A side and its B leg (one the device's, one the held
        // party's).
        let w = match (lent.side, x_side) {
            (Side::B(w), _) | (_, Side::B(w)) => w,
            _ => return Err(ControlError::InvalidCallState),
        };

        // 1. The held party is retrieved.
        if x_held {
            self.retrieve(now, held, x_side)
                .map_err(super::control::hold_error)?;
        }
        // 2. Both legs of the held call move into the consultation call.
        if let Some(h) = self.calls.get_mut(&held) {
            h.lent = None;
        }
        let (Some(a), Some(b)) = (self.detach(held, Side::A), self.detach(held, Side::B(w))) else {
            return Err(ControlError::InvalidCallState);
        };
        let (a_port, b_port) = (a.port(), b.port());
        // The consultation call was checked: its A side is borrowed, and a B leg is placed.
        let _ = self.attach(now, active, Slot::A, a);
        let n = match self.attach(now, active, Slot::NewB, b) {
            Ok(Side::B(n)) => n,
            _ => return Err(ControlError::InvalidCallState),
        };
        let (own, x, own_port, x_port) = match lent.side {
            Side::A => (Side::A, Side::B(n), a_port, b_port),
            Side::B(_) => (Side::B(n), Side::A, b_port, a_port),
        };
        // 3. The three legs are mixed.
        for port in [own_port, x_port, y_port].into_iter().flatten() {
            self.out
                .push_back(Output::Media(MediaCommand::Mix { room: active, port }));
        }
        let members = vec![
            Member {
                side: own,
                number: hconn.dn.clone(),
                device: Some(device.to_owned()),
            },
            Member {
                side: x,
                number: x_number,
                device: x_conns.first().map(|k| k.device.clone()),
            },
            Member {
                side: Side::B(y),
                number: y_number,
                device: y_conns.first().map(|k| k.device.clone()),
            },
        ];

        // 4. Every device learns it; the held call ends.
        let kind = DeviceEventKind::Conferenced {
            parties: members.iter().map(|m| m.number.clone()).collect(),
            resulting_call: active,
        };
        self.emit(&hconn, held, kind.clone());
        for k in &x_conns {
            self.emit(k, held, kind.clone());
        }
        for k in &y_conns {
            self.emit(k, active, kind.clone());
        }
        if let Some(c) = self.calls.get_mut(&active) {
            c.conference = Some(Conference { members });
            c.conns.extend(x_conns);
            set_roles(c);
        }
        if let Some(h) = self.calls.get_mut(&held) {
            h.conns.clear();
            h.released_by = Some(lent.side);
            match lent.side {
                Side::A => h.cdr.orig_cause_value = NORMAL,
                Side::B(_) => h.cdr.dest_cause_value = NORMAL,
            }
        }
        self.finish(now, held, NORMAL);
        Ok(ControlOk::Done)
    }

    /// A party the device consulted from conference `conf` (over the leg the conference lent
    /// it) joins the conference; the device's leg is mixed again and the consultation ends.
    fn add_party(
        &mut self,
        now: Instant,
        conf: u64,
        active: u64,
        device: &str,
    ) -> Result<ControlOk, ControlError> {
        let c = self.calls.get(&conf).ok_or(ControlError::InvalidCallId)?;
        c.connection(device).ok_or(ControlError::InvalidCallId)?;
        let d = self.calls.get(&active).ok_or(ControlError::InvalidCallId)?;
        let dconn = d
            .connection(device)
            .ok_or(ControlError::InvalidCallId)?
            .clone();
        let lent = c
            .lent
            .filter(|l| l.to == active)
            .ok_or(ControlError::InvalidCallState)?;
        if d.state != CallState::Answered || d.a.borrowed() != Some((conf, lent.side)) {
            return Err(ControlError::InvalidCallState);
        }
        let y = d.winner.ok_or(ControlError::InvalidCallState)?;
        let dm = d.media.as_ref().ok_or(ControlError::MediaNotAnchored)?;
        if dm.pending_offer.is_some() {
            return Err(ControlError::RequestInProgress);
        }
        if dm.held_party.is_some() || dm.held_by.is_some() {
            return Err(ControlError::InvalidCallState);
        }
        let own_port = self.side_port(conf, lent.side);
        let y_number = d.other_number(&dconn);
        let y_conns: Vec<Connection> = d
            .conns
            .iter()
            .filter(|k| k.device != device)
            .cloned()
            .collect();

        // The consulted party's leg moves into the conference; the device's leg is mixed
        // again; the consultation is over.
        let Some(leg) = self.detach(active, Side::B(y)) else {
            return Err(ControlError::InvalidCallState);
        };
        let y_port = leg.port();
        let Ok(side) = self.attach(now, conf, Slot::NewB, leg) else {
            return Err(ControlError::InvalidCallState);
        };
        for port in [own_port, y_port].into_iter().flatten() {
            self.out
                .push_back(Output::Media(MediaCommand::Mix { room: conf, port }));
        }
        if let Some(port) = own_port {
            self.by_port.insert(port, conf);
        }
        let Some(c) = self.calls.get_mut(&conf) else {
            return Ok(ControlOk::Done);
        };
        c.lent = None;
        if let Some(m) = c.media.as_mut() {
            m.relay_broken = false;
        }
        let Some(k) = c.conference.as_mut() else {
            return Ok(ControlOk::Done);
        };
        k.members.push(Member {
            side,
            number: y_number,
            device: y_conns.first().map(|k| k.device.clone()),
        });
        let kind = DeviceEventKind::Conferenced {
            parties: k.members.iter().map(|m| m.number.clone()).collect(),
            resulting_call: conf,
        };
        c.conns.extend(y_conns.iter().cloned());
        set_roles(c);
        let others: Vec<Connection> = c
            .conns
            .iter()
            .filter(|k| k.device != device && !y_conns.contains(k))
            .cloned()
            .collect();
        self.emit(&dconn, active, kind.clone());
        for k in &y_conns {
            self.emit(k, active, kind.clone());
        }
        for k in &others {
            self.emit(k, conf, kind.clone());
        }
        if let Some(d) = self.calls.get_mut(&active) {
            d.conns.clear();
        }
        self.finish(now, active, NORMAL);
        Ok(ControlOk::Done)
    }

    /// RetrieveCall on a conference the device consulted from (the consultation is over): its
    /// leg is mixed again.
    pub(super) fn rejoin(&mut self, call: u64, device: &str) -> Result<ControlOk, ControlError> {
        let c = self
            .calls
            .get_mut(&call)
            .ok_or(ControlError::InvalidCallId)?;
        let conn = c
            .connection(device)
            .ok_or(ControlError::InvalidCallId)?
            .clone();
        let side = c
            .conference
            .iter()
            .flat_map(|k| &k.members)
            .find(|m| m.device.as_deref() == Some(device))
            .map(|m| m.side)
            .ok_or(ControlError::InvalidCallId)?;
        let m = c.media.as_mut().ok_or(ControlError::MediaNotAnchored)?;
        if c.lent.is_some() || !m.relay_broken {
            return Err(ControlError::InvalidCallState);
        }
        m.relay_broken = false;
        if let Some(port) = self.side_port(call, side) {
            self.out
                .push_back(Output::Media(MediaCommand::Mix { room: call, port }));
        }
        self.emit(&conn, call, DeviceEventKind::Retrieved);
        Ok(ControlOk::Done)
    }

    pub(super) fn drop_party(
        &mut self,
        now: Instant,
        call: u64,
        device: &str,
        party: &str,
    ) -> Result<ControlOk, ControlError> {
        let c = self.calls.get(&call).ok_or(ControlError::InvalidCallId)?;
        c.connection(device).ok_or(ControlError::InvalidCallId)?;
        let conf = c
            .conference
            .as_ref()
            .ok_or(ControlError::InvalidCallState)?;
        let side = conf
            .members
            .iter()
            .find(|m| m.number == party)
            .map(|m| m.side)
            .ok_or_else(|| ControlError::InvalidParty(party.to_owned()))?;
        self.leave_conference(now, call, side, NORMAL, true);
        Ok(ControlOk::Done)
    }

    /// `end_call` on a conference: the party on `by` leaves and the others go on (true), or,
    /// when no party is named, everyone is hung up and the call finishes (true). False for a
    /// call that is no conference.
    pub(super) fn conference_ended_by(
        &mut self,
        now: Instant,
        call: u64,
        by: Option<Side>,
        cause: u8,
    ) -> bool {
        let Some(c) = self.calls.get_mut(&call) else {
            return false;
        };
        let Some(conf) = c.conference.as_ref() else {
            return false;
        };
        if let Some(side) = by.filter(|s| conf.members.iter().any(|m| m.side == *s)) {
            self.leave_conference(now, call, side, cause, false);
            return true;
        }
        let sides: Vec<Side> = conf.members.iter().map(|m| m.side).collect();
        c.conference = None;
        c.cdr.dest_cause_value = cause;
        for side in sides {
            self.release(now, call, side, cause);
        }
        self.finish(now, call, cause);
        true
    }

    /// Hangs up the answered leg on `side` (BYE with the Q.850 cause).
    pub(super) fn release(&mut self, now: Instant, call: u64, side: Side, cause: u8) {
        match side {
            Side::A => self.release_a(now, call, cause),
            Side::B(i) => self.release_b(now, call, i, cause),
        }
    }

    /// The party on `side` leaves conference `call` (Tether hangs it up first when `hang_up`):
    /// its leg leaves the mix, its port and trunk channel are given back, the devices are told;
    /// with two parties left the call is a two-party call again.
    pub(super) fn leave_conference(
        &mut self,
        now: Instant,
        call: u64,
        side: Side,
        cause: u8,
        hang_up: bool,
    ) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(conf) = c.conference.as_mut() else {
            return;
        };
        if !conf.members.iter().any(|m| m.side == side) {
            return;
        }
        // The device's leg serving a consultation: leaving by choice, the leg goes on in the
        // consultation; gone, the consultation ends too (below).
        let lent = c.lent.filter(|l| l.side == side);
        if lent.is_some() && hang_up {
            self.end_loan(now, call, None);
        }
        let Some(conf) = self
            .calls
            .get_mut(&call)
            .and_then(|c| c.conference.as_mut())
        else {
            return;
        };
        let Some(i) = conf.members.iter().position(|m| m.side == side) else {
            return;
        };
        let member = conf.members.remove(i);
        let left = conf.members.len();
        if hang_up {
            self.release(now, call, side, cause);
        }
        self.free_leg(call, side);
        // The devices: the one that left is off the call, the others lost a far party.
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let conns = std::mem::take(&mut c.conns);
        let (gone, stay): (Vec<Connection>, Vec<Connection>) = conns
            .into_iter()
            .partition(|k| member.device.as_deref() == Some(k.device.as_str()));
        c.conns = stay.clone();
        for k in &gone {
            let kind = DeviceEventKind::ConnectionCleared {
                party: Party::Device,
                cause,
            };
            self.emit(k, call, kind);
        }
        for k in &stay {
            let kind = DeviceEventKind::ConnectionCleared {
                party: Party::Far,
                cause,
            };
            self.emit(k, call, kind);
        }
        if let Some(l) = lent.filter(|_| !hang_up) {
            if let Some(c) = self.calls.get_mut(&call) {
                c.lent = None;
            }
            self.end_call(now, l.to, Some(Side::A), cause);
        }
        match left {
            0..=1 => {
                // Not left by a three-party conference; ended all the same.
                self.conference_ended_by(now, call, None, cause);
            }
            2 => self.two_party_again(now, call),
            _ => {}
        }
    }

    /// The leg on `side` is done with: out of the mix, its port closed and given back, its
    /// trunk channel freed. Its dialog stays until its BYE is answered.
    fn free_leg(&mut self, call: u64, side: Side) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let trunk = match side {
            Side::A => c.a.take_trunk(),
            Side::B(i) => c.b.get_mut(i).and_then(|l| l.trunk.take()),
        };
        if let Some(t) = trunk {
            self.channels.release(&t);
        }
        let port = c.media.as_mut().and_then(|m| match side {
            Side::A if !m.a_elsewhere => {
                m.a_elsewhere = true;
                Some(m.a_port)
            }
            Side::A => None,
            Side::B(i) => m.b.get_mut(i).and_then(Option::take).map(|b| b.port),
        });
        if let Some(port) = port {
            self.out
                .push_back(Output::Media(MediaCommand::Unmix { port }));
            self.out
                .push_back(Output::Media(MediaCommand::Close { port }));
            self.by_port.remove(&port);
            if let Some(pool) = self.ports.as_mut() {
                pool.release(port);
            }
        }
    }

    /// Two parties are left: they are relayed to each other as an ordinary call, one on the A
    /// side (moved there from its B leg when the A side's party left) and the other the B leg
    /// that answered.
    fn two_party_again(&mut self, now: Instant, call: u64) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(conf) = c.conference.take() else {
            return;
        };
        let [p, q] = match <[Member; 2]>::try_from(conf.members) {
            Ok(pair) => pair,
            Err(_) => return,
        };
        for side in [p.side, q.side] {
            if let Some(port) = self.side_port(call, side) {
                self.out
                    .push_back(Output::Media(MediaCommand::Unmix { port }));
            }
        }
        // The device's leg may be lent to a consultation: it stays where it is.
        let lent = self.calls.get(&call).and_then(|c| c.lent).map(|l| l.side);
        let (p, q) = if lent == Some(p.side) { (q, p) } else { (p, q) };
        let (a, b) = if p.side == Side::A {
            (p, q)
        } else if q.side == Side::A {
            (q, p)
        } else {
            // The A side's party left: the first one takes its place. What is left of the old
            // A leg (its BYE finishing in the transaction layer) is let go.
            if let Some(c) = self.calls.get_mut(&call) {
                c.a = ALeg::Moved;
            }
            let Some(d) = self.detach(call, p.side) else {
                return;
            };
            if self.attach(now, call, Slot::A, d).is_err() {
                return;
            }
            (Member { side: Side::A, ..p }, q)
        };
        let Side::B(w) = b.side else {
            return;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.winner = Some(w);
        c.presented_calling = a.number.clone();
        c.shown_called = Some(b.number.clone());
        for k in &mut c.conns {
            k.role = if a.device.as_deref() == Some(k.device.as_str()) {
                Role::Calling
            } else {
                Role::Called
            };
        }
        let Some(m) = c.media.as_mut() else {
            return;
        };
        m.connected = Some(w);
        if let Some(own) = lent {
            // The device is consulting: the party left with it is held, as in any call whose
            // device leg serves a consultation.
            m.relay_broken = true;
            let other = if own == Side::A { b.side } else { Side::A };
            let _ = self.hold(now, call, other);
            return;
        }
        let b_port = m.b.get(w).and_then(Option::as_ref).map(|x| x.port);
        if let (false, Some(b)) = (m.a_elsewhere, b_port) {
            let a = m.a_port;
            self.out
                .push_back(Output::Media(MediaCommand::Connect { a, b }));
        }
    }
}

/// Each device's role follows where its leg is: the A side calls, a B leg is called.
fn set_roles(c: &mut Call) {
    let Some(conf) = c.conference.as_ref() else {
        return;
    };
    for k in &mut c.conns {
        if let Some(m) = conf
            .members
            .iter()
            .find(|m| m.device.as_deref() == Some(k.device.as_str()))
        {
            k.role = if m.side == Side::A {
                Role::Calling
            } else {
                Role::Called
            };
        }
    }
}
