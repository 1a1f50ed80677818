//! Call-control requests → the engine's [`Control`] (SPEC §2), and its answer → the response.
//!
//! [`engine_request`] is the one place that says which CSTA call-control request the engine
//! carries out. Every one of them is: AnswerCall too, where the ringing phone offers remote
//! answer (the engine refuses it `ANSWER_NOT_SUPPORTED` where it does not).

use serde_json::{json, Map, Value};
use tether_b2bua::control::DeviceCall;
use tether_b2bua::{Control, ControlOk};

use crate::protocol::error::{CtiError, ErrorCode};
use crate::protocol::event::connection;
use crate::protocol::request::Request;

/// The engine request for a call-control request whose devices are resolved and authorized
/// (`device`: the device of the request's connection, or MakeCall's calling device).
pub fn engine_request(req: &Request, device: String) -> Result<Control, CtiError> {
    match req {
        Request::MakeCall { to, .. } => Ok(Control::MakeCall {
            device,
            to: to.clone(),
        }),
        Request::ClearConnection(c) => Ok(Control::ClearConnection {
            call: c.call,
            device,
        }),
        Request::HoldCall(c) => Ok(Control::Hold {
            call: c.call,
            device,
        }),
        Request::RetrieveCall(c) => Ok(Control::Retrieve {
            call: c.call,
            device,
        }),
        Request::DeflectCall { conn, to } => Ok(Control::Deflect {
            call: conn.call,
            device,
            to: to.clone(),
        }),
        Request::GenerateDigits {
            conn,
            digits,
            inband,
        } => Ok(Control::GenerateDigits {
            call: conn.call,
            device,
            digits: digits.clone(),
            inband: *inband,
        }),
        Request::AnswerCall(c) => Ok(Control::AnswerCall {
            call: c.call,
            device,
        }),
        Request::DropParty { conn, .. } => Ok(Control::DropParty {
            call: conn.call,
            device,
            party: conn.device.clone(),
        }),
        Request::ConsultationCall { conn, to } => Ok(Control::ConsultationCall {
            call: conn.call,
            device,
            to: to.clone(),
        }),
        Request::TransferCall { held, active } => Ok(Control::TransferCall {
            held_call: held.call,
            active_call: active.call,
            device,
        }),
        Request::ConferenceCall { held, active } => Ok(Control::ConferenceCall {
            held_call: held.call,
            active_call: active.call,
            device,
        }),
        _ => Err(CtiError::new(
            ErrorCode::UnknownRequest,
            "not a call-control request",
        )),
    }
}

/// The positive response's fields.
pub fn ok_fields(ok: ControlOk, device: &str) -> Map<String, Value> {
    match ok {
        ControlOk::Call(call) => json_map(json!({
            "callId": call, "connection": connection(call, device)
        })),
        ControlOk::Done => Map::new(),
    }
}

/// A call in a device snapshot.
pub fn call_json(device: &str, c: &DeviceCall) -> Value {
    json!({ "connection": connection(c.call, device), "callId": c.call, "dn": c.dn,
            "state": c.state.as_str(), "otherParty": c.other,
            "direction": if c.outgoing { "outgoing" } else { "incoming" } })
}

pub fn json_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
