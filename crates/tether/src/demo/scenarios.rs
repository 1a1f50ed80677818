//! The scenario devices of the demo: one CTI remote device per call flow that
//! `sip-scenarios/` proves, each with a directory number of its own and remote destinations
//! chosen from the built-in PSTN simulator's dial plan (`[pstn]`: numbers by their last four
//! digits), so every SIPp scenario runs against a plain `tether serve`.
//!
//! | DN | device | remote destinations | what the caller gets |
//! |---|---|---|---|
//! | 2100 | `CTRIDbusy` | `+14155550399` (03xx: busy) | 486, cause 17 |
//! | 2101 | `CTRIDnoanswer` | `+14155550499` (04xx: rings forever) | 180, then 480 (cause 19) at answer-too-late (19 s) |
//! | 2102 | `CTRIDfork` | none active, route to all: `+14155550699` (06xx: voicemail, answers in 0.5 s) and `+14155550299` (02xx: answers after 2 s) | 180, 200 from the person (the voicemail answered too soon and was hung up) |
//! | 2103 | `CTRIDnoactive` | `+14155550199`, not active, no route to all | 486, cause 17 |
//! | 2104 | `CTRIDhangup` | `+14155550899` (08xx, demo rule: answers, hangs up after 2 s) | 200, then a BYE |
//! | 2105 | `CTRIDfxo` | `+14155550198` (01xx: answers at once) over `scenario-fxo`, a one-channel FXO trunk | the first call 200; a second while it lasts 503, cause 34 |
//! | 2106 | `CTRIDunallocated` | `+14155550599` (05xx: unallocated) | 404, cause 1 |
//! | 2107 | `CTRIDecho` | `+14155550799` (07xx: echo) | 200; the audio sent comes back through Tether |
//!
//! The devices belong to user `scenarios` (mobility enabled, no password: nobody logs in as
//! it). `CTRIDfxo` reroutes through its own CSS, whose only route sends every `+1` number to
//! the FXO trunk; the other devices use the demo's `Reroute-CSS` like alice's.
//!
//! The FXO trunk's peer is the simulator's address like the demo's two SIP trunks, so its name
//! must sort after `pstn-sim-in`: a caller at 127.0.0.1 on another port is taken for the first
//! trunk (by name) with that IP, and must stay on the inbound trunk.

use tether_store::model::*;

use super::{INTERNAL, INTERNAL_CSS, REROUTE_CSS};

/// The owner of every scenario device.
pub const OWNER: &str = "scenarios";
/// The one-channel FXO trunk of the trunk-full scenario.
pub const FXO_TRUNK: &str = "scenario-fxo";
pub const FXO_PARTITION: &str = "FXO";
pub const FXO_CSS: &str = "FXO-CSS";
pub const FXO_ROUTE_GROUP: &str = "FXO-RG";
pub const FXO_ROUTE_LIST: &str = "FXO-RL";

/// One scenario device: its name, DN, what it is for, its reroute CSS and route-to-all flag,
/// and its remote destinations (name, number, active).
struct Scenario {
    device: &'static str,
    dn: &'static str,
    what: &'static str,
    reroute_css: &'static str,
    route_to_all: bool,
    rds: &'static [(&'static str, &'static str, bool)],
}

const SCENARIOS: [Scenario; 8] = [
    Scenario {
        device: "CTRIDbusy",
        dn: "2100",
        what: "busy: its remote destination answers 486",
        reroute_css: REROUTE_CSS,
        route_to_all: false,
        rds: &[("Busy", "+14155550399", true)],
    },
    Scenario {
        device: "CTRIDnoanswer",
        dn: "2101",
        what: "no answer: its remote destination rings until answer-too-late",
        reroute_css: REROUTE_CSS,
        route_to_all: false,
        rds: &[("NoAnswer", "+14155550499", true)],
    },
    Scenario {
        device: "CTRIDfork",
        dn: "2102",
        what: "fork to all remote destinations: a voicemail that answers too soon and a person",
        reroute_css: REROUTE_CSS,
        route_to_all: true,
        rds: &[
            ("Voicemail", "+14155550699", false),
            ("Person", "+14155550299", false),
        ],
    },
    Scenario {
        device: "CTRIDnoactive",
        dn: "2103",
        what: "no active remote destination and no route to all: busy",
        reroute_css: REROUTE_CSS,
        route_to_all: false,
        rds: &[("Idle", "+14155550199", false)],
    },
    Scenario {
        device: "CTRIDhangup",
        dn: "2104",
        what: "the remote destination answers and hangs up first",
        reroute_css: REROUTE_CSS,
        route_to_all: false,
        rds: &[("HangsUp", "+14155550899", true)],
    },
    Scenario {
        device: "CTRIDfxo",
        dn: "2105",
        what: "trunk full: its remote destination is reached over a one-channel FXO trunk",
        reroute_css: FXO_CSS,
        route_to_all: false,
        rds: &[("OverFxo", "+14155550198", true)],
    },
    Scenario {
        device: "CTRIDunallocated",
        dn: "2106",
        what: "unallocated: the PSTN says its remote destination's number does not exist",
        reroute_css: REROUTE_CSS,
        route_to_all: false,
        rds: &[("Unallocated", "+14155550599", true)],
    },
    Scenario {
        device: "CTRIDecho",
        dn: "2107",
        what: "echo: its remote destination answers and sends the caller's audio back",
        reroute_css: REROUTE_CSS,
        route_to_all: false,
        rds: &[("Echo", "+14155550799", true)],
    },
];

/// The scenario objects, their FXO trunk peering with `pstn` (the simulator's address).
pub fn objects(pstn: &str) -> Vec<Object> {
    let mut out = vec![
        Object::Partition(Partition {
            name: FXO_PARTITION.into(),
            description: "Scenario trunk-full: every +1 number over the one-channel FXO trunk"
                .into(),
        }),
        Object::Css(Css {
            name: FXO_CSS.into(),
            description: "Scenario trunk-full: remote destinations reached over FXO".into(),
            partitions: vec![FXO_PARTITION.into()],
        }),
        Object::Trunk(Trunk {
            name: FXO_TRUNK.into(),
            kind: TrunkKind::Fxo,
            peer: pstn.to_owned(),
            did: None,
            hunting: Hunting::Ascending,
            // An FXO port carries one call.
            channels: None,
            inbound_css: None,
            cause_map: vec![],
        }),
        Object::RouteGroup(RouteGroup {
            name: FXO_ROUTE_GROUP.into(),
            distribution: Distribution::TopDown,
            trunks: vec![FXO_TRUNK.into()],
        }),
        Object::RouteList(RouteList {
            name: FXO_ROUTE_LIST.into(),
            description: "Scenario trunk-full: the one-channel FXO trunk".into(),
            groups: vec![FXO_ROUTE_GROUP.into()],
        }),
        Object::Pattern(Pattern {
            partition: FXO_PARTITION.into(),
            pattern: "\\+1!".into(),
            kind: PatternKind::Route,
            description: "E.164 numbers in country code 1, over FXO".into(),
            route_list: Some(FXO_ROUTE_LIST.into()),
            css: None,
            called: Transformation::default(),
            calling: Transformation::default(),
        }),
        Object::User(User {
            id: OWNER.into(),
            name: "Scenario devices (sip-scenarios/)".into(),
            mobility_enabled: true,
            cti_enabled: false,
            max_remote_destinations: 4,
            admin: false,
            associated_devices: Vec::new(),
            password: None,
        }),
    ];
    for s in &SCENARIOS {
        out.push(Object::Device(Device {
            name: s.device.into(),
            kind: DeviceKind::CtiRemoteDevice,
            owner: Some(OWNER.into()),
            description: format!("Scenario {}: {}", s.dn, s.what),
            display_name: format!("Scenario {}", s.dn),
            css: Some(INTERNAL_CSS.into()),
            reroute_css: Some(s.reroute_css.into()),
            route_to_all_rds_when_none_active: s.route_to_all,
            sip_username: None,
            sip_password: None,
        }));
        out.push(Object::Line(Line {
            partition: INTERNAL.into(),
            dn: s.dn.into(),
            device: s.device.into(),
            position: 1,
            e164: None,
            directory_uri: None,
            display_name: format!("Scenario {}", s.dn),
            call_forward_all: None,
            dnd: false,
        }));
        for (name, number, active) in s.rds {
            out.push(Object::RemoteDestination(RemoteDestination {
                device: s.device.into(),
                name: (*name).into(),
                number: (*number).into(),
                active: *active,
                ring_schedule: None,
                answer_too_soon_ms: 1500,
                answer_too_late_ms: 19000,
                // Forked legs start at once, so the scenario's voicemail answers 0.5 s in.
                delay_before_ringing_ms: 0,
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A caller at the simulator's IP on another port is taken for the first trunk by name
    /// with that IP: the inbound trunk must come before the FXO trunk.
    #[test]
    fn the_fxo_trunk_sorts_after_the_inbound_trunk() {
        assert!(super::super::INBOUND_TRUNK < FXO_TRUNK);
        assert!(super::super::INBOUND_TRUNK < super::super::OUTBOUND_TRUNK);
    }

    #[test]
    fn every_scenario_has_its_own_dn_and_device() {
        let mut dns: Vec<&str> = SCENARIOS.iter().map(|s| s.dn).collect();
        dns.sort_unstable();
        dns.dedup();
        assert_eq!(dns.len(), SCENARIOS.len());
        let objs = objects("127.0.0.1:5070");
        let devices = objs
            .iter()
            .filter(|o| matches!(o, Object::Device(_)))
            .count();
        assert_eq!(devices, SCENARIOS.len());
    }
}
