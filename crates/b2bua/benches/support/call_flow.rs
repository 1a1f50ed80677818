//! One whole extended call through the engine, shared by the `call` bench and the `calls`
//! example (the instruction-count driver): the provisioning of one CTI remote device with an
//! active RD, and the call flow itself — the PSTN caller's INVITE arrives, the engine extends
//! it to the RD over the outbound trunk, the far end rings and answers, both sides ACK, the
//! caller hangs up, the far end confirms, and the timers run out. Every message is serialized
//! and parsed as on the wire.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tether_b2bua::output::Output;
use tether_b2bua::{Engine, EngineConfig};
use tether_sip::peer::{Peer, Transport};
use tether_sip::{HeaderName, Message, Method};
use tether_store::model::*;
use tether_store::provisioning::Provisioning;
use tether_store::{NumberingPlan, Snapshot};

const TETHER: &str = "10.0.0.1:5060";
const PSTN_IN: &str = "10.0.0.2:5060";
const PSTN_OUT: &str = "10.0.0.3:5060";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";

fn peer(s: &str) -> Peer {
    Peer::new(Transport::Udp, s.parse::<SocketAddr>().expect("address"))
}

fn snapshot() -> Arc<Snapshot> {
    let mut p = Provisioning::default();
    for o in [
        Object::Partition(Partition {
            name: "Internal".into(),
            description: String::new(),
        }),
        Object::Partition(Partition {
            name: "PSTN".into(),
            description: String::new(),
        }),
        Object::Css(Css {
            name: "Reroute".into(),
            description: String::new(),
            partitions: vec!["PSTN".into()],
        }),
        Object::Css(Css {
            name: "Inbound".into(),
            description: String::new(),
            partitions: vec!["Internal".into()],
        }),
        Object::Trunk(Trunk {
            name: "in".into(),
            kind: TrunkKind::Sip,
            peer: PSTN_IN.into(),
            did: None,
            hunting: Hunting::Ascending,
            channels: None,
            inbound_css: Some("Inbound".into()),
            cause_map: vec![],
        }),
        Object::Trunk(Trunk {
            name: "out".into(),
            kind: TrunkKind::Sip,
            peer: PSTN_OUT.into(),
            did: None,
            hunting: Hunting::Ascending,
            channels: None,
            inbound_css: None,
            cause_map: vec![],
        }),
        Object::RouteGroup(RouteGroup {
            name: "rg".into(),
            distribution: Distribution::TopDown,
            trunks: vec!["out".into()],
        }),
        Object::RouteList(RouteList {
            name: "rl".into(),
            description: String::new(),
            groups: vec!["rg".into()],
        }),
        Object::Pattern(Pattern {
            partition: "PSTN".into(),
            pattern: "\\+1!".into(),
            kind: PatternKind::Route,
            description: String::new(),
            route_list: Some("rl".into()),
            css: None,
            called: Transformation::default(),
            calling: Transformation::default(),
        }),
        Object::User(User {
            id: "alice".into(),
            name: "Alice".into(),
            mobility_enabled: true,
            cti_enabled: true,
            max_remote_destinations: 4,
            admin: false,
            associated_devices: Vec::new(),
            password: None,
        }),
        Object::Device(Device {
            name: "CTRIDalice".into(),
            kind: DeviceKind::CtiRemoteDevice,
            owner: Some("alice".into()),
            description: String::new(),
            display_name: String::new(),
            css: None,
            reroute_css: Some("Reroute".into()),
            route_to_all_rds_when_none_active: false,
            sip_username: None,
            sip_password: None,
        }),
        Object::Line(Line {
            partition: "Internal".into(),
            dn: "2000".into(),
            device: "CTRIDalice".into(),
            position: 1,
            e164: Some("+14082002000".into()),
            directory_uri: None,
            display_name: String::new(),
            call_forward_all: None,
            dnd: false,
        }),
        Object::RemoteDestination(RemoteDestination {
            device: "CTRIDalice".into(),
            name: "JabberRD".into(),
            number: "+14157777777".into(),
            active: true,
            ring_schedule: None,
            answer_too_soon_ms: 1500,
            answer_too_late_ms: 19000,
            delay_before_ringing_ms: 4000,
        }),
    ] {
        p.put(o);
    }
    Arc::new(Snapshot::build(p, NumberingPlan::north_american(), 1).expect("valid"))
}

/// An engine provisioned for the call flow, at `now`.
pub fn engine(now: Instant) -> Engine {
    let cfg = EngineConfig::new(peer(TETHER), "bench.test");
    Engine::new(cfg, snapshot(), 1, now, 0).expect("engine")
}

/// Sends `msg` into the engine as bytes off the wire, and returns what it transmitted.
#[inline(always)]
fn wire(e: &mut Engine, now: Instant, msg: &Message, from: &str, sent: &mut Vec<Message>) {
    let m = Message::parse(msg.to_bytes()).expect("parses");
    e.handle_message(now, m, peer(from));
    while let Some(o) = e.poll_output() {
        if let Output::Transmit { message, .. } = o {
            // What the transport would do: serialize.
            std::hint::black_box(message.to_bytes());
            sent.push(message);
        }
    }
}

/// One step of the flow in a function of its own, so that a profile shows its cost apart:
/// the caller's INVITE.
#[inline(never)]
fn step_invite(e: &mut Engine, now: Instant, msg: &Message, from: &str, sent: &mut Vec<Message>) {
    // Distinct bodies: identical functions would be merged into one.
    std::hint::black_box(0);
    wire(e, now, msg, from, sent)
}

/// One step of the flow in a function of its own, so that a profile shows its cost apart:
/// the RD's 180.
#[inline(never)]
fn step_ringing(e: &mut Engine, now: Instant, msg: &Message, from: &str, sent: &mut Vec<Message>) {
    // Distinct bodies: identical functions would be merged into one.
    std::hint::black_box(1);
    wire(e, now, msg, from, sent)
}

/// One step of the flow in a function of its own, so that a profile shows its cost apart:
/// the RD's 200 with SDP.
#[inline(never)]
fn step_answer(e: &mut Engine, now: Instant, msg: &Message, from: &str, sent: &mut Vec<Message>) {
    // Distinct bodies: identical functions would be merged into one.
    std::hint::black_box(2);
    wire(e, now, msg, from, sent)
}

/// One step of the flow in a function of its own, so that a profile shows its cost apart:
/// the caller's ACK.
#[inline(never)]
fn step_ack(e: &mut Engine, now: Instant, msg: &Message, from: &str, sent: &mut Vec<Message>) {
    // Distinct bodies: identical functions would be merged into one.
    std::hint::black_box(3);
    wire(e, now, msg, from, sent)
}

/// One step of the flow in a function of its own, so that a profile shows its cost apart:
/// the caller's BYE.
#[inline(never)]
fn step_bye(e: &mut Engine, now: Instant, msg: &Message, from: &str, sent: &mut Vec<Message>) {
    // Distinct bodies: identical functions would be merged into one.
    std::hint::black_box(4);
    wire(e, now, msg, from, sent)
}

/// One step of the flow in a function of its own, so that a profile shows its cost apart:
/// the RD's 200 to the BYE.
#[inline(never)]
fn step_bye_ok(e: &mut Engine, now: Instant, msg: &Message, from: &str, sent: &mut Vec<Message>) {
    // Distinct bodies: identical functions would be merged into one.
    std::hint::black_box(5);
    wire(e, now, msg, from, sent)
}

pub fn one_call(e: &mut Engine, now: &mut Instant, n: u64) {
    call_without_timers(e, *now, n);
    // Let every timer of the call run out (transactions linger 32 s on UDP).
    *now += Duration::from_secs(40);
    timers_run_out(e, *now);
}

/// One call from INVITE to the 200 to the BYE, all at `now`: its finished transactions are
/// left lingering.
pub fn call_without_timers(e: &mut Engine, now: Instant, n: u64) {
    let up = call_up(e, now, n);
    hang_up(e, now, n, up);
}

/// What a call that is up needs to be hung up.
pub struct Up {
    to: String,
    sent: Vec<Message>,
}

/// One call from INVITE to ACK, at `now`: it stays up.
pub fn call_up(e: &mut Engine, now: Instant, n: u64) -> Up {
    let now = &now;
    let mut sent = Vec::new();
    let cid = format!("bench-{n}");
    let invite = Message::parse(format!(
        "INVITE sip:2000@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {PSTN_IN};branch=z9hG4bK{cid}\r\nMax-Forwards: 70\r\nFrom: <sip:4085551234@pstn.test>;tag=a{n}\r\nTo: <sip:2000@10.0.0.1>\r\nCall-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:4085551234@{PSTN_IN}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    ).into_bytes()).expect("invite");
    step_invite(e, *now, &invite, PSTN_IN, &mut sent);
    let leg = sent
        .iter()
        .find(|m| m.method() == Some(&Method::Invite))
        .cloned()
        .expect("leg");
    let mut ringing = Message::response_to(&leg, 180, "Ringing", Some("far"));
    ringing
        .push_header(HeaderName::Contact, &format!("<sip:rd@{PSTN_OUT}>"))
        .expect("contact");
    step_ringing(e, *now, &ringing, PSTN_OUT, &mut sent);
    let mut ok = Message::response_to(&leg, 200, "OK", Some("far"));
    ok.push_header(HeaderName::Contact, &format!("<sip:rd@{PSTN_OUT}>"))
        .expect("contact");
    ok.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .expect("sdp");
    step_answer(e, *now, &ok, PSTN_OUT, &mut sent);
    let a_ok = sent
        .iter()
        .rev()
        .find(|m| m.status() == Some(200))
        .cloned()
        .expect("200 to caller");
    let to = a_ok.header_value(&HeaderName::To).expect("to").to_owned();
    let ack = Message::parse(format!(
        "ACK sip:tether@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PSTN_IN};branch=z9hG4bKack{n}\r\nMax-Forwards: 70\r\nFrom: <sip:4085551234@pstn.test>;tag=a{n}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    ).into_bytes()).expect("ack");
    step_ack(e, *now, &ack, PSTN_IN, &mut sent);
    Up { to, sent }
}

/// The caller hangs up call `n` and the far end confirms, at `now`.
pub fn hang_up(e: &mut Engine, now: Instant, n: u64, up: Up) {
    let now = &now;
    let Up { to, mut sent } = up;
    let cid = format!("bench-{n}");
    let bye = Message::parse(format!(
        "BYE sip:tether@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PSTN_IN};branch=z9hG4bKbye{n}\r\nMax-Forwards: 70\r\nFrom: <sip:4085551234@pstn.test>;tag=a{n}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    ).into_bytes()).expect("bye");
    step_bye(e, *now, &bye, PSTN_IN, &mut sent);
    let b_bye = sent
        .iter()
        .rev()
        .find(|m| m.method() == Some(&Method::Bye))
        .cloned()
        .expect("BYE to RD");
    step_bye_ok(
        e,
        *now,
        &Message::response_to(&b_bye, 200, "OK", None),
        PSTN_OUT,
        &mut sent,
    );
}

/// The last step: every timer of the call runs out.
#[inline(never)]
pub fn timers_run_out(e: &mut Engine, now: Instant) {
    e.handle_timeout(now);
    while e.poll_output().is_some() {}
}
