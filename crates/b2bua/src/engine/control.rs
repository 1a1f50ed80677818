//! Carrying out CTI requests ([`Control`]) and answering snapshots of a device's calls. The
//! requests with a flow of their own live in their rooms: [`super::make_call`],
//! [`super::clear`], [`super::deflect`], [`super::answer`]; hold and retrieve in [`super::hold`], digits in
//! [`super::digits`].

use tether_rtp::dtmf::Digit;

use super::*;
use crate::control::{ConnectionState, Control, ControlError, ControlOk, DeviceCall};

/// The most keys one GenerateDigits may play.
const MAX_DIGITS: usize = 64;

impl Engine {
    /// Carries out a CTI request. Progress after the request is accepted arrives as
    /// [`Output::Device`] events.
    pub fn control(&mut self, now: Instant, req: Control) -> Result<ControlOk, ControlError> {
        // A conference takes only its own requests (and ClearConnection).
        let on_call = match &req {
            Control::Hold { call, .. }
            | Control::Deflect { call, .. }
            | Control::GenerateDigits { call, .. } => Some(*call),
            _ => None,
        };
        if on_call.is_some_and(|c| self.calls.get(&c).is_some_and(|c| c.conference.is_some())) {
            return Err(ControlError::InvalidCallState);
        }
        let r = match req {
            Control::MakeCall { device, to } => self.make_call(now, &device, &to),
            Control::AnswerCall { call, device } => self.answer_call(now, call, &device),
            Control::ClearConnection { call, device } => self.clear_connection(now, call, &device),
            Control::Hold { call, device } => {
                let far = self.far_side_of(call, &device)?;
                self.hold(now, call, far).map_err(hold_error)?;
                Ok(ControlOk::Done)
            }
            Control::Retrieve { call, device }
                if self
                    .calls
                    .get(&call)
                    .is_some_and(|c| c.conference.is_some()) =>
            {
                self.rejoin(call, &device)
            }
            Control::Retrieve { call, device } => {
                let far = self.far_side_of(call, &device)?;
                if self.calls.get(&call).is_some_and(|c| c.lent.is_some()) {
                    // The device's leg serves a consultation: clear or transfer it first.
                    return Err(ControlError::InvalidCallState);
                }
                self.retrieve(now, call, far).map_err(hold_error)?;
                self.reconnect(call);
                Ok(ControlOk::Done)
            }
            Control::Deflect { call, device, to } => self.deflect(now, call, &device, &to),
            Control::GenerateDigits {
                call,
                device,
                digits,
                inband,
            } => {
                if digits.is_empty()
                    || digits.len() > MAX_DIGITS
                    || !digits.chars().all(|c| Digit::from_char(c).is_some())
                {
                    return Err(ControlError::InvalidDigits);
                }
                let far = self.far_side_of(call, &device)?;
                if self.calls.get(&call).map(|c| c.state) != Some(CallState::Answered) {
                    return Err(ControlError::InvalidCallState);
                }
                self.generate_digits(now, call, far, &digits, inband)?;
                Ok(ControlOk::Done)
            }
            Control::ConsultationCall { call, device, to } => {
                self.consultation_call(now, call, &device, &to)
            }
            Control::TransferCall {
                held_call,
                active_call,
                device,
            } => self.transfer_call(now, held_call, active_call, &device),
            Control::ConferenceCall {
                held_call,
                active_call,
                device,
            } => self.conference_call(now, held_call, active_call, &device),
            Control::DropParty {
                call,
                device,
                party,
            } => self.drop_party(now, call, &device, &party),
        };
        self.drain(now);
        r
    }

    /// The side of `call` across from `device`'s connection: the caller for the device the
    /// call is for; the answered leg for the device that placed it.
    fn far_side_of(&self, call: u64, device: &str) -> Result<Side, ControlError> {
        let c = self.calls.get(&call).ok_or(ControlError::InvalidCallId)?;
        let conn = c.connection(device).ok_or(ControlError::InvalidCallId)?;
        match conn.role {
            Role::Called => Ok(Side::A),
            Role::Calling => c.winner.map(Side::B).ok_or(ControlError::InvalidCallState),
        }
    }

    /// A held call whose relay a consultation took apart: its two parties are relayed to each
    /// other again (the held party was just retrieved).
    fn reconnect(&mut self, call: u64) {
        let Some(m) = self.calls.get_mut(&call).and_then(|c| c.media.as_mut()) else {
            return;
        };
        if !std::mem::replace(&mut m.relay_broken, false) {
            return;
        }
        let b = m
            .connected
            .and_then(|i| m.b.get(i))
            .and_then(Option::as_ref);
        if let (Some(b), false) = (b, m.a_elsewhere) {
            let (a, b) = (m.a_port, b.port);
            self.out
                .push_back(Output::Media(crate::media::MediaCommand::Connect { a, b }));
        }
    }

    /// The calls `device` has a connection to, oldest first.
    pub fn device_calls(&self, device: &str) -> Vec<DeviceCall> {
        let mut out: Vec<DeviceCall> = self
            .calls
            .values()
            .flat_map(|c| {
                c.conns
                    .iter()
                    .filter(|conn| conn.device == device)
                    .map(|conn| device_call(c, conn))
            })
            .collect();
        out.sort_by_key(|c| c.call);
        out
    }
}

/// `conn`'s view of call `c`.
fn device_call(c: &Call, conn: &Connection) -> DeviceCall {
    let m = c.media.as_ref();
    // The device holds: Tether holds the far party for it (its re-INVITE answered), or the
    // device's own re-INVITE put the far party on hold.
    let held = m.is_some_and(|m| {
        m.held_party
            .is_some_and(|(s, pending)| !pending && !conn.side_is_own(s))
            || m.held_by.is_some_and(|s| conn.side_is_own(s))
    });
    let up = |connected: bool| match (connected, held) {
        (true, true) => ConnectionState::Held,
        (true, false) => ConnectionState::Connected,
        (false, _) => ConnectionState::Alerting,
    };
    let (state, other) = match conn.role {
        Role::Called => (
            up(c.state == CallState::Answered),
            c.presented_calling.clone(),
        ),
        Role::Calling => (
            match &c.a {
                // MakeCall: Initiated while the remote destination is called.
                ALeg::Placed(l) if l.state != LegState::Answered => ConnectionState::Initiated,
                _ => up(true),
            },
            c.other_number(conn),
        ),
    };
    DeviceCall {
        call: c.id,
        dn: conn.dn.clone(),
        state,
        other,
        outgoing: conn.role == Role::Calling,
    }
}

pub(super) fn hold_error(e: HoldError) -> ControlError {
    match e {
        HoldError::NoCall => ControlError::InvalidCallState,
        HoldError::NotAnchored => ControlError::MediaNotAnchored,
        HoldError::WrongState => ControlError::InvalidCallState,
        HoldError::Busy => ControlError::RequestInProgress,
    }
}
