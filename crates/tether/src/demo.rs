//! The demo provisioning `tether serve` seeds into an empty database, so that a newcomer can
//! call and be called at once (README "Run Tether"). One batch, through the admin write path.
//! Besides alice and bob, it holds one device per SIPp scenario of `sip-scenarios/`
//! ([`scenarios`]).

pub mod scenarios;

use std::net::SocketAddr;

use tether_store::model::*;
use tether_store::{Change, Kind, Origin, Store, StoreError, WriteOutcome};

pub const INTERNAL: &str = "Internal";
pub const PSTN: &str = "PSTN";
pub const INTERNAL_CSS: &str = "Internal-CSS";
pub const REROUTE_CSS: &str = "Reroute-CSS";
pub const INBOUND_CSS: &str = "Inbound-CSS";
pub const OUTBOUND_TRUNK: &str = "pstn-sim-out";
pub const INBOUND_TRUNK: &str = "pstn-sim-in";
pub const ROUTE_GROUP: &str = "PSTN-RG";
pub const ROUTE_LIST: &str = "PSTN-RL";

/// The demo's credentials, as documented in the README.
pub const ALICE_PASSWORD: &str = "alice";
pub const BOB_PASSWORD: &str = "bob";
pub const BOB_SIP_USER: &str = "bob";
pub const BOB_SIP_PASSWORD: &str = "bob-sip";

/// Seeds the demo when the database holds no users; returns what was written, or None when
/// there was something already. Both PSTN trunks peer with `pstn`, the built-in PSTN
/// simulator's address (`[pstn] listen`, 127.0.0.1:5070 by default).
pub async fn seed_if_empty(
    store: &Store,
    pstn: SocketAddr,
) -> Result<Option<WriteOutcome>, StoreError> {
    if store.snapshot().data().count(Kind::User) > 0 {
        return Ok(None);
    }
    store.write(&Origin::Admin, changes(pstn)).await.map(Some)
}

/// The demo provisioning as one batch, with its trunks pointing at `pstn`.
pub fn changes(pstn: SocketAddr) -> Vec<Change> {
    let partition = |name: &str, description: &str| Partition {
        name: name.into(),
        description: description.into(),
    };
    let css = |name: &str, description: &str, partitions: &[&str]| Css {
        name: name.into(),
        description: description.into(),
        partitions: partitions.iter().map(|p| (*p).into()).collect(),
    };
    let trunk = |name: &str, inbound_css: Option<&str>| Trunk {
        name: name.into(),
        kind: TrunkKind::Sip,
        peer: pstn.to_string(),
        did: None,
        hunting: Hunting::Ascending,
        channels: None,
        inbound_css: inbound_css.map(Into::into),
        cause_map: vec![],
    };
    let route = |pattern: &str, description: &str, discard_predot: bool| Pattern {
        partition: PSTN.into(),
        pattern: pattern.into(),
        kind: PatternKind::Route,
        description: description.into(),
        route_list: Some(ROUTE_LIST.into()),
        css: None,
        called: Transformation {
            discard_predot,
            prefix: String::new(),
            mask: None,
        },
        calling: Transformation::default(),
    };
    let line = |dn: &str, device: &str, e164: Option<&str>, display: &str| Line {
        partition: INTERNAL.into(),
        dn: dn.into(),
        device: device.into(),
        position: 1,
        e164: e164.map(Into::into),
        directory_uri: None,
        display_name: display.into(),
        call_forward_all: None,
        dnd: false,
    };
    let rd = |name: &str, number: &str, active: bool| RemoteDestination {
        device: "CTRIDalice".into(),
        name: name.into(),
        number: number.into(),
        active,
        ring_schedule: None,
        answer_too_soon_ms: 1500,
        answer_too_late_ms: 19000,
        delay_before_ringing_ms: 4000,
    };
    let mut objects = vec![
        Object::Partition(partition(INTERNAL, "Directory numbers")),
        Object::Partition(partition(PSTN, "Routes to the PSTN")),
        Object::Css(css(
            INTERNAL_CSS,
            "Phones: internal numbers and the PSTN",
            &[INTERNAL, PSTN],
        )),
        Object::Css(css(
            REROUTE_CSS,
            "Remote destinations: validated and reached through the PSTN",
            &[PSTN],
        )),
        Object::Css(css(
            INBOUND_CSS,
            "Calls arriving from the PSTN reach directory numbers",
            &[INTERNAL],
        )),
        Object::Trunk(trunk(OUTBOUND_TRUNK, None)),
        Object::Trunk(trunk(INBOUND_TRUNK, Some(INBOUND_CSS))),
        Object::RouteGroup(RouteGroup {
            name: ROUTE_GROUP.into(),
            distribution: Distribution::TopDown,
            trunks: vec![OUTBOUND_TRUNK.into()],
        }),
        Object::RouteList(RouteList {
            name: ROUTE_LIST.into(),
            description: "Outbound to the PSTN simulator".into(),
            groups: vec![ROUTE_GROUP.into()],
        }),
        Object::Pattern(route("9.!", "Outside line: 9 then any number", true)),
        Object::Pattern(route("\\+1!", "E.164 numbers in country code 1", false)),
        Object::User(User {
            id: "alice".into(),
            name: "Alice Example".into(),
            mobility_enabled: true,
            cti_enabled: true,
            max_remote_destinations: 4,
            admin: false,
            associated_devices: Vec::new(),
            password: Some(ALICE_PASSWORD.into()),
        }),
        Object::User(User {
            id: "bob".into(),
            name: "Bob Example".into(),
            mobility_enabled: false,
            cti_enabled: true,
            max_remote_destinations: 4,
            admin: false,
            associated_devices: Vec::new(),
            password: Some(BOB_PASSWORD.into()),
        }),
        Object::Device(Device {
            name: "CTRIDalice".into(),
            kind: DeviceKind::CtiRemoteDevice,
            owner: Some("alice".into()),
            description: "Alice's CTI remote device".into(),
            display_name: "Alice Example".into(),
            css: Some(INTERNAL_CSS.into()),
            reroute_css: Some(REROUTE_CSS.into()),
            route_to_all_rds_when_none_active: false,
            sip_username: None,
            sip_password: None,
        }),
        Object::Device(Device {
            name: "SIPbob".into(),
            kind: DeviceKind::SipPhone,
            owner: Some("bob".into()),
            description: "Bob's SIP phone".into(),
            display_name: "Bob Example".into(),
            css: Some(INTERNAL_CSS.into()),
            reroute_css: None,
            route_to_all_rds_when_none_active: false,
            sip_username: Some(BOB_SIP_USER.into()),
            sip_password: Some(BOB_SIP_PASSWORD.into()),
        }),
        Object::Line(line(
            "2000",
            "CTRIDalice",
            Some("+14082002000"),
            "Alice Example",
        )),
        Object::Line(line("2001", "SIPbob", None, "Bob Example")),
        Object::RemoteDestination(rd("JabberRD", "+14157777777", true)),
        Object::RemoteDestination(rd("Mobile", "+14155550100", false)),
    ];
    objects.extend(scenarios::objects(&pstn.to_string()));
    objects.into_iter().map(Change::Create).collect()
}
