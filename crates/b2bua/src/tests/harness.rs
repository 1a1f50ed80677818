//! A test bench around one engine: a provisioning snapshot like the demo's, a virtual clock,
//! and helpers to play the caller (a PSTN trunk or a phone) and the far end behind the trunk.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tether_sip::peer::{Peer, Transport};
use tether_sip::{HeaderName, Message, Method};
use tether_store::model::*;
use tether_store::provisioning::Provisioning;
use tether_store::{NumberingPlan, Snapshot};

use crate::output::Output;
use crate::{Cdr, Engine, EngineConfig};

pub const TETHER: &str = "10.0.0.1:5060";
/// The PSTN gateway: the inbound trunk's and the outbound trunk's peer.
pub const PSTN: &str = "10.0.0.2:5060";
pub const STRANGER: &str = "10.0.0.66:5060";
/// Dave's SIP phone.
pub const PHONE: &str = "10.0.0.20:5062";

pub fn peer(s: &str) -> Peer {
    Peer::new(Transport::Udp, s.parse::<SocketAddr>().expect("address"))
}

fn rd(device: &str, name: &str, number: &str, active: bool) -> Object {
    Object::RemoteDestination(RemoteDestination {
        device: device.into(),
        name: name.into(),
        number: number.into(),
        active,
        ring_schedule: None,
        answer_too_soon_ms: 1500,
        answer_too_late_ms: 19000,
        delay_before_ringing_ms: 4000,
    })
}

/// Demo-like provisioning: alice's CTRIDalice on 2000 with JabberRD (active) and Mobile; bob's
/// CTRIDbob on 2002 with two inactive RDs and route-to-all; carol's CTRIDcarol on 2003 with
/// none active; a PSTN trunk (4 channels) at `PSTN` for both directions.
pub fn provisioning(channels: Option<u32>) -> Provisioning {
    let mut p = Provisioning::default();
    let objects = vec![
        Object::Partition(Partition {
            name: "Internal".into(),
            description: String::new(),
        }),
        Object::Partition(Partition {
            name: "PSTN".into(),
            description: String::new(),
        }),
        Object::Css(Css {
            name: "Internal-CSS".into(),
            description: String::new(),
            partitions: vec!["Internal".into(), "PSTN".into()],
        }),
        Object::Css(Css {
            name: "Reroute-CSS".into(),
            description: String::new(),
            partitions: vec!["PSTN".into()],
        }),
        Object::Css(Css {
            name: "Inbound-CSS".into(),
            description: String::new(),
            partitions: vec!["Internal".into()],
        }),
        Object::Trunk(Trunk {
            name: "pstn".into(),
            kind: TrunkKind::Sip,
            peer: PSTN.into(),
            did: None,
            hunting: Hunting::Ascending,
            channels,
            inbound_css: Some("Inbound-CSS".into()),
            cause_map: vec![],
        }),
        Object::RouteGroup(RouteGroup {
            name: "rg".into(),
            distribution: Distribution::TopDown,
            trunks: vec!["pstn".into()],
        }),
        Object::RouteList(RouteList {
            name: "rl".into(),
            description: String::new(),
            groups: vec!["rg".into()],
        }),
        Object::Pattern(Pattern {
            partition: "PSTN".into(),
            pattern: "9.!".into(),
            kind: PatternKind::Route,
            description: String::new(),
            route_list: Some("rl".into()),
            css: None,
            called: Transformation {
                discard_predot: true,
                prefix: String::new(),
                mask: None,
            },
            calling: Transformation::default(),
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
    ];
    for o in objects {
        p.put(o);
    }
    for (user, dn, fork) in [
        ("alice", "2000", false),
        ("bob", "2002", true),
        ("carol", "2003", false),
    ] {
        p.put(Object::User(User {
            id: user.into(),
            name: user.into(),
            mobility_enabled: true,
            cti_enabled: true,
            max_remote_destinations: 4,
            admin: false,
            associated_devices: Vec::new(),
            password: None,
        }));
        let dev = format!("CTRID{user}");
        p.put(Object::Device(Device {
            name: dev.clone(),
            kind: DeviceKind::CtiRemoteDevice,
            owner: Some(user.into()),
            description: String::new(),
            display_name: String::new(),
            css: Some("Internal-CSS".into()),
            reroute_css: Some("Reroute-CSS".into()),
            route_to_all_rds_when_none_active: fork,
            sip_username: None,
            sip_password: None,
        }));
        p.put(Object::Line(Line {
            partition: "Internal".into(),
            dn: dn.into(),
            device: dev,
            position: 1,
            e164: Some(format!("+1408200{dn}")),
            directory_uri: None,
            display_name: String::new(),
            call_forward_all: None,
            dnd: false,
        }));
    }
    p.put(Object::User(User {
        id: "dave".into(),
        name: "dave".into(),
        mobility_enabled: false,
        cti_enabled: false,
        max_remote_destinations: 4,
        admin: false,
        associated_devices: Vec::new(),
        password: None,
    }));
    p.put(Object::Device(Device {
        name: "SIPdave".into(),
        kind: DeviceKind::SipPhone,
        owner: Some("dave".into()),
        description: String::new(),
        display_name: String::new(),
        css: Some("Internal-CSS".into()),
        reroute_css: None,
        route_to_all_rds_when_none_active: false,
        sip_username: Some("dave".into()),
        sip_password: Some("dave-secret".into()),
    }));
    p.put(Object::Line(Line {
        partition: "Internal".into(),
        dn: "2001".into(),
        device: "SIPdave".into(),
        position: 1,
        e164: None,
        directory_uri: None,
        display_name: "Dave".into(),
        call_forward_all: None,
        dnd: false,
    }));
    p.put(rd("CTRIDalice", "JabberRD", "+14157777777", true));
    p.put(rd("CTRIDalice", "Mobile", "+14155550100", false));
    p.put(rd("CTRIDbob", "Home", "+14155550201", false));
    p.put(rd("CTRIDbob", "Mobile", "+14155550202", false));
    p
}

/// A bench whose engine anchors media on ports 30,000–30,009 (5 pairs).
pub fn anchored_bench(p: Provisioning) -> Bench {
    Bench::with_config(p, |c| {
        c.media = Some(crate::media::MediaConfig {
            address: "10.0.0.1".parse().expect("ip"),
            port_min: 30_000,
            port_max: 30_009,
        });
    })
}

/// Whether `needle` occurs anywhere in the message as sent.
pub fn contains(m: &Message, needle: &str) -> bool {
    m.to_bytes()
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The `user` part of `m`'s Request-URI.
pub fn ruri_user(m: &Message) -> Option<String> {
    m.request_uri().and_then(|u| u.user().map(str::to_owned))
}

pub fn snapshot(p: Provisioning) -> Arc<Snapshot> {
    Arc::new(Snapshot::build(p, NumberingPlan::north_american(), 1).expect("valid provisioning"))
}

/// The engine under test with its virtual clock and everything it emitted.
pub struct Bench {
    pub engine: Engine,
    pub now: Instant,
    pub sent: Vec<(Peer, Message)>,
    pub cdrs: Vec<Cdr>,
    pub events: Vec<crate::output::CallEvent>,
    pub media: Vec<crate::media::MediaCommand>,
    /// CTI events at devices, in order.
    pub device_events: Vec<crate::control::DeviceEvent>,
}

impl Bench {
    pub fn new(p: Provisioning) -> Bench {
        Bench::with_config(p, |_| {})
    }

    /// A bench whose engine settings `tune` adjusts first.
    pub fn with_config(p: Provisioning, tune: impl FnOnce(&mut EngineConfig)) -> Bench {
        let now = Instant::now();
        let mut cfg = EngineConfig::new(peer(TETHER), "tether.test");
        tune(&mut cfg);
        let engine = Engine::new(cfg, snapshot(p), 7, now, 1_700_000_000_000).expect("engine");
        Bench {
            engine,
            now,
            sent: Vec::new(),
            cdrs: Vec::new(),
            events: Vec::new(),
            media: Vec::new(),
            device_events: Vec::new(),
        }
    }

    pub fn collect(&mut self) {
        while let Some(o) = self.engine.poll_output() {
            match o {
                Output::Transmit { to, message } => self.sent.push((to, message)),
                Output::Cdr(c) => self.cdrs.push(*c),
                Output::Event(e) => self.events.push(e),
                Output::Media(m) => self.media.push(m),
                Output::Device(d) => self.device_events.push(d),
            }
        }
    }

    /// Delivers `msg` from `from` (parsed from its bytes, as a transport would).
    pub fn deliver(&mut self, msg: &Message, from: &str) {
        let bytes = msg.to_bytes();
        let parsed = Message::parse(bytes).expect("test messages parse");
        self.engine.handle_message(self.now, parsed, peer(from));
        self.collect();
    }

    /// Advances virtual time by `d`, firing every timer due on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.engine.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.engine.handle_timeout(self.now);
            self.collect();
        }
        self.now = end;
    }

    /// Removes and returns the CTI events `device` got so far (the others stay).
    pub fn events_of(&mut self, device: &str) -> Vec<crate::control::DeviceEventKind> {
        let (mine, rest): (Vec<_>, Vec<_>) = self
            .device_events
            .drain(..)
            .partition(|e| e.device == device);
        self.device_events = rest;
        mine.into_iter().map(|e| e.kind).collect()
    }

    /// Removes and returns the requests with `method` sent to `to` (others to `to` are dropped).
    pub fn requests_to(&mut self, to: &str, method: Method) -> Vec<Message> {
        self.take_to(to)
            .into_iter()
            .filter(|m| m.method() == Some(&method))
            .collect()
    }

    /// Removes and returns the messages sent to `to` so far.
    pub fn take_to(&mut self, to: &str) -> Vec<Message> {
        let p = peer(to);
        let (mine, rest): (Vec<_>, Vec<_>) = self.sent.drain(..).partition(|(t, _)| *t == p);
        self.sent = rest;
        mine.into_iter().map(|(_, m)| m).collect()
    }

    /// The one request with `method` sent to `to` (panics otherwise, naming what was sent).
    pub fn expect_request(&mut self, to: &str, method: Method) -> Message {
        let msgs = self.take_to(to);
        let found: Vec<_> = msgs
            .iter()
            .filter(|m| m.method() == Some(&method))
            .cloned()
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {method} to {to}, got {:?}",
            summary(&msgs)
        );
        found.into_iter().next().expect("one")
    }

    /// The statuses sent to `to` for requests with `method`, in order (removing them).
    pub fn statuses_to(&mut self, to: &str, method: Method) -> Vec<u16> {
        self.take_to(to)
            .into_iter()
            .filter(|m| m.cseq().is_some_and(|c| c.method == method))
            .filter_map(|m| m.status())
            .collect()
    }
}

pub fn summary(msgs: &[Message]) -> Vec<String> {
    msgs.iter()
        .map(|m| match m.status() {
            Some(s) => format!(
                "{s} {}",
                m.cseq().map(|c| c.method.to_string()).unwrap_or_default()
            ),
            None => m.method().map(|x| x.to_string()).unwrap_or_default(),
        })
        .collect()
}

pub const SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// An INVITE from `from_addr` (a caller) for `to_user`.
pub fn invite(call_id: &str, from_user: &str, to_user: &str, from_addr: &str) -> Message {
    let text = format!(
        "INVITE sip:{to_user}@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {from_addr};branch=z9hG4bK{call_id}\r\nMax-Forwards: 70\r\nFrom: <sip:{from_user}@pstn.test>;tag=a{call_id}\r\nTo: <sip:{to_user}@10.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:{from_user}@{from_addr}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    );
    Message::parse(text.into_bytes()).expect("invite parses")
}

/// The far end's response to `req` (with To tag `tag` and a Contact).
pub fn answer(req: &Message, code: u16, tag: &str, sdp: bool) -> Message {
    let mut r = Message::response_to(req, code, Message::default_reason(code), Some(tag));
    if (101..300).contains(&code) {
        r.push_header(HeaderName::Contact, &format!("<sip:far@{PSTN}>"))
            .expect("contact");
    }
    if sdp {
        r.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
            .expect("sdp");
    }
    r
}

/// An in-dialog request (ACK, BYE) from the caller for the dialog `resp` (a 2xx to `inv`) made.
pub fn in_dialog(
    inv: &Message,
    resp: &Message,
    method: Method,
    seq: u32,
    from_addr: &str,
    branch: &str,
) -> Message {
    let to = resp.header_value(&HeaderName::To).expect("to");
    let from = inv.header_value(&HeaderName::From).expect("from");
    let target = resp
        .contact()
        .ok()
        .flatten()
        .map(|c| c.uri.to_string())
        .unwrap_or_else(|| "sip:tether@10.0.0.1:5060".into());
    let text = format!(
        "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {from_addr};branch=z9hG4bK{branch}\r\nMax-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n",
        inv.call_id().expect("call-id")
    );
    Message::parse(text.into_bytes()).expect("in-dialog request parses")
}

/// The far end's request in the dialog Tether's INVITE `inv` (as received) and our 2xx `ok` made.
pub fn far_in_dialog(
    inv: &Message,
    ok: &Message,
    method: Method,
    seq: u32,
    branch: &str,
) -> Message {
    let to = ok.header_value(&HeaderName::To).expect("to");
    let from = inv.header_value(&HeaderName::From).expect("from");
    let target = inv
        .contact()
        .ok()
        .flatten()
        .expect("tether contact")
        .uri
        .to_string();
    let text = format!(
        "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {PSTN};branch=z9hG4bK{branch}\r\nMax-Forwards: 70\r\nFrom: {to}\r\nTo: {from}\r\nCall-ID: {}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n",
        inv.call_id().expect("call-id")
    );
    Message::parse(text.into_bytes()).expect("far in-dialog request parses")
}

/// A REGISTER from dave's phone, with `auth` as its Authorization value.
pub fn register(seq: u32, expires: u32, auth: Option<&str>) -> Message {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let text = format!(
        "REGISTER sip:tether.test SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE};branch=z9hG4bKreg{seq}\r\nMax-Forwards: 70\r\nFrom: <sip:dave@tether.test>;tag=reg\r\nTo: <sip:dave@tether.test>\r\nCall-ID: reg-dave\r\nCSeq: {seq} REGISTER\r\nContact: <sip:dave@{PHONE}>;expires={expires}\r\n{auth}Content-Length: 0\r\n\r\n"
    );
    Message::parse(text.into_bytes()).expect("register parses")
}

/// Registers dave's phone through the digest challenge.
pub fn register_phone(b: &mut Bench) {
    use tether_sip::auth::{answer as digest_answer, Challenge, ClientRequest, NonceCount};
    b.deliver(&register(1, 600, None), PHONE);
    let r = b
        .take_to(PHONE)
        .into_iter()
        .find(|m| m.status() == Some(401))
        .expect("401 challenge");
    let value = r
        .headers_named(&HeaderName::WwwAuthenticate)
        .last()
        .expect("challenge")
        .value()
        .to_owned();
    let ch = Challenge::parse(&value).expect("challenge parses");
    let creds = digest_answer(
        &ch,
        &ClientRequest {
            username: "dave",
            password: "dave-secret",
            method: "REGISTER",
            uri: "sip:tether.test",
            cnonce: "c1",
            nc: NonceCount::parse("00000001").expect("nc"),
        },
    )
    .expect("answer");
    b.deliver(&register(2, 600, Some(&creds.to_header_value())), PHONE);
    let ok = b
        .take_to(PHONE)
        .into_iter()
        .find(|m| m.status().is_some())
        .expect("response");
    assert_eq!(ok.status(), Some(200), "registered");
    assert_eq!(b.engine.registrations(), 1);
}
