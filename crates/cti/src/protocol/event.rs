//! Events: `{"type": "<Event>", "monitorCrossRefId": …, "sequence": …, "timestamp": …, …}`.
//!
//! This room builds the envelope and maps the engine's call events
//! ([`tether_b2bua::DeviceEvent`]) to their CSTA names and fields (ECMA-269: connection,
//! callingDevice/calledDevice, alerting/answering/releasing device, cause). Q.850 causes get
//! their CSTA event-cause name beside the number. Device-level events (BackInService,
//! RemoteDestinationChanged, …) are built where their state lives.

use serde_json::{json, Map, Value};
use tether_b2bua::control::{DivertCause, Party};
use tether_b2bua::{DeviceEvent, DeviceEventKind};

/// One event before it is numbered: its type and fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub kind: &'static str,
    pub fields: Map<String, Value>,
}

impl Event {
    pub fn new(kind: &'static str, fields: Value) -> Event {
        let fields = match fields {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Event { kind, fields }
    }
}

/// The text of an event as one session receives it.
pub fn envelope(event: &Event, xref: Option<u64>, sequence: u64, timestamp: &str) -> String {
    let mut m = Map::with_capacity(event.fields.len() + 4);
    m.insert("type".into(), Value::String(event.kind.into()));
    m.insert(
        "monitorCrossRefId".into(),
        xref.map_or(Value::Null, Value::from),
    );
    m.insert("sequence".into(), Value::from(sequence));
    m.insert("timestamp".into(), Value::String(timestamp.into()));
    for (k, v) in &event.fields {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m).to_string()
}

/// `{"callId": …, "deviceId": …}`.
pub fn connection(call: u64, device: &str) -> Value {
    json!({ "callId": call, "deviceId": device })
}

fn party(p: Party) -> &'static str {
    match p {
        Party::Device => "device",
        Party::Far => "far",
    }
}

/// The CSTA event cause for a Q.850 cause value.
pub fn cause_name(q850: u8) -> &'static str {
    match q850 {
        1 => "numberUnallocated",
        2 | 3 => "destNotObtainable",
        16 => "normalClearing",
        17 => "busy",
        18 | 19 => "callNotAnswered",
        20 => "destNotObtainable",
        21 => "blocked",
        22 | 23 => "numberChanged",
        27 => "destOutOfOrder",
        28 => "invalidNumberFormat",
        34 => "trunksBusy",
        38 => "networkOutOfOrder",
        41 | 42 | 44 => "networkCongestion",
        47 => "resourcesNotAvailable",
        58 | 65 | 79 => "notAvaliableBearerService",
        88 => "incompatibleDestination",
        102 => "timeout",
        0..=31 => "normal",
        32..=47 => "resourcesNotAvailable",
        _ => "networkSignal",
    }
}

fn with_cause(mut v: Value, q850: u8) -> Value {
    if let Value::Object(m) = &mut v {
        m.insert("cause".into(), Value::String(cause_name(q850).into()));
        m.insert("q850Cause".into(), Value::from(q850));
    }
    v
}

/// The CSTA event for one of the engine's device events; None for a kind this version does
/// not know (the engine's enum is non-exhaustive).
pub fn call_event(ev: &DeviceEvent) -> Option<Event> {
    let conn = connection(ev.call, &ev.device);
    let dn = ev.dn.as_str();
    let (kind, fields) = match &ev.kind {
        DeviceEventKind::ServiceInitiated => (
            "ServiceInitiated",
            json!({ "connection": conn, "initiatingDevice": dn,
                    "localConnectionInfo": "initiated", "cause": "makeCall" }),
        ),
        DeviceEventKind::Originated { called } => (
            "Originated",
            json!({ "connection": conn, "callingDevice": dn, "calledDevice": called,
                    "localConnectionInfo": "connected", "cause": "makeCall" }),
        ),
        DeviceEventKind::NetworkReached { called } => (
            "NetworkReached",
            json!({ "connection": conn, "callingDevice": dn, "calledDevice": called,
                    "localConnectionInfo": "connected", "cause": "normal" }),
        ),
        DeviceEventKind::Delivered {
            party: p,
            calling,
            called,
        } => (
            "Delivered",
            json!({ "connection": conn, "party": party(*p),
                    "alertingDevice": if *p == Party::Device { dn } else { called.as_str() },
                    "callingDevice": calling, "calledDevice": called,
                    "localConnectionInfo": if *p == Party::Device { "alerting" } else { "connected" },
                    "cause": if *p == Party::Device { "newCall" } else { "normal" } }),
        ),
        DeviceEventKind::Established { calling, called } => (
            "Established",
            json!({ "connection": conn,
                    "answeringDevice": if calling == dn { called.as_str() } else { dn },
                    "callingDevice": calling, "calledDevice": called,
                    "localConnectionInfo": "connected", "cause": "normal" }),
        ),
        DeviceEventKind::Held => (
            "Held",
            json!({ "connection": conn, "holdingDevice": dn,
                    "localConnectionInfo": "hold", "cause": "normal" }),
        ),
        DeviceEventKind::Retrieved => (
            "Retrieved",
            json!({ "connection": conn, "retrievingDevice": dn,
                    "localConnectionInfo": "connected", "cause": "normal" }),
        ),
        DeviceEventKind::Diverted { from, to, cause } => (
            "Diverted",
            json!({ "connection": conn, "divertingDevice": from, "newDestination": to,
                    "localConnectionInfo": "null",
                    "cause": match cause {
                        DivertCause::ForwardAll => "callForwardImmediate",
                        DivertCause::Deflect => "redirected",
                    } }),
        ),
        DeviceEventKind::Failed { party: p, cause } => (
            "Failed",
            with_cause(
                json!({ "connection": conn, "party": party(*p),
                        "failingDevice": if *p == Party::Device { Value::from(dn) } else { Value::Null },
                        "localConnectionInfo": if *p == Party::Device { "fail" } else { "connected" } }),
                *cause,
            ),
        ),
        DeviceEventKind::ConnectionCleared { party: p, cause } => (
            "ConnectionCleared",
            with_cause(
                json!({ "connection": conn, "party": party(*p),
                        "releasingDevice": if *p == Party::Device { Value::from(dn) } else { Value::Null },
                        "localConnectionInfo": if *p == Party::Device { "null" } else { "connected" } }),
                *cause,
            ),
        ),
        DeviceEventKind::CallCleared { cause } => (
            "CallCleared",
            with_cause(
                json!({ "connection": conn, "clearedCall": ev.call, "localConnectionInfo": "null" }),
                *cause,
            ),
        ),
        DeviceEventKind::DigitsDetected {
            party: p,
            digit,
            method,
        } => (
            "DigitsDetected",
            json!({ "connection": conn, "party": party(*p), "digits": digit.to_string(),
                    "method": method.as_str() }),
        ),
        DeviceEventKind::Transferred {
            transferred,
            to,
            resulting_call,
        } => (
            "Transferred",
            json!({ "connection": conn, "transferringDevice": dn,
                    "transferredDevice": transferred, "transferredToDevice": to,
                    "resultingCall": resulting_call,
                    "localConnectionInfo": "null", "cause": "transfer" }),
        ),
        DeviceEventKind::Conferenced {
            parties,
            resulting_call,
        } => (
            "Conferenced",
            json!({ "connection": conn, "conferencingDevice": dn,
                    "parties": parties, "resultingCall": resulting_call,
                    "localConnectionInfo": "connected", "cause": "conference" }),
        ),
        _ => return None,
    };
    let mut event = Event::new(kind, fields);
    event
        .fields
        .insert("device".into(), Value::String(ev.device.clone()));
    event
        .fields
        .insert("dn".into(), Value::String(ev.dn.clone()));
    Some(event)
}
