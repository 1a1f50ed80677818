//! Carrying out CTI requests ([`Control`]) and answering snapshots of a device's calls.

use super::*;
use crate::control::{ConnectionState, Control, ControlError, ControlOk, DeviceCall};

impl Engine {
    /// Carries out a CTI request. Progress after the request is accepted arrives as
    /// [`Output::Device`] events.
    pub fn control(&mut self, now: Instant, req: Control) -> Result<ControlOk, ControlError> {
        match req {
            Control::Hold { call, device } => {
                let far = self.far_side_of(call, &device)?;
                self.hold(now, call, far).map_err(hold_error)?;
                Ok(ControlOk::Done)
            }
            Control::Retrieve { call, device } => {
                let far = self.far_side_of(call, &device)?;
                self.retrieve(now, call, far).map_err(hold_error)?;
                Ok(ControlOk::Done)
            }
            // Carried out by the engine work on CTI call flows (issue 6).
            _ => Err(ControlError::InvalidCallState),
        }
    }

    /// The side of `call` that is not `device`'s connection.
    fn far_side_of(&self, call: u64, device: &str) -> Result<Side, ControlError> {
        let c = self.calls.get(&call).ok_or(ControlError::InvalidCallId)?;
        if c.cdr.dest_device_name == device {
            Ok(Side::A)
        } else {
            Err(ControlError::InvalidCallId)
        }
    }

    /// The calls `device` has a connection to, oldest first.
    pub fn device_calls(&self, device: &str) -> Vec<DeviceCall> {
        let mut out: Vec<DeviceCall> = self
            .calls
            .values()
            .filter(|c| c.cdr.dest_device_name == device)
            .map(|c| DeviceCall {
                call: c.id,
                dn: c.cdr.final_called_party_number.clone(),
                state: match c.state {
                    CallState::Answered
                        if c.media.as_ref().and_then(|m| m.held_party).is_some() =>
                    {
                        ConnectionState::Held
                    }
                    CallState::Answered => ConnectionState::Connected,
                    _ => ConnectionState::Alerting,
                },
                other: c.presented_calling.clone(),
                outgoing: false,
            })
            .collect();
        out.sort_by_key(|c| c.call);
        out
    }
}

fn hold_error(e: HoldError) -> ControlError {
    match e {
        HoldError::NoCall => ControlError::InvalidCallState,
        HoldError::NotAnchored => ControlError::MediaNotAnchored,
        HoldError::WrongState => ControlError::InvalidCallState,
        HoldError::Busy => ControlError::RequestInProgress,
    }
}
