//! `tether serve` over real SIP, on SQLite and PostgreSQL: a minimal SIP client written here
//! (UDP sockets on loopback, messages built and read with `tether_sip::Message`) plays the
//! caller on the demo's inbound trunk and the far end behind its outbound trunk (the PSTN
//! simulator's address, `--pstn`). It checks OPTIONS, the 403 for strangers, a call extended to
//! alice's active remote destination end to end, its CDR over REST and CSV, `/metrics`,
//! draining on SIGTERM (new calls 503, the active call finishes, exit 0), and that the next
//! start continues the global call ids. With the built-in PSTN simulator instead of a test far
//! end, the same call is answered by the simulator's dial plan, and a provisioning change over
//! REST reaches the running engine at once. `tether pstn` runs the simulator alone. Every wait
//! polls with a deadline.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Auth, Backend, Env, Server};
use tether_sip::{HeaderName, Message, Method};

both!(
    call_flow_cdrs_metrics_and_drain,
    malformed_requests_get_400_and_logs_can_be_json,
    the_pstn_simulator_answers_and_provisioning_changes_apply_at_once,
);

const DEADLINE: Duration = Duration::from_secs(20);
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
/// Alice's active remote destination in the demo.
const JABBER_RD: &str = "+14157777777";

/// One SIP endpoint of the test: a UDP socket and what it has seen.
struct Endpoint {
    sock: UdpSocket,
    addr: SocketAddr,
    seen: Vec<String>,
}

impl Endpoint {
    fn bind(ip: &str) -> Endpoint {
        let sock = UdpSocket::bind((ip, 0)).expect("bind test socket");
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let addr = sock.local_addr().expect("addr");
        Endpoint {
            sock,
            addr,
            seen: Vec::new(),
        }
    }

    fn send(&self, m: &Message, to: SocketAddr) {
        self.sock.send_to(&m.to_bytes(), to).expect("send");
    }

    /// The next message `want` accepts (others are noted and skipped: retransmissions, 100).
    fn expect(&mut self, what: &str, want: impl Fn(&Message) -> bool) -> (Message, SocketAddr) {
        let deadline = Instant::now() + DEADLINE;
        let mut buf = vec![0u8; 65_536];
        while Instant::now() < deadline {
            let Ok((n, from)) = self.sock.recv_from(&mut buf) else {
                continue;
            };
            let Some(bytes) = buf.get(..n) else { continue };
            let m = match Message::parse(bytes.to_vec()) {
                Ok(m) => m,
                Err(e) => panic!("{what}: tether sent something unparsable ({e})"),
            };
            if want(&m) {
                return (m, from);
            }
            self.seen.push(summary(&m));
        }
        panic!(
            "{what}: not received within {DEADLINE:?} at {}; saw {:?}",
            self.addr, self.seen
        );
    }

    /// The next datagram whose text `want` accepts, as text (for answers that do not parse).
    fn expect_raw(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        let mut buf = vec![0u8; 65_536];
        while Instant::now() < deadline {
            let Ok((n, _)) = self.sock.recv_from(&mut buf) else {
                continue;
            };
            let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
            if want(&text) {
                return text;
            }
            self.seen
                .push(text.lines().next().unwrap_or_default().to_owned());
        }
        panic!(
            "{what}: not received within {DEADLINE:?}; saw {:?}",
            self.seen
        );
    }

    /// The final response to the request with Call-ID `call_id` and CSeq method `method`.
    fn final_response(&mut self, call_id: &str, method: Method) -> Message {
        self.expect(&format!("final response to {method} {call_id}"), |m| {
            m.status().is_some_and(|s| s >= 200)
                && m.call_id() == Some(call_id)
                && m.cseq().is_some_and(|c| c.method == method)
        })
        .0
    }
}

fn summary(m: &Message) -> String {
    match (m.status(), m.method()) {
        (Some(s), _) => format!(
            "{s} {} {}",
            m.cseq().map(|c| c.method.to_string()).unwrap_or_default(),
            m.call_id().unwrap_or_default()
        ),
        (None, Some(method)) => format!("{method} {}", m.call_id().unwrap_or_default()),
        _ => "?".into(),
    }
}

fn parse(text: String) -> Message {
    Message::parse(text.into_bytes()).expect("test messages parse")
}

fn branch() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("z9hG4bKt{}", N.fetch_add(1, Ordering::Relaxed))
}

fn options(from: &Endpoint, tether: SocketAddr, call_id: &str) -> Message {
    parse(format!(
        "OPTIONS sip:{tether} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch={}\r\nMax-Forwards: 70\r\n\
         From: <sip:probe@{}>;tag=p{call_id}\r\nTo: <sip:{tether}>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        from.addr,
        branch(),
        from.addr.ip()
    ))
}

fn invite(
    from: &Endpoint,
    tether: SocketAddr,
    call_id: &str,
    calling: &str,
    called: &str,
) -> Message {
    parse(format!(
        "INVITE sip:{called}@{tether} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch={}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:{calling}@pstn.test>;tag=a{call_id}\r\n\
         To: <sip:{called}@{tether}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:{calling}@{}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        from.addr,
        branch(),
        from.addr,
        SDP.len()
    ))
}

/// A request in the dialog of our INVITE `inv` and the 2xx `ok` that answered it.
fn in_dialog(from: &Endpoint, inv: &Message, ok: &Message, method: Method, seq: u32) -> Message {
    let target = ok
        .contact()
        .ok()
        .flatten()
        .map(|c| c.uri.to_string())
        .expect("the 2xx has a Contact");
    parse(format!(
        "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch={}\r\nMax-Forwards: 70\r\n\
         From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n",
        from.addr,
        branch(),
        inv.header_value(&HeaderName::From).expect("from"),
        ok.header_value(&HeaderName::To).expect("to"),
        inv.call_id().expect("call-id"),
    ))
}

/// The far end's request in the dialog Tether's INVITE `inv` and our answer `ok` made.
fn far_in_dialog(far: &Endpoint, inv: &Message, ok: &Message, method: Method) -> Message {
    let target = inv
        .contact()
        .ok()
        .flatten()
        .map(|c| c.uri.to_string())
        .expect("Tether's INVITE has a Contact");
    parse(format!(
        "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch={}\r\nMax-Forwards: 70\r\n\
         From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n",
        far.addr,
        branch(),
        ok.header_value(&HeaderName::To).expect("to"),
        inv.header_value(&HeaderName::From).expect("from"),
        inv.call_id().expect("call-id"),
    ))
}

/// The far end's answer to `req` (with a Contact at the far end; SDP on 2xx).
fn far_answer(far: &Endpoint, req: &Message, code: u16, tag: &str) -> Message {
    let mut r = Message::response_to(req, code, Message::default_reason(code), Some(tag));
    if (101..300).contains(&code) {
        r.push_header(HeaderName::Contact, &format!("<sip:rd@{}>", far.addr))
            .expect("contact");
    }
    if (200..300).contains(&code) {
        r.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
            .expect("sdp");
    }
    r
}

/// A call from `caller` on the inbound trunk to DN 2000, extended by Tether to alice's active
/// RD at `far`, answered there and ACKed. Returns (our INVITE, the 200 we got, Tether's INVITE
/// to the far end, the far end's 200).
fn answered_call(
    caller: &mut Endpoint,
    far: &mut Endpoint,
    tether: SocketAddr,
    call_id: &str,
) -> (Message, Message, Message, Message) {
    let inv = invite(caller, tether, call_id, "4085551234", "2000");
    caller.send(&inv, tether);
    let (leg, from) = far.expect("Tether's INVITE to the remote destination", |m| {
        m.method() == Some(&Method::Invite)
    });
    assert_eq!(
        leg.request_uri().and_then(|u| u.user()),
        Some(JABBER_RD),
        "extended to alice's active RD"
    );
    assert_eq!(
        leg.from_hdr().and_then(|f| f.uri.user()),
        Some("4085551234"),
        "the caller's number is shown at the RD"
    );
    let tag = format!("rd{call_id}");
    far.send(&far_answer(far, &leg, 180, &tag), from);
    caller.expect("180 relayed to the caller", |m| {
        m.status() == Some(180) && m.call_id() == Some(call_id)
    });
    let far_ok = far_answer(far, &leg, 200, &tag);
    far.send(&far_ok, from);
    let ok = caller.final_response(call_id, Method::Invite);
    assert_eq!(ok.status(), Some(200), "answered");
    assert!(
        !ok.to_bytes()
            .windows(JABBER_RD.len())
            .any(|w| w == JABBER_RD.as_bytes()),
        "the RD number never reaches the caller"
    );
    far.expect("Tether ACKs the RD's 200", |m| {
        m.method() == Some(&Method::Ack) && m.call_id() == leg.call_id()
    });
    caller.send(&in_dialog(caller, &inv, &ok, Method::Ack, 1), tether);
    (inv, ok, leg, far_ok)
}

/// `/metrics` as (name with labels → value).
fn metrics(s: &Server) -> Vec<(String, f64)> {
    let r = s.get("/metrics", &Auth::None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        r.header("content-type")
    );
    r.body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn metric(m: &[(String, f64)], name: &str) -> f64 {
    m.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("{name} missing from /metrics: {m:?}"))
}

/// Polls `check` on `/metrics` until it holds (deadline).
fn wait_metrics(s: &Server, what: &str, check: impl Fn(&[(String, f64)]) -> bool) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let m = metrics(s);
        if check(&m) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: /metrics says {m:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls the CDR list (admin) with `query` until it has `n` records (deadline).
fn wait_cdrs(s: &Server, query: &str, n: u64) -> Vec<Value> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let r = s.get(&format!("/api/v1/cdrs?{query}"), &Auth::Admin);
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        if v["total"].as_u64() == Some(n) {
            return v["items"].as_array().cloned().unwrap_or_default();
        }
        assert!(
            Instant::now() < deadline,
            "expected {n} CDRs for {query:?}, have {v}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start(env: &Env, far: &Endpoint) -> Server {
    let pstn = far.addr.to_string();
    env.start_with(&["--sip", "127.0.0.1:0", "--pstn", &pstn])
}

fn call_flow_cdrs_metrics_and_drain(backend: Backend) {
    let mut far = Endpoint::bind("127.0.0.1");
    let Some(env) = Env::with_config(
        backend,
        true,
        true,
        "[pstn]\nenabled = false\n[sip]\ndrain_seconds = 30\n",
    ) else {
        return;
    };
    let s = start(&env, &far);
    let tether = s.sip_udp.expect("tether printed its UDP address");
    let mut caller = Endpoint::bind("127.0.0.1");

    // OPTIONS is answered.
    caller.send(&options(&caller, tether, "opt1"), tether);
    assert_eq!(
        caller.final_response("opt1", Method::Options).status(),
        Some(200)
    );

    // An INVITE from an address that is neither a trunk nor a registered phone: 403.
    let mut stranger = Endpoint::bind("127.0.0.2");
    stranger.send(
        &invite(&stranger, tether, "strange1", "666", "2000"),
        tether,
    );
    let r = stranger.final_response("strange1", Method::Invite);
    assert_eq!(r.status(), Some(403));
    let m = metrics(&s);
    assert_eq!(metric(&m, "tether_calls_active"), 0.0);
    assert_eq!(metric(&m, "tether_calls_refused_unknown_source_total"), 1.0);
    assert_eq!(
        metric(&m, "tether_call_attempts_total"),
        0.0,
        "a stranger's INVITE is not a call"
    );

    // Call 1: answered at the RD, the caller hangs up.
    let (inv, ok, leg, far_ok) = answered_call(&mut caller, &mut far, tether, "call1");
    let m = metrics(&s);
    assert_eq!(metric(&m, "tether_calls_active"), 1.0);
    assert_eq!(
        metric(&m, "tether_trunk_channels_in_use{trunk=\"pstn-sim-in\"}")
            + metric(&m, "tether_trunk_channels_in_use{trunk=\"pstn-sim-out\"}"),
        2.0,
        "an external call extended to an RD uses two trunks"
    );
    assert_eq!(metric(&m, "tether_bhca"), 1.0, "one outbound call");
    assert_eq!(metric(&m, "tether_call_setup_seconds_count"), 1.0);
    caller.send(&in_dialog(&caller, &inv, &ok, Method::Bye, 2), tether);
    let (bye, from) = far.expect("BYE relayed to the RD", |m| {
        m.method() == Some(&Method::Bye) && m.call_id() == leg.call_id()
    });
    far.send(&Message::response_to(&bye, 200, "OK", None), from);
    assert_eq!(
        caller.final_response("call1", Method::Bye).status(),
        Some(200)
    );
    drop(far_ok);

    let cdrs = wait_cdrs(&s, "called=2000", 1);
    let c = &cdrs[0];
    assert_eq!(c["orig_leg_call_identifier"], "call1");
    assert_eq!(c["calling_party_number"], "4085551234");
    assert_eq!(c["original_called_party_number"], "2000");
    assert_eq!(c["dest_device_name"], "CTRIDalice");
    assert_eq!(c["final_mobile_called_party_number"], JABBER_RD);
    assert_eq!(c["orig_span"], "pstn-sim-in");
    assert_eq!(c["dest_span"], "pstn-sim-out");
    assert_eq!(c["orig_cause_value"], 16, "normal clearing by the caller");
    assert!(c["date_time_connect"].as_u64() >= c["date_time_origination"].as_u64());
    assert!(c["date_time_connect"].as_u64() > Some(0));
    let gcid = c["global_call_id"]
        .as_str()
        .expect("global call id")
        .to_owned();
    assert_eq!(wait_cdrs(&s, &format!("global_call_id={gcid}"), 1).len(), 1);
    let csv = s.get("/api/v1/cdrs.csv?calling=4085551234", &Auth::Admin);
    assert_eq!(csv.status, 200);
    assert!(csv
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    let mut lines = csv.body.lines();
    let header = lines.next().expect("header");
    for col in [
        "globalCallID_callId",
        "origLegCallIdentifier",
        "dateTimeOrigination",
        "callingPartyNumber",
        "originalCalledPartyNumber",
        "finalCalledPartyNumber",
        "finalMobileCalledPartyNumber",
        "origCause_value",
        "destCause_value",
        "dateTimeConnect",
        "dateTimeDisconnect",
        "duration",
    ] {
        assert!(header.split(',').any(|h| h == col), "{col} in {header}");
    }
    let row = lines.next().expect("one record");
    assert!(row.contains(",call1,") && row.contains(JABBER_RD), "{row}");
    assert_eq!(
        s.get("/api/v1/cdrs", &support::basic("alice", "alice"))
            .status,
        403
    );

    let m = metrics(&s);
    assert_eq!(metric(&m, "tether_calls_active"), 0.0);
    assert_eq!(metric(&m, "tether_call_attempts_total"), 1.0);
    assert_eq!(metric(&m, "tether_calls_answered_total"), 1.0);
    assert_eq!(
        metric(&m, "tether_trunk_attempts_total{trunk=\"pstn-sim-out\"}"),
        1.0
    );
    assert_eq!(
        metric(&m, "tether_trunk_channels_in_use{trunk=\"pstn-sim-out\"}"),
        0.0
    );
    assert_eq!(
        metric(&m, "tether_call_setup_seconds_bucket{le=\"+Inf\"}"),
        1.0
    );
    wait_metrics(&s, "the CDR is counted as written", |m| {
        metric(m, "tether_cdrs_written_total") == 1.0
    });

    // Call 2 is up when SIGTERM arrives: new calls get 503, call 2 goes on to its end.
    let (_inv2, ok2, leg2, far_ok2) = answered_call(&mut caller, &mut far, tether, "call2");
    let mut s = s;
    s.signal("TERM");
    wait_metrics(&s, "draining", |m| metric(m, "tether_draining") == 1.0);
    caller.send(
        &invite(&caller, tether, "call3", "4085551234", "2000"),
        tether,
    );
    let refused = caller.final_response("call3", Method::Invite);
    assert_eq!(refused.status(), Some(503));
    assert_eq!(refused.header_value(&HeaderName::RetryAfter), Some("30"));
    assert_eq!(metric(&metrics(&s), "tether_calls_active"), 1.0);
    assert!(
        !s.exited(),
        "an active call keeps the node up while draining"
    );
    // The RD hangs up call 2.
    far.send(&far_in_dialog(&far, &leg2, &far_ok2, Method::Bye), tether);
    let (bye, from) = caller.expect("BYE relayed to the caller", |m| {
        m.method() == Some(&Method::Bye) && m.call_id() == Some("call2")
    });
    caller.send(&Message::response_to(&bye, 200, "OK", None), from);
    drop(ok2);
    let status = s.wait_exit(DEADLINE);
    assert!(
        status.success(),
        "exit after draining: {status}\n{}",
        s.log()
    );
    let log = s.log();
    assert!(log.contains("drained: no call left"), "{log}");
    drop(s);

    // Both calls are on record after a restart, and new calls continue the global call ids.
    let s = start(&env, &far);
    let tether = s.sip_udp.expect("UDP address");
    let all = wait_cdrs(&s, "", 2);
    let ids: Vec<u64> = all
        .iter()
        .map(|c| {
            c["global_call_id"]
                .as_str()
                .and_then(|g| g.parse().ok())
                .expect("numeric id")
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    caller.send(
        &invite(&caller, tether, "call4", "4085551234", "7777"),
        tether,
    );
    assert_eq!(
        caller.final_response("call4", Method::Invite).status(),
        Some(404)
    );
    let refused = wait_cdrs(&s, "called=7777", 1);
    assert_eq!(refused[0]["dest_cause_value"], 1, "unallocated number");
    let id4: u64 = refused[0]["global_call_id"]
        .as_str()
        .and_then(|g| g.parse().ok())
        .expect("numeric id");
    assert!(
        ids.iter().all(|i| id4 > *i),
        "{id4} continues after {ids:?}"
    );
    let status = s.stop();
    assert!(status.success());
}

fn malformed_requests_get_400_and_logs_can_be_json(backend: Backend) {
    let Some(env) = Env::new(backend, true, true) else {
        return;
    };
    let mut s = env.start_with(&["--sip", "127.0.0.1:0", "--log-json"]);
    let tether = s.sip_udp.expect("UDP address");
    let mut c = Endpoint::bind("127.0.0.1");
    // A body shorter than its Content-Length: the transport answers 400.
    let short = format!(
        "INVITE sip:2000@{tether} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch={}\r\nMax-Forwards: 70\r\n\
         From: <sip:a@pstn.test>;tag=1\r\nTo: <sip:2000@{tether}>\r\nCall-ID: bad1\r\n\
         CSeq: 1 INVITE\r\nContent-Length: 500\r\n\r\nv=0\r\n",
        c.addr,
        branch()
    );
    c.sock.send_to(short.as_bytes(), tether).expect("send");
    let (r, _) = c.expect("400 for a short body", |m| m.call_id() == Some("bad1"));
    assert_eq!(r.status(), Some(400));
    // A request without a CSeq: answered 400 from its raw bytes (the answer has no CSeq
    // either, so it is read as text here).
    let no_cseq = format!(
        "OPTIONS sip:{tether} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch={}\r\nMax-Forwards: 70\r\n\
         From: <sip:a@pstn.test>;tag=1\r\nTo: <sip:{tether}>\r\nCall-ID: bad2\r\n\
         Content-Length: 0\r\n\r\n",
        c.addr,
        branch()
    );
    c.sock.send_to(no_cseq.as_bytes(), tether).expect("send");
    let raw = c.expect_raw("400 for a missing CSeq", |t| t.contains("Call-ID: bad2"));
    assert!(raw.starts_with("SIP/2.0 400 "), "{raw}");
    // A Max-Forwards that is not a number: the engine answers 400.
    let mut bad_mf = invite(&c, tether, "bad3", "4085551234", "2000")
        .to_bytes()
        .to_vec();
    let text = String::from_utf8(std::mem::take(&mut bad_mf)).expect("utf-8");
    let text = text.replace("Max-Forwards: 70", "Max-Forwards: seventy");
    c.sock.send_to(text.as_bytes(), tether).expect("send");
    assert_eq!(c.final_response("bad3", Method::Invite).status(), Some(400));
    // Still serving.
    c.send(&options(&c, tether, "ok1"), tether);
    assert_eq!(c.final_response("ok1", Method::Options).status(), Some(200));
    s.signal("INT");
    let status = s.wait_exit(DEADLINE);
    assert!(status.success(), "SIGINT stops it too: {status}");
    let log = s.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 3, "{log}");
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{l}");
    }
}

fn the_pstn_simulator_answers_and_provisioning_changes_apply_at_once(backend: Backend) {
    let Some(env) = Env::with_config(backend, true, true, "[pstn]\nenabled = true\n") else {
        return;
    };
    let s = env.start_with(&["--sip", "127.0.0.1:0", "--pstn", "127.0.0.1:0"]);
    let tether = s.sip_udp.expect("UDP address");
    let mut caller = Endpoint::bind("127.0.0.1");

    // Alice's active RD +14157777777 is "anything else" in the default plan: rings, then
    // answers after a second.
    let inv = invite(&caller, tether, "sim1", "4085551234", "2000");
    caller.send(&inv, tether);
    caller.expect("180 from the simulator, relayed", |m| {
        m.status() == Some(180) && m.call_id() == Some("sim1")
    });
    let ok = caller.final_response("sim1", Method::Invite);
    assert_eq!(ok.status(), Some(200), "answered by the simulator");
    assert!(
        String::from_utf8_lossy(ok.body()).contains("m=audio"),
        "the simulator's SDP answer is relayed"
    );
    caller.send(&in_dialog(&caller, &inv, &ok, Method::Ack, 1), tether);
    wait_metrics(&s, "one call up", |m| {
        metric(m, "tether_calls_active") == 1.0
    });
    caller.send(&in_dialog(&caller, &inv, &ok, Method::Bye, 2), tether);
    assert_eq!(
        caller.final_response("sim1", Method::Bye).status(),
        Some(200)
    );
    let cdr = wait_cdrs(&s, "calling=4085551234", 1);
    assert_eq!(cdr[0]["final_mobile_called_party_number"], JABBER_RD);
    assert_eq!(cdr[0]["dest_span"], "pstn-sim-out");
    assert!(cdr[0]["date_time_connect"].as_u64() > Some(0));

    // A busy remote destination (03xx in the default plan), made active over REST: the next
    // call hears busy, without a restart.
    let path = "/api/v1/remote-destinations/CTRIDalice/JabberRD";
    let mut jabber = s.get(path, &Auth::Admin).json();
    jabber["active"] = Value::Bool(false);
    assert_eq!(s.put(path, &Auth::Admin, &jabber).status, 200);
    s.create(
        "remote-destinations",
        serde_json::json!({"device": "CTRIDalice", "name": "Busy", "number": "+14155550300", "active": true}),
    );
    caller.send(
        &invite(&caller, tether, "sim2", "4085551234", "2000"),
        tether,
    );
    let busy = caller.final_response("sim2", Method::Invite);
    assert_eq!(busy.status(), Some(486), "the simulator's busy is relayed");
    assert_eq!(
        busy.header_value(&HeaderName::Reason),
        Some("Q.850;cause=17")
    );
    let cdr = wait_cdrs(&s, "calling=4085551234", 2);
    assert_eq!(
        cdr[1]["final_mobile_called_party_number"], "",
        "never connected"
    );
    assert_eq!(cdr[1]["dest_cause_value"], 17);
    let status = s.stop();
    assert!(status.success(), "{status}");
}

/// `tether pstn` runs the simulator alone: OPTIONS, and a number that answers at once.
#[test]
fn tether_pstn_runs_the_simulator_alone() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["pstn", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tether pstn");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("tether: pstn listening on ") {
                let _ = tx.send(a.trim().to_owned());
            }
        }
    });
    let addr: SocketAddr = rx
        .recv_timeout(DEADLINE)
        .expect("tether pstn printed its address")
        .parse()
        .expect("address");
    let mut c = Endpoint::bind("127.0.0.1");
    c.send(&options(&c, addr, "popt"), addr);
    assert_eq!(
        c.final_response("popt", Method::Options).status(),
        Some(200)
    );
    // 01xx answers at once.
    let inv = invite(&c, addr, "p1", "2000", "4085550100");
    c.send(&inv, addr);
    let ok = c.final_response("p1", Method::Invite);
    assert_eq!(ok.status(), Some(200));
    c.send(&in_dialog(&c, &inv, &ok, Method::Ack, 1), addr);
    c.send(&in_dialog(&c, &inv, &ok, Method::Bye, 2), addr);
    assert_eq!(c.final_response("p1", Method::Bye).status(), Some(200));
    // 05xx is unallocated.
    c.send(&invite(&c, addr, "p2", "2000", "4085550500"), addr);
    assert_eq!(c.final_response("p2", Method::Invite).status(), Some(404));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "tether pstn did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

/// Two nodes on one PostgreSQL database: a write on one reaches the other within its refresh
/// period (one second), without a restart.
#[test]
fn postgres_nodes_pick_up_each_others_writes() {
    let Some(env) = Env::new(Backend::Postgres, true, true) else {
        return;
    };
    let a = env.start();
    let b = env.start();
    let version = |s: &Server| {
        s.get("/api/v1/health", &Auth::None).json()["snapshot_version"]
            .as_u64()
            .expect("version")
    };
    assert_eq!(version(&a), version(&b));
    let path = "/api/v1/remote-destinations/CTRIDalice/Mobile";
    let mut mobile = a.get(path, &Auth::Admin).json();
    mobile["number"] = Value::String("+14155550188".into());
    assert_eq!(a.put(path, &Auth::Admin, &mobile).status, 200);
    let written = version(&a);
    let deadline = Instant::now() + DEADLINE;
    while version(&b) != written {
        assert!(Instant::now() < deadline, "node b never saw node a's write");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(b.get(path, &Auth::Admin).json()["number"], "+14155550188");
    assert!(b.stop().success());
    assert!(a.stop().success());
}
