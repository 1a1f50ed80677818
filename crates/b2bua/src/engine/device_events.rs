//! The call events each device sees (CTI, SPEC §3): for each thing that happens to a call, one
//! [`DeviceEvent`] per device connected to it ([`Call::conns`]), the party named from that
//! device's point of view — its own connection, or the far one. The far party is named by the
//! number it is presented as; an RD number never appears (the calling number is the presented
//! one, the called number the DN or the number dialed).
//!
//! When each event comes:
//! - `ServiceInitiated` at once for MakeCall; `Originated` when its remote destination answers,
//!   or at once when a device (a phone, an RD recognised by its number) places a call; both at
//!   once for ConsultationCall (its device leg is up already).
//! - `Transferred` to every device on the two calls of a TransferCall (`transfer.rs`),
//!   `Conferenced` likewise for a ConferenceCall; a party leaving a conference: its device's
//!   connection cleared, the others see the far connection cleared (`conference.rs`).
//! - `NetworkReached` to the calling device when a B leg leaves on a trunk (once).
//! - `Delivered` when the B side first alerts (a 18x from any of its legs), or just before
//!   `Established` when the leg answered without one; `Established` on the answer.
//! - `Failed` when no leg of the B side can answer any more (or MakeCall's remote destination
//!   fails), with the Q.850 cause; then the clearing.
//! - `ConnectionCleared` for each connection, the side that released first first, then
//!   `CallCleared`, when the call ends.
//! - `Diverted` to the device a call left (Call Forward All, DeflectCall) and to the caller.
//! - `Held`/`Retrieved` when the party's answer to Tether's re-INVITE arrives (CTI hold), or at
//!   once when a device's own re-INVITE holds the other party.
//! - `DigitsDetected` for every key from either party.

use super::*;
use crate::control::{DeviceEvent, DeviceEventKind, Party};
use crate::output::DigitMethod;
use crate::route::Forwarded;

/// `side` as `conn` sees it.
fn party(conn: &Connection, side: Side) -> Party {
    if conn.side_is_own(side) {
        Party::Device
    } else {
        Party::Far
    }
}

/// The called number as `conn` sees it: its own DN when the call is for it, else the number
/// the call was made to.
fn called_for(c: &Call, conn: &Connection) -> String {
    match conn.role {
        Role::Called => conn.dn.clone(),
        Role::Calling => c.cdr.original_called_party_number.clone(),
    }
}

fn event(conn: &Connection, call: u64, kind: DeviceEventKind) -> Output {
    Output::Device(DeviceEvent {
        device: conn.device.clone(),
        dn: conn.dn.clone(),
        call,
        kind,
    })
}

impl Engine {
    /// Emits `kind` to `conn`'s device on `call`.
    pub(super) fn emit(&mut self, conn: &Connection, call: u64, kind: DeviceEventKind) {
        self.out.push_back(event(conn, call, kind));
    }

    /// Emits what `kind` gives for each connection of `call`, in connection order.
    fn each(
        &mut self,
        call: u64,
        mut kind: impl FnMut(&Call, &Connection) -> Option<DeviceEventKind>,
    ) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        for conn in &c.conns {
            if let Some(k) = kind(c, conn) {
                self.out.push_back(event(conn, call, k));
            }
        }
    }

    /// MakeCall or ConsultationCall was accepted: the calling device's side started.
    pub(super) fn service_initiated(&mut self, call: u64) {
        self.each(call, |_, conn| {
            (conn.role == Role::Calling).then_some(DeviceEventKind::ServiceInitiated)
        });
    }

    /// The calling device dialed (or, on MakeCall, its remote destination answered).
    pub(super) fn call_originated(&mut self, call: u64) {
        self.each(call, |c, conn| {
            (conn.role == Role::Calling).then(|| DeviceEventKind::Originated {
                called: called_for(c, conn),
            })
        });
    }

    /// A B leg left on a trunk: the calling device reached the network (reported once).
    pub(super) fn network_reached(&mut self, call: u64) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if std::mem::replace(&mut c.network_reached, true) {
            return;
        }
        self.each(call, |c, conn| {
            (conn.role == Role::Calling).then(|| DeviceEventKind::NetworkReached {
                called: called_for(c, conn),
            })
        });
    }

    /// The B side alerts (reported once per destination).
    pub(super) fn delivered(&mut self, call: u64) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if std::mem::replace(&mut c.delivered, true) {
            return;
        }
        self.each(call, |c, conn| {
            Some(DeviceEventKind::Delivered {
                party: party(conn, Side::B(0)),
                calling: c.presented_calling.clone(),
                called: called_for(c, conn),
            })
        });
    }

    /// The B side answered: both parties are connected.
    pub(super) fn established(&mut self, call: u64) {
        self.delivered(call);
        self.each(call, |c, conn| {
            Some(DeviceEventKind::Established {
                calling: c.presented_calling.clone(),
                called: called_for(c, conn),
            })
        });
    }

    /// No B leg can answer any more: the extension failed with Q.850 `cause`.
    pub(super) fn extension_failed(&mut self, call: u64, cause: u8) {
        self.failed(call, Side::B(0), cause);
    }

    /// The connection on `side` failed before an answer; that side released first.
    pub(super) fn failed(&mut self, call: u64, side: Side, cause: u8) {
        if let Some(c) = self.calls.get_mut(&call) {
            c.released_by.get_or_insert(side);
        }
        self.each(call, |_, conn| {
            Some(DeviceEventKind::Failed {
                party: party(conn, side),
                cause,
            })
        });
    }

    /// A line's Call Forward All sent the call on: the forwarding device (not on the call)
    /// and the calling device learn where it went.
    pub(super) fn forwarded(&mut self, call: u64, f: &Forwarded) {
        let kind = DeviceEventKind::Diverted {
            from: f.dn.clone(),
            to: f.to.clone(),
            cause: DivertCause::ForwardAll,
        };
        let at = Connection {
            device: f.device.clone(),
            dn: f.dn.clone(),
            role: Role::Called,
        };
        self.out.push_back(event(&at, call, kind.clone()));
        self.each(call, |_, conn| {
            (conn.role == Role::Calling).then(|| kind.clone())
        });
    }

    /// The device on the B side deflected the call from its DN `from` to `to`: every device
    /// on the call learns it (the deflecting one for the last time).
    pub(super) fn deflected(&mut self, call: u64, from: &str, to: &str) {
        let kind = DeviceEventKind::Diverted {
            from: from.to_owned(),
            to: to.to_owned(),
            cause: DivertCause::Deflect,
        };
        self.each(call, |_, _| Some(kind.clone()));
    }

    /// The party on `side` holds the other one itself (its own re-INVITE), or resumes.
    pub(super) fn party_held(&mut self, call: u64, side: Side, held: bool) {
        self.each(call, |_, conn| {
            conn.side_is_own(side).then_some(if held {
                DeviceEventKind::Held
            } else {
                DeviceEventKind::Retrieved
            })
        });
    }

    /// Tether held (or retrieved) the party on `side` for the device across from it, and the
    /// party accepted.
    pub(super) fn tether_held(&mut self, call: u64, side: Side, held: bool) {
        self.each(call, |_, conn| {
            (!conn.side_is_own(side)).then_some(if held {
                DeviceEventKind::Held
            } else {
                DeviceEventKind::Retrieved
            })
        });
    }

    /// A DTMF key from the party on `side`.
    pub(super) fn digits_detected(
        &mut self,
        call: u64,
        side: Side,
        digit: char,
        method: DigitMethod,
    ) {
        self.each(call, |_, conn| {
            Some(DeviceEventKind::DigitsDetected {
                party: party(conn, side),
                digit,
                method,
            })
        });
    }

    /// The call `c` is over: each device sees its connections cleared, the side that released
    /// first first, then the call cleared. A far connection that never existed (MakeCall's
    /// target before it was called) is not reported.
    pub(super) fn call_cleared(&mut self, c: &Call, cause: u8) {
        let first = c.released_by.unwrap_or(Side::A);
        let order = match first {
            Side::A => [Side::A, Side::B(0)],
            Side::B(_) => [Side::B(0), Side::A],
        };
        let b_started = c.b.iter().any(|l| l.started_at.is_some());
        for conn in &c.conns {
            for side in order {
                let exists = conn.side_is_own(side) || side == Side::A || b_started;
                if exists {
                    let kind = DeviceEventKind::ConnectionCleared {
                        party: party(conn, side),
                        cause,
                    };
                    self.out.push_back(event(conn, c.id, kind));
                }
            }
            self.out
                .push_back(event(conn, c.id, DeviceEventKind::CallCleared { cause }));
        }
    }
}
