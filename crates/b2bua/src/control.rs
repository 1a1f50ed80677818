//! Third-party call control: what a CTI application asks of the engine ([`Control`]) and the
//! call events as each device sees them ([`DeviceEvent`], SPEC §2 and §3).
//!
//! The CTI layer (`tether-cti`) speaks CSTA to applications; this room is the engine's side of
//! that conversation, in the engine's terms: calls by their global call id, devices by name,
//! the other party by the number it is shown as. It holds plain data only; the engine
//! (`engine/control.rs`) carries the requests out and emits the events as
//! [`crate::Output::Device`].
//!
//! A device's *connection* to a call (CSTA's connection id) is `(call, device)`. The far party
//! of a call is named by its presented number; an RD number never appears in any event or
//! snapshot here, as it never appears to a called party (SPEC §2.3).

use crate::output::DigitMethod;

/// A request from a CTI application, already authorized (the CTI layer checked that the
/// session may control `device`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Control {
    /// Make Call = Dial Via Office reverse (SPEC §2.3, RFC 3725): call the device's active RD
    /// showing `Voice Connect` and the trunk's DID; once it answers, call `to` showing the
    /// device's display name and DN, and bridge them. `to` is dialed through the device's
    /// calling search space (after application dial rules); a number that cannot be routed is
    /// refused at once. Needs anchored media (Tether offers on both legs and relays them).
    /// Events: ServiceInitiated at once; nothing while the RD rings; Originated when it
    /// answers; NetworkReached when the target's leg leaves on a trunk; Delivered (Far) when
    /// the target rings; Established on its answer.
    MakeCall { device: String, to: String },
    /// Answers a call ringing at the device (CSTA AnswerCall) where its phone can be told to go
    /// off hook: the BroadWorks `talk` event package that Polycom, Yealink and Cisco SPA phones
    /// implement (Genesys SIP Server's TAnswerCall works the same way). The device's ringing
    /// leg — its remote destination over a SIP trunk, or its SIP phone's binding — must have
    /// offered it with `Allow-Events: talk` in a provisional response; Tether then sends, in
    /// that early dialog, `NOTIFY` with `Event: talk` and `Subscription-State: active` and no
    /// body (the subscription is implied by the INVITE). The phone answers the INVITE with
    /// 200 OK as if its user had picked up, and the call goes on as any answered call
    /// (Established). Of several legs ringing (a fork to every remote destination), the first
    /// to offer `talk` is asked, in the early dialog that offered it; an answer it gives
    /// within answer-too-soon is not taken for a voicemail. A NOTIFY the phone refuses (481,
    /// 489...) or never answers changes nothing: it keeps ringing, and the refusal is logged.
    /// Refused with [`ControlError::InvalidCallState`] unless a call for the device is ringing
    /// (a leg got a provisional response), with [`ControlError::AnswerNotSupported`] when no
    /// ringing leg offered `talk` (a PSTN remote destination cannot be taken off hook), and
    /// with [`ControlError::RequestInProgress`] while the NOTIFY sent waits for its response.
    AnswerCall { call: u64, device: String },
    /// Ends the device's connection: CANCEL before an answer, BYE after, with a Reason header
    /// (Q.850 16, normal clearing). In a two-party call this ends the call.
    ClearConnection { call: u64, device: String },
    /// The device's user holds the call: Tether re-INVITEs the far party `sendonly` (or
    /// `inactive`, RFC 6337) and plays it music on hold (SPEC §2.5). `Held` is reported when
    /// the party accepts the re-INVITE.
    Hold { call: u64, device: String },
    /// Retrieves a call [`Control::Hold`] held: `sendrecv` re-INVITE, the music stops.
    Retrieve { call: u64, device: String },
    /// Redirects a call still ringing at the device to `to` (SPEC §2.6): the RD legs are
    /// cancelled and the caller is routed to `to` through the device's calling search space.
    Deflect {
        call: u64,
        device: String,
        to: String,
    },
    /// Plays DTMF `digits` (`0-9 * # A-D`) to the far party of the device's connection
    /// (SPEC §2.7): `inband` forces tones in the audio; otherwise RFC 4733 events where the
    /// leg negotiated telephone-event, SIP INFO where it uses INFO, tones where it has neither.
    GenerateDigits {
        call: u64,
        device: String,
        digits: String,
        inband: bool,
    },
    /// Consult transfer, first step (SPEC §2.8): the device's far party in `call` is held
    /// (as [`Control::Hold`]: a `sendonly` re-INVITE and music on hold, `Held` on `call` once
    /// it accepts), and Tether calls `to` — through the device's calling search space after
    /// the application dial rules, showing the device's display name and DN — over the
    /// device's *same* leg (no new call to its remote destination): the device's leg hears
    /// the target as soon as it sends media. Returns the new call's global call id; its events
    /// are MakeCall's second half: ServiceInitiated, Originated, NetworkReached (on a trunk),
    /// Delivered (Far), Established. Clearing the consultation call ends the target's leg
    /// only: `call` stays held until [`Control::Retrieve`], which connects the device's leg
    /// to its far party again. While the consultation lasts `call` cannot be retrieved, and
    /// neither call can start another consultation. From a conference, the device's leg just
    /// leaves the mix (the others go on talking) and no one is held; [`Control::ConferenceCall`]
    /// with the conference as `held_call` then adds the consulted party, and
    /// [`Control::Retrieve`] mixes the device's leg again after the consultation was cleared.
    ConsultationCall {
        call: u64,
        device: String,
        to: String,
    },
    /// Consult transfer, last step: joins the far party of `held_call` with the consulted
    /// party of `active_call` (the consultation call `held_call` lent its device leg to,
    /// answered). The held party is retrieved (`sendrecv` re-INVITE, the music stops), the two
    /// parties' legs are relayed to each other, and the device's leg is hung up
    /// (`Reason: Q.850;cause=16`). Neither far party gets a new INVITE. The joined call goes on
    /// as `active_call`; `held_call` ends. Events: `Transferred` to each device on the two
    /// calls (the transferring one first), then `ConnectionCleared` (Device, 16) for the
    /// transferring device on `held_call` and on `active_call`.
    TransferCall {
        held_call: u64,
        active_call: u64,
        device: String,
    },
    /// Conference (SPEC §2.8): like [`Control::TransferCall`] (same calls, same checks) but
    /// the device stays: the held party is retrieved and the three legs — the device's, the
    /// held party's, the consulted party's — are mixed by the media engine, each party hearing
    /// the others. The conference goes on as `active_call`; `held_call` ends. Events:
    /// `Conferenced` to each device on the two calls. A party leaving (hanging up, dropped by
    /// [`Control::DropParty`], or its device clearing its connection) is unmixed and the others
    /// go on; with two parties left the call is an ordinary two-party call again — also when
    /// the device that set the conference up is the one that left. With a conference as
    /// `held_call` (the device consulted from it), the consulted party joins it: four or more.
    ConferenceCall {
        held_call: u64,
        active_call: u64,
        device: String,
    },
    /// Drops one party of a conference, named by the number it is presented as (as in
    /// `Conferenced`): its leg is hung up (`Reason: Q.850;cause=16`). `device` must be on the
    /// call. Dropping the device's own number is leaving the conference.
    DropParty {
        call: u64,
        device: String,
        party: String,
    },
}

/// What a successful [`Control`] gives back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlOk {
    /// A call was started (MakeCall): its global call id.
    Call(u64),
    /// Done (or under way; its progress arrives as events).
    Done,
}

/// Why the engine refused a [`Control`]. Each has a stable CTI error code.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlError {
    /// The device does not exist or is not a CTI remote device.
    InvalidDevice,
    /// The device has no active remote destination (it is not extended).
    ActiveRdNotSet,
    /// No such call, or the device has no connection to it.
    InvalidCallId,
    /// The request does not fit the call's state (deflect after an answer, hold while
    /// ringing, retrieve of a call not held...).
    InvalidCallState,
    /// The number cannot be routed from the device (digit analysis found nothing, or the
    /// route is blocked).
    InvalidDestination(String),
    /// Media is not anchored, so Tether cannot play music or digits into the call, nor bridge
    /// the two legs of a MakeCall.
    MediaNotAnchored,
    /// An earlier request on this call is still waiting for the far end (a re-INVITE, or
    /// AnswerCall's NOTIFY).
    RequestInProgress,
    /// `digits` holds a character that is not a DTMF key, or nothing.
    InvalidDigits,
    /// No call capacity, trunk channel or RTP port is left.
    ResourceBusy,
    /// No party of the conference is presented as that number.
    InvalidParty(String),
    /// AnswerCall: no phone ringing for the device offered remote answer
    /// (`Allow-Events: talk`); it must be answered by hand.
    AnswerNotSupported,
}

impl ControlError {
    /// The stable code CTI clients see.
    pub fn code(&self) -> &'static str {
        match self {
            ControlError::InvalidDevice => "INVALID_DEVICE",
            ControlError::ActiveRdNotSet => "ACTIVE_RD_NOT_SET",
            ControlError::InvalidCallId => "INVALID_CALL_ID",
            ControlError::InvalidCallState => "INVALID_CALL_STATE",
            ControlError::InvalidDestination(_) => "INVALID_DESTINATION",
            ControlError::MediaNotAnchored => "MEDIA_NOT_ANCHORED",
            ControlError::RequestInProgress => "REQUEST_IN_PROGRESS",
            ControlError::InvalidDigits => "INVALID_DIGITS",
            ControlError::ResourceBusy => "RESOURCE_BUSY",
            ControlError::InvalidParty(_) => "INVALID_PARTY",
            ControlError::AnswerNotSupported => "ANSWER_NOT_SUPPORTED",
        }
    }
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlError::InvalidDevice => f.write_str("no such CTI remote device"),
            ControlError::ActiveRdNotSet => {
                f.write_str("the device has no active remote destination")
            }
            ControlError::InvalidCallId => f.write_str("the device has no connection to that call"),
            ControlError::InvalidCallState => {
                f.write_str("not possible in the call's present state")
            }
            ControlError::InvalidDestination(why) => write!(f, "cannot route the number: {why}"),
            ControlError::MediaNotAnchored => f.write_str("media is not anchored on this call"),
            ControlError::RequestInProgress => {
                f.write_str("an earlier request on this call is still in progress")
            }
            ControlError::InvalidDigits => f.write_str("digits must be 1 or more of 0-9 * # A-D"),
            ControlError::ResourceBusy => f.write_str("no call, channel or media port is free"),
            ControlError::InvalidParty(p) => write!(f, "no party {p} in the conference"),
            ControlError::AnswerNotSupported => f.write_str(
                "the remote phone must be answered by hand: it does not offer remote answer \
                 (Allow-Events: talk), and a PSTN remote destination cannot be taken off hook",
            ),
        }
    }
}

impl std::error::Error for ControlError {}

/// A call event at one device (CSTA: an event on the device's connection to the call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceEvent {
    /// The device (a CTI remote device or a SIP phone).
    pub device: String,
    /// The device's directory number on this call.
    pub dn: String,
    /// The global call id.
    pub call: u64,
    pub kind: DeviceEventKind,
}

/// Which connection of a call an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The device's own connection (its RD leg or phone).
    Device,
    /// The other party.
    Far,
}

/// Why a call was diverted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DivertCause {
    /// Call Forward All on the line.
    ForwardAll,
    /// DeflectCall by a CTI application.
    Deflect,
}

/// What happened, in CSTA terms (ECMA-269 event names).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceEventKind {
    /// MakeCall: the device's side started; Tether is calling the active RD.
    ServiceInitiated,
    /// MakeCall: the RD answered; Tether is now calling `called`.
    Originated {
        called: String,
    },
    /// MakeCall: the leg to `called` left on a trunk (the call reached the network).
    NetworkReached {
        called: String,
    },
    /// A call alerts. `party` Device: a call for the device rings its RD (or phone);
    /// Far: the far party (MakeCall's target) rings.
    Delivered {
        party: Party,
        calling: String,
        called: String,
    },
    /// The call is answered and both parties are connected.
    Established {
        calling: String,
        called: String,
    },
    /// The far party is held on the device's behalf (music on hold plays to it).
    Held,
    Retrieved,
    /// The call left the device for `to` before an answer.
    Diverted {
        from: String,
        to: String,
        cause: DivertCause,
    },
    /// A leg of the call failed before an answer, with the Q.850 cause (17 busy, 19 no
    /// answer, 1 unallocated number...).
    Failed {
        party: Party,
        cause: u8,
    },
    /// One connection ended (`party`), with its Q.850 cause.
    ConnectionCleared {
        party: Party,
        cause: u8,
    },
    /// The whole call ended (always after the `ConnectionCleared` events).
    CallCleared {
        cause: u8,
    },
    /// TransferCall: the device joined its held party (`transferred`, as the device saw it)
    /// with the party it consulted (`to`); the two go on talking on `resulting_call`. Sent on
    /// the held call to the transferring device and to the held party's device, on the
    /// consultation call to the consulted party's device.
    Transferred {
        transferred: String,
        to: String,
        resulting_call: u64,
    },
    /// ConferenceCall: the device's held call and its consultation became one conference,
    /// `resulting_call`, of `parties` (each as it is presented: the devices' DNs, the far
    /// parties' numbers). Sent as `Transferred` is.
    Conferenced {
        parties: Vec<String>,
        resulting_call: u64,
    },
    /// A DTMF key from `party`.
    DigitsDetected {
        party: Party,
        digit: char,
        method: DigitMethod,
    },
}

/// A call of a device as a snapshot shows it (SnapshotDevice, a reconnecting client).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCall {
    pub call: u64,
    pub dn: String,
    /// The device's connection state.
    pub state: ConnectionState,
    /// The far party as presented (never an RD number).
    pub other: String,
    /// The device placed the call (MakeCall) rather than received it.
    pub outgoing: bool,
}

/// CSTA connection states, as far as a device's connection goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    /// MakeCall: the RD is being called.
    Initiated,
    /// Ringing at the device (its RD rings).
    Alerting,
    Connected,
    /// The device holds the call (Tether holds the far party).
    Held,
}

impl ConnectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Initiated => "initiated",
            ConnectionState::Alerting => "alerting",
            ConnectionState::Connected => "connected",
            ConnectionState::Held => "held",
        }
    }
}
