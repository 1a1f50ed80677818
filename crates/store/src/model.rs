//! The provisioning objects of SPEC.md §1 as plain data: what the REST API, the CSV files and the
//! database rows all carry. No rules live here (see `rules.rs`), no I/O (see `db.rs`).
//!
//! Every object has a key ([`Key`]): one part for most objects, two for those that live inside
//! another (a line is a DN in a partition, an RD belongs to a device, a pattern lives in a
//! partition).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The identity of one object within its kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    One(String),
    Two(String, String),
}

impl Key {
    pub fn parts(&self) -> Vec<&str> {
        match self {
            Key::One(a) => vec![a],
            Key::Two(a, b) => vec![a, b],
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::One(a) => f.write_str(a),
            Key::Two(a, b) => write!(f, "{a}/{b}"),
        }
    }
}

/// The kinds of provisioning object, with their REST collection names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    User,
    Partition,
    Css,
    Device,
    Line,
    RemoteDestination,
    Trunk,
    RouteGroup,
    RouteList,
    Pattern,
    DialRule,
    Announcement,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::User,
        Kind::Partition,
        Kind::Css,
        Kind::Device,
        Kind::Line,
        Kind::RemoteDestination,
        Kind::Trunk,
        Kind::RouteGroup,
        Kind::RouteList,
        Kind::Pattern,
        Kind::DialRule,
        Kind::Announcement,
    ];

    /// The REST collection (`/api/v1/<collection>`).
    pub fn collection(self) -> &'static str {
        match self {
            Kind::User => "users",
            Kind::Partition => "partitions",
            Kind::Css => "css",
            Kind::Device => "devices",
            Kind::Line => "lines",
            Kind::RemoteDestination => "remote-destinations",
            Kind::Trunk => "trunks",
            Kind::RouteGroup => "route-groups",
            Kind::RouteList => "route-lists",
            Kind::Pattern => "patterns",
            Kind::DialRule => "dial-rules",
            Kind::Announcement => "announcements",
        }
    }

    pub fn from_collection(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.collection() == s)
    }

    /// The singular name used in messages (`remote_destination CTRIDalice/Mobile`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Partition => "partition",
            Kind::Css => "css",
            Kind::Device => "device",
            Kind::Line => "line",
            Kind::RemoteDestination => "remote_destination",
            Kind::Trunk => "trunk",
            Kind::RouteGroup => "route_group",
            Kind::RouteList => "route_list",
            Kind::Pattern => "pattern",
            Kind::DialRule => "dial_rule",
            Kind::Announcement => "announcement",
        }
    }

    /// Names of the key fields, in key order.
    pub fn key_fields(self) -> &'static [&'static str] {
        match self {
            Kind::User => &["id"],
            Kind::Announcement => &["id"],
            Kind::Line => &["partition", "dn"],
            Kind::RemoteDestination => &["device", "name"],
            Kind::Pattern => &["partition", "pattern"],
            _ => &["name"],
        }
    }
}

fn default_max_rds() -> u32 {
    4
}

/// An end user (SPEC §1 "user").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Only such users may own CTI remote devices.
    #[serde(default)]
    pub mobility_enabled: bool,
    /// May use the CTI API.
    #[serde(default)]
    pub cti_enabled: bool,
    /// Default 4, at most 10.
    #[serde(default = "default_max_rds")]
    pub max_remote_destinations: u32,
    /// May use the admin REST API with their own credentials.
    #[serde(default)]
    pub admin: bool,
    /// Devices the user does not own but may monitor and control through CTI (and whose remote
    /// destinations they may manage), e.g. a shared agent device. Each must exist.
    #[serde(default)]
    pub associated_devices: Vec<String>,
    /// Write-only: set to change the password; never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A calling search space: an ordered list of partitions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Css {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub partitions: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A virtual CTI remote device whose calls ring its remote destinations.
    CtiRemoteDevice,
    /// An ordinary SIP phone or softphone that registers with digest credentials.
    SipPhone,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::CtiRemoteDevice => "cti_remote_device",
            DeviceKind::SipPhone => "sip_phone",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cti_remote_device" => Some(DeviceKind::CtiRemoteDevice),
            "sip_phone" => Some(DeviceKind::SipPhone),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Default for CTI remote devices: `CTRID<owner id>`.
    pub name: String,
    pub kind: DeviceKind,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub display_name: String,
    /// Calling search space for calls the device places.
    #[serde(default)]
    pub css: Option<String>,
    /// CSS used to validate and route remote destinations.
    #[serde(default)]
    pub reroute_css: Option<String>,
    #[serde(default)]
    pub route_to_all_rds_when_none_active: bool,
    /// SIP phones: digest user name.
    #[serde(default)]
    pub sip_username: Option<String>,
    /// SIP phones: digest password (kept in clear because digest needs it).
    #[serde(default)]
    pub sip_password: Option<String>,
}

/// A directory number in a partition, on a device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub partition: String,
    pub dn: String,
    pub device: String,
    /// Line button 1..=5.
    #[serde(default = "one")]
    pub position: u32,
    /// E.164 alias, e.g. `+14082002000`.
    #[serde(default)]
    pub e164: Option<String>,
    /// Directory URI alias, e.g. `alice@example.com`.
    #[serde(default)]
    pub directory_uri: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub call_forward_all: Option<String>,
    #[serde(default)]
    pub dnd: bool,
}

fn one() -> u32 {
    1
}
fn ms_1500() -> u32 {
    1500
}
fn ms_19000() -> u32 {
    19000
}
fn ms_4000() -> u32 {
    4000
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteDestination {
    pub device: String,
    /// Jabber-style clients use `JabberRD`.
    pub name: String,
    /// A number (any dialing form) or an off-cluster SIP URI.
    pub number: String,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub ring_schedule: Option<String>,
    #[serde(default = "ms_1500")]
    pub answer_too_soon_ms: u32,
    #[serde(default = "ms_19000")]
    pub answer_too_late_ms: u32,
    #[serde(default = "ms_4000")]
    pub delay_before_ringing_ms: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TrunkKind {
    Sip,
    PriT1,
    PriE1,
    Bri,
    Fxo,
    Mgcp,
}

impl TrunkKind {
    pub const ALL: [TrunkKind; 6] = [
        TrunkKind::Sip,
        TrunkKind::PriT1,
        TrunkKind::PriE1,
        TrunkKind::Bri,
        TrunkKind::Fxo,
        TrunkKind::Mgcp,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            TrunkKind::Sip => "sip",
            TrunkKind::PriT1 => "pri-t1",
            TrunkKind::PriE1 => "pri-e1",
            TrunkKind::Bri => "bri",
            TrunkKind::Fxo => "fxo",
            TrunkKind::Mgcp => "mgcp",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        TrunkKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Bearer channels per span/port when not configured.
    pub fn default_channels(self) -> Option<u32> {
        match self {
            TrunkKind::PriT1 => Some(23),
            TrunkKind::PriE1 => Some(30),
            TrunkKind::Bri => Some(2),
            TrunkKind::Fxo => Some(1),
            TrunkKind::Sip | TrunkKind::Mgcp => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Hunting {
    Ascending,
    Descending,
    Cyclic,
}

impl Hunting {
    pub fn as_str(self) -> &'static str {
        match self {
            Hunting::Ascending => "ascending",
            Hunting::Descending => "descending",
            Hunting::Cyclic => "cyclic",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ascending" => Some(Hunting::Ascending),
            "descending" => Some(Hunting::Descending),
            "cyclic" => Some(Hunting::Cyclic),
            _ => None,
        }
    }
}

fn ascending() -> Hunting {
    Hunting::Ascending
}

/// One row of a trunk's cause-mapping table: a Q.850 cause and the SIP status it maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CauseMapping {
    pub q850: u8,
    pub sip: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trunk {
    pub name: String,
    pub kind: TrunkKind,
    /// `host:port` of the far end.
    pub peer: String,
    /// Shown as the calling number on Dial-Via-Office legs.
    #[serde(default)]
    pub did: Option<String>,
    #[serde(default = "ascending")]
    pub hunting: Hunting,
    /// Bearer channels; defaults by kind (PRI T1 23, E1 30, BRI 2, FXO 1).
    #[serde(default)]
    pub channels: Option<u32>,
    /// CSS that calls arriving on this trunk are analyzed with.
    #[serde(default)]
    pub inbound_css: Option<String>,
    #[serde(default)]
    pub cause_map: Vec<CauseMapping>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    TopDown,
    Circular,
}

impl Distribution {
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::TopDown => "top_down",
            Distribution::Circular => "circular",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "top_down" => Some(Distribution::TopDown),
            "circular" => Some(Distribution::Circular),
            _ => None,
        }
    }
}

fn top_down() -> Distribution {
    Distribution::TopDown
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteGroup {
    pub name: String,
    #[serde(default = "top_down")]
    pub distribution: Distribution,
    /// Trunks in hunt order.
    #[serde(default)]
    pub trunks: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteList {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Route groups in order.
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// Routes to a route list.
    Route,
    /// Transforms the numbers and analyzes again through its own CSS.
    Translation,
    /// Matches and refuses the call.
    Block,
}

impl PatternKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PatternKind::Route => "route",
            PatternKind::Translation => "translation",
            PatternKind::Block => "block",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "route" => Some(PatternKind::Route),
            "translation" => Some(PatternKind::Translation),
            "block" => Some(PatternKind::Block),
            _ => None,
        }
    }
}

/// A party transformation: discard PreDot digits, apply a mask, add a prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transformation {
    #[serde(default)]
    pub discard_predot: bool,
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub mask: Option<String>,
}

/// A route or translation pattern (Cisco digit-analysis syntax) in a partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    pub partition: String,
    pub pattern: String,
    pub kind: PatternKind,
    #[serde(default)]
    pub description: String,
    /// Route patterns: the route list.
    #[serde(default)]
    pub route_list: Option<String>,
    /// Translation patterns: the CSS the result is analyzed with.
    #[serde(default)]
    pub css: Option<String>,
    #[serde(default)]
    pub called: Transformation,
    #[serde(default)]
    pub calling: Transformation,
}

/// An application dial rule, applied to every RD number before validation and dialing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DialRule {
    pub name: String,
    #[serde(default)]
    pub begins_with: String,
    #[serde(default)]
    pub num_digits: Option<u32>,
    #[serde(default)]
    pub digits_to_remove: u32,
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub priority: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Path of the WAV file (any common rate; converted to G.711 at load).
    pub file: String,
}

/// Any provisioning object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Object {
    User(User),
    Partition(Partition),
    Css(Css),
    Device(Device),
    Line(Line),
    RemoteDestination(RemoteDestination),
    Trunk(Trunk),
    RouteGroup(RouteGroup),
    RouteList(RouteList),
    Pattern(Pattern),
    DialRule(DialRule),
    Announcement(Announcement),
}

impl Object {
    pub fn kind(&self) -> Kind {
        match self {
            Object::User(_) => Kind::User,
            Object::Partition(_) => Kind::Partition,
            Object::Css(_) => Kind::Css,
            Object::Device(_) => Kind::Device,
            Object::Line(_) => Kind::Line,
            Object::RemoteDestination(_) => Kind::RemoteDestination,
            Object::Trunk(_) => Kind::Trunk,
            Object::RouteGroup(_) => Kind::RouteGroup,
            Object::RouteList(_) => Kind::RouteList,
            Object::Pattern(_) => Kind::Pattern,
            Object::DialRule(_) => Kind::DialRule,
            Object::Announcement(_) => Kind::Announcement,
        }
    }

    pub fn key(&self) -> Key {
        match self {
            Object::User(o) => Key::One(o.id.clone()),
            Object::Partition(o) => Key::One(o.name.clone()),
            Object::Css(o) => Key::One(o.name.clone()),
            Object::Device(o) => Key::One(o.name.clone()),
            Object::Line(o) => Key::Two(o.partition.clone(), o.dn.clone()),
            Object::RemoteDestination(o) => Key::Two(o.device.clone(), o.name.clone()),
            Object::Trunk(o) => Key::One(o.name.clone()),
            Object::RouteGroup(o) => Key::One(o.name.clone()),
            Object::RouteList(o) => Key::One(o.name.clone()),
            Object::Pattern(o) => Key::Two(o.partition.clone(), o.pattern.clone()),
            Object::DialRule(o) => Key::One(o.name.clone()),
            Object::Announcement(o) => Key::One(o.id.clone()),
        }
    }

    /// Decodes a JSON value as an object of `kind`; the error says which field is wrong.
    pub fn from_json(kind: Kind, value: serde_json::Value) -> Result<Object, serde_json::Error> {
        Ok(match kind {
            Kind::User => Object::User(serde_json::from_value(value)?),
            Kind::Partition => Object::Partition(serde_json::from_value(value)?),
            Kind::Css => Object::Css(serde_json::from_value(value)?),
            Kind::Device => Object::Device(serde_json::from_value(value)?),
            Kind::Line => Object::Line(serde_json::from_value(value)?),
            Kind::RemoteDestination => Object::RemoteDestination(serde_json::from_value(value)?),
            Kind::Trunk => Object::Trunk(serde_json::from_value(value)?),
            Kind::RouteGroup => Object::RouteGroup(serde_json::from_value(value)?),
            Kind::RouteList => Object::RouteList(serde_json::from_value(value)?),
            Kind::Pattern => Object::Pattern(serde_json::from_value(value)?),
            Kind::DialRule => Object::DialRule(serde_json::from_value(value)?),
            Kind::Announcement => Object::Announcement(serde_json::from_value(value)?),
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        // Serializing these plain structs cannot fail (string keys, no maps with non-string keys).
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// A change to apply; a batch of changes commits all or nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Create; fails with `ALREADY_EXISTS` if the key is taken.
    Create(Object),
    /// Replace an existing object; fails with `NOT_FOUND` if absent.
    Update(Object),
    /// Create or replace.
    Upsert(Object),
    /// Delete; fails with `NOT_FOUND` if absent.
    Delete(Kind, Key),
}

impl Change {
    pub fn kind(&self) -> Kind {
        match self {
            Change::Create(o) | Change::Update(o) | Change::Upsert(o) => o.kind(),
            Change::Delete(k, _) => *k,
        }
    }
    pub fn key(&self) -> Key {
        match self {
            Change::Create(o) | Change::Update(o) | Change::Upsert(o) => o.key(),
            Change::Delete(_, k) => k.clone(),
        }
    }
}

/// Who is writing: the administrator path does not verify RD reachability, the end-user path does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Admin,
    /// An end user acting on their own devices (self-care REST, CTI).
    EndUser(String),
}
