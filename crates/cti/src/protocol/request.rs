//! Requests as a client sends them: one JSON object with `type`, `invokeId` and the request's
//! fields, parsed into [`Request`] or refused with the field at fault.
//!
//! Parse, don't validate: everything after this room works with typed values. Nothing here
//! looks at provisioning or sessions; unknown extra fields are ignored (CSTA clients often
//! send more than a request needs).

use serde_json::{Map, Value};

use super::error::{CtiError, ErrorCode};

/// Longest device name, number, RD name or password accepted.
pub const MAX_TEXT: usize = 256;
/// Most DTMF characters in one GenerateDigits.
pub const MAX_DIGITS: usize = 64;

/// A device as a request names it: by device name, by one of its DNs, or both (then the DN
/// must be one of the device's and it selects that line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRef {
    pub device: Option<String>,
    pub dn: Option<String>,
}

/// A device's connection to a call (CSTA ConnectionID): `{"callId": 7, "deviceId": "…"}`;
/// `deviceId` is a device name or one of its DNs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnRef {
    pub call: u64,
    pub device: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    Password { user: String, password: String },
    Token(String),
}

/// A new remote destination (AddRemoteDestination).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRd {
    pub name: String,
    pub number: String,
    pub active: bool,
    pub ring_schedule: Option<String>,
    pub timers: RdTimers,
}

/// Optional timer fields of an RD, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RdTimers {
    pub answer_too_soon_ms: Option<u32>,
    pub answer_too_late_ms: Option<u32>,
    pub delay_before_ringing_ms: Option<u32>,
}

/// What UpdateRemoteDestination changes; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RdPatch {
    pub number: Option<String>,
    /// `Some(None)`: the field was `null`, which clears the schedule.
    pub ring_schedule: Option<Option<String>>,
    pub timers: RdTimers,
}

/// Every request of SPEC §3 and the T-Server contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Authenticate(Credentials),
    MonitorStart(DeviceRef),
    MonitorStop {
        xref: u64,
    },
    SnapshotDevice(DeviceRef),
    MakeCall {
        from: DeviceRef,
        to: String,
    },
    AnswerCall(ConnRef),
    ClearConnection(ConnRef),
    /// ClearConnection of another party's connection (`conn.device` is the party as
    /// presented) on behalf of `device`, which is on the call: drops a conference member.
    DropParty {
        conn: ConnRef,
        device: String,
    },
    HoldCall(ConnRef),
    RetrieveCall(ConnRef),
    DeflectCall {
        conn: ConnRef,
        to: String,
    },
    GenerateDigits {
        conn: ConnRef,
        digits: String,
        inband: bool,
    },
    ConsultationCall {
        conn: ConnRef,
        to: String,
    },
    TransferCall {
        held: ConnRef,
        active: ConnRef,
    },
    ConferenceCall {
        held: ConnRef,
        active: ConnRef,
    },
    SetForwarding {
        target: DeviceRef,
        on: bool,
        to: Option<String>,
    },
    GetForwarding(DeviceRef),
    SetDoNotDisturb {
        target: DeviceRef,
        on: bool,
    },
    GetDoNotDisturb(DeviceRef),
    AddRemoteDestination {
        target: DeviceRef,
        rd: NewRd,
    },
    UpdateRemoteDestination {
        target: DeviceRef,
        name: String,
        patch: RdPatch,
    },
    RemoveRemoteDestination {
        target: DeviceRef,
        name: String,
    },
    SetActiveRemoteDestination {
        target: DeviceRef,
        name: Option<String>,
    },
    GetRemoteDestinations(DeviceRef),
    RegisterAddress {
        target: DeviceRef,
        dest: String,
        name: Option<String>,
    },
    UnregisterAddress(DeviceRef),
}

/// Every request type, as `type` spells it.
pub const REQUEST_TYPES: [&str; 25] = [
    "Authenticate",
    "MonitorStart",
    "MonitorStop",
    "SnapshotDevice",
    "MakeCall",
    "AnswerCall",
    "ClearConnection",
    "HoldCall",
    "RetrieveCall",
    "DeflectCall",
    "GenerateDigits",
    "ConsultationCall",
    "TransferCall",
    "ConferenceCall",
    "SetForwarding",
    "GetForwarding",
    "SetDoNotDisturb",
    "GetDoNotDisturb",
    "AddRemoteDestination",
    "UpdateRemoteDestination",
    "RemoveRemoteDestination",
    "SetActiveRemoteDestination",
    "GetRemoteDestinations",
    "RegisterAddress",
    "UnregisterAddress",
];

/// A request with the envelope fields every response echoes.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub invoke_id: Value,
    /// The request type, one of [`REQUEST_TYPES`].
    pub name: &'static str,
    pub request: Request,
}

/// Why a text is not a request: what to echo (`invokeId` when readable, the request type
/// when known) and the error.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    pub invoke_id: Value,
    pub name: Option<&'static str>,
    pub error: CtiError,
}

/// Parses one client text.
pub fn parse(text: &str) -> Result<Parsed, Refused> {
    let refuse = |invoke_id: Value, name, error| Refused {
        invoke_id,
        name,
        error,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| {
        refuse(
            Value::Null,
            None,
            CtiError::new(ErrorCode::InvalidJson, format!("not JSON: {e}")),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(refuse(
            Value::Null,
            None,
            CtiError::new(ErrorCode::InvalidJson, "a message is one JSON object"),
        ));
    };
    let invoke_id = match map.get("invokeId") {
        Some(Value::Number(n)) if n.as_u64().is_some() => Value::Number(n.clone()),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 => Value::String(s.clone()),
        Some(_) => {
            return Err(refuse(
                Value::Null,
                None,
                CtiError::param(
                    "invokeId",
                    "invokeId must be a whole number ≥ 0 or a string of 1 to 64 characters",
                ),
            ))
        }
        None => {
            return Err(refuse(
                Value::Null,
                None,
                CtiError::param("invokeId", "every request carries an invokeId"),
            ))
        }
    };
    let kind = match map.get("type") {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            return Err(refuse(
                invoke_id,
                None,
                CtiError::param("type", "every request carries its type as a string"),
            ))
        }
    };
    let Some(name) = REQUEST_TYPES.iter().copied().find(|t| *t == kind) else {
        let shown: String = kind.chars().take(64).collect();
        return Err(refuse(
            invoke_id,
            None,
            CtiError::new(
                ErrorCode::UnknownRequest,
                format!("unknown request type {shown:?}"),
            ),
        ));
    };
    match request(name, &Fields(&map)) {
        Ok(request) => Ok(Parsed {
            invoke_id,
            name,
            request,
        }),
        Err(error) => Err(refuse(invoke_id, Some(name), error)),
    }
}

fn request(name: &str, f: &Fields) -> Result<Request, CtiError> {
    Ok(match name {
        "Authenticate" => Request::Authenticate(match f.opt_str("token")? {
            Some(token) => Credentials::Token(token),
            None => Credentials::Password {
                user: f.str("user")?,
                password: f.raw_str("password")?,
            },
        }),
        "MonitorStart" => Request::MonitorStart(f.device()?),
        "MonitorStop" => Request::MonitorStop {
            xref: f.u64("monitorCrossRefId")?,
        },
        "SnapshotDevice" => Request::SnapshotDevice(f.device()?),
        "MakeCall" => Request::MakeCall {
            from: f.device()?,
            to: f.str("calledDirectoryNumber")?,
        },
        "AnswerCall" => Request::AnswerCall(f.connection("connection")?),
        "ClearConnection" => match f.opt_str("device")? {
            Some(device) => Request::DropParty {
                conn: f.connection("connection")?,
                device,
            },
            None => Request::ClearConnection(f.connection("connection")?),
        },
        "HoldCall" => Request::HoldCall(f.connection("connection")?),
        "RetrieveCall" => Request::RetrieveCall(f.connection("connection")?),
        "DeflectCall" => Request::DeflectCall {
            conn: f.connection("connection")?,
            to: f.str("newDestination")?,
        },
        "GenerateDigits" => {
            let digits = f.str("charactersToSend")?;
            if digits.len() > MAX_DIGITS {
                return Err(CtiError::param(
                    "charactersToSend",
                    format!("at most {MAX_DIGITS} characters at once"),
                ));
            }
            let inband = match f.opt_str("mode")?.as_deref() {
                None | Some("outOfBand") => false,
                Some("inBand") => true,
                Some(_) => {
                    return Err(CtiError::param(
                        "mode",
                        "mode is \"outOfBand\" (the default) or \"inBand\"",
                    ))
                }
            };
            Request::GenerateDigits {
                conn: f.connection("connection")?,
                digits,
                inband,
            }
        }
        "ConsultationCall" => Request::ConsultationCall {
            conn: f.connection("connection")?,
            to: f.str("consultedDevice")?,
        },
        "TransferCall" => Request::TransferCall {
            held: f.connection("heldCall")?,
            active: f.connection("activeCall")?,
        },
        "ConferenceCall" => Request::ConferenceCall {
            held: f.connection("heldCall")?,
            active: f.connection("activeCall")?,
        },
        "SetForwarding" => {
            match f.opt_str("forwardingType")?.as_deref() {
                None | Some("forwardImmediate") => {}
                Some(_) => {
                    return Err(CtiError::param(
                        "forwardingType",
                        "only \"forwardImmediate\" (call forward all) is supported",
                    ))
                }
            }
            let on = f.bool("activateForward")?;
            let to = f.opt_str("forwardDN")?;
            if on && to.is_none() {
                return Err(CtiError::param(
                    "forwardDN",
                    "forwardDN is needed to activate forwarding",
                ));
            }
            Request::SetForwarding {
                target: f.device()?,
                on,
                to: if on { to } else { None },
            }
        }
        "GetForwarding" => Request::GetForwarding(f.device()?),
        "SetDoNotDisturb" => Request::SetDoNotDisturb {
            target: f.device()?,
            on: f.bool("doNotDisturbOn")?,
        },
        "GetDoNotDisturb" => Request::GetDoNotDisturb(f.device()?),
        "AddRemoteDestination" => Request::AddRemoteDestination {
            target: f.device()?,
            rd: NewRd {
                name: f.str("name")?,
                number: f.str("number")?,
                active: f.opt_bool("active")?.unwrap_or(false),
                ring_schedule: f.opt_str("ringSchedule")?,
                timers: f.timers()?,
            },
        },
        "UpdateRemoteDestination" => Request::UpdateRemoteDestination {
            target: f.device()?,
            name: f.str("name")?,
            patch: RdPatch {
                number: f.opt_str("number")?,
                ring_schedule: match f.0.get("ringSchedule") {
                    None => None,
                    Some(Value::Null) => Some(None),
                    Some(_) => Some(f.opt_str("ringSchedule")?),
                },
                timers: f.timers()?,
            },
        },
        "RemoveRemoteDestination" => Request::RemoveRemoteDestination {
            target: f.device()?,
            name: f.str("name")?,
        },
        "SetActiveRemoteDestination" => {
            if !f.0.contains_key("name") {
                return Err(CtiError::param(
                    "name",
                    "name is the RD to make active, or null to deactivate",
                ));
            }
            Request::SetActiveRemoteDestination {
                target: f.device()?,
                name: f.opt_str("name")?,
            }
        }
        "GetRemoteDestinations" => Request::GetRemoteDestinations(f.device()?),
        "RegisterAddress" => Request::RegisterAddress {
            target: f.device()?,
            dest: f.str("REMOTE_DEST")?,
            name: f.opt_str("REMOTE_NAME")?,
        },
        "UnregisterAddress" => Request::UnregisterAddress(f.device()?),
        other => {
            return Err(CtiError::new(
                ErrorCode::UnknownRequest,
                format!("unknown request type {other:?}"),
            ))
        }
    })
}

/// Typed reads of a request's fields; each error names the field.
struct Fields<'a>(&'a Map<String, Value>);

fn check_text(field: &str, s: &str) -> Result<(), CtiError> {
    if s.is_empty() {
        return Err(CtiError::param(field, format!("{field} is empty")));
    }
    if s.len() > MAX_TEXT {
        return Err(CtiError::param(
            field,
            format!("{field} is longer than {MAX_TEXT} bytes"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(CtiError::param(
            field,
            format!("{field} holds control characters"),
        ));
    }
    Ok(())
}

impl Fields<'_> {
    /// A required, non-empty string without control characters.
    fn str(&self, field: &str) -> Result<String, CtiError> {
        self.opt_str(field)?
            .ok_or_else(|| CtiError::param(field, format!("{field} is required")))
    }

    /// A required string taken as it is (a password may hold anything but must fit).
    fn raw_str(&self, field: &str) -> Result<String, CtiError> {
        match self.0.get(field) {
            Some(Value::String(s)) if s.len() <= MAX_TEXT => Ok(s.clone()),
            Some(Value::String(_)) => Err(CtiError::param(
                field,
                format!("{field} is longer than {MAX_TEXT} bytes"),
            )),
            Some(_) => Err(CtiError::param(field, format!("{field} must be a string"))),
            None => Err(CtiError::param(field, format!("{field} is required"))),
        }
    }

    /// Absent or null → None; otherwise as [`Fields::str`].
    fn opt_str(&self, field: &str) -> Result<Option<String>, CtiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                check_text(field, s)?;
                Ok(Some(s.clone()))
            }
            Some(_) => Err(CtiError::param(field, format!("{field} must be a string"))),
        }
    }

    fn bool(&self, field: &str) -> Result<bool, CtiError> {
        self.opt_bool(field)?
            .ok_or_else(|| CtiError::param(field, format!("{field} (true or false) is required")))
    }

    fn opt_bool(&self, field: &str) -> Result<Option<bool>, CtiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(CtiError::param(
                field,
                format!("{field} must be true or false"),
            )),
        }
    }

    fn u64(&self, field: &str) -> Result<u64, CtiError> {
        match self.0.get(field) {
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| {
                CtiError::param(field, format!("{field} must be a whole number ≥ 0"))
            }),
            Some(_) => Err(CtiError::param(
                field,
                format!("{field} must be a whole number ≥ 0"),
            )),
            None => Err(CtiError::param(field, format!("{field} is required"))),
        }
    }

    fn opt_u32(&self, field: &str) -> Result<Option<u32>, CtiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .map(Some)
                .ok_or_else(|| {
                    CtiError::param(field, format!("{field} must be a whole number of ms"))
                }),
            Some(_) => Err(CtiError::param(
                field,
                format!("{field} must be a whole number of ms"),
            )),
        }
    }

    fn timers(&self) -> Result<RdTimers, CtiError> {
        Ok(RdTimers {
            answer_too_soon_ms: self.opt_u32("answerTooSoonMs")?,
            answer_too_late_ms: self.opt_u32("answerTooLateMs")?,
            delay_before_ringing_ms: self.opt_u32("delayBeforeRingingMs")?,
        })
    }

    /// `device` and/or `dn`: at least one.
    fn device(&self) -> Result<DeviceRef, CtiError> {
        let d = DeviceRef {
            device: self.opt_str("device")?,
            dn: self.opt_str("dn")?,
        };
        if d.device.is_none() && d.dn.is_none() {
            return Err(CtiError::param(
                "device",
                "name the device by \"device\" (its name) or \"dn\" (one of its numbers)",
            ));
        }
        Ok(d)
    }

    fn connection(&self, field: &str) -> Result<ConnRef, CtiError> {
        let bad = || {
            CtiError::param(
                field,
                format!("{field} must be {{\"callId\": <number>, \"deviceId\": <device or DN>}}"),
            )
        };
        let Some(Value::Object(c)) = self.0.get(field) else {
            return Err(bad());
        };
        let inner = Fields(c);
        let call = inner.u64("callId").map_err(|_| bad())?;
        let device = inner.str("deviceId").map_err(|_| bad())?;
        Ok(ConnRef { call, device })
    }
}
