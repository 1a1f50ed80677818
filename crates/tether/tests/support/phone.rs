//! A SIP phone's registration for the real-process tests: REGISTER from a chosen loopback
//! port, Tether's digest challenge answered with tether-sip's client, then the socket is let
//! go so that SIPp, started on the same port (`-p`), is the registered phone — Tether knows a
//! phone by the exact address it registered from.
//!
//! Why not SIPp itself: SIPp 3.6 answers only MD5 and reads only the first `WWW-Authenticate`,
//! while Tether offers SHA-256 first and MD5 second (RFC 8760 §2.4, a challenge per algorithm,
//! the preferred one first), so SIPp's `[authentication]` gives up.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use tether_sip::auth::{answer_best, ClientRequest, NonceCount};

const WAIT: Duration = Duration::from_secs(10);

/// Registers SIP user `user` (`password`) with contact `sip:user@127.0.0.1:port`, from that
/// port, for an hour; returns Tether's 200. Panics on anything else.
pub fn register(server: SocketAddr, port: u16, user: &str, password: &str) -> String {
    let sock = UdpSocket::bind(("127.0.0.1", port)).unwrap_or_else(|e| panic!("bind {port}: {e}"));
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let uri = format!("sip:{server}");
    let call_id = format!("reg-{port}-{}@127.0.0.1", std::process::id());
    let request = |cseq: u32, auth: Option<&str>| {
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-reg-{port}-{cseq}\r\n\
             From: <sip:{user}@{server}>;tag=reg{port}\r\n\
             To: <sip:{user}@{server}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: <sip:{user}@127.0.0.1:{port}>\r\n\
             {auth}Expires: 3600\r\n\
             Max-Forwards: 70\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    let challenge = exchange(&sock, server, &request(1, None), 1);
    assert!(challenge.starts_with("SIP/2.0 401 "), "{challenge}");
    let offers: Vec<&str> = challenge
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case("WWW-Authenticate"))
        .map(|(_, v)| v.trim())
        .collect();
    let creds = answer_best(
        offers.iter().copied(),
        &ClientRequest {
            username: user,
            password,
            method: "REGISTER",
            uri: &uri,
            cnonce: "tether-test",
            nc: NonceCount::FIRST,
        },
    )
    .unwrap_or_else(|e| panic!("cannot answer {offers:?}: {e:?}"));
    let ok = exchange(
        &sock,
        server,
        &request(2, Some(&creds.to_header_value())),
        2,
    );
    assert!(ok.starts_with("SIP/2.0 200 "), "{ok}");
    ok
}

/// Sends `text` and returns the first response whose CSeq number is `cseq` (bounded wait).
fn exchange(sock: &UdpSocket, server: SocketAddr, text: &str, cseq: u32) -> String {
    sock.send_to(text.as_bytes(), server).expect("send");
    let deadline = Instant::now() + WAIT;
    let mut buf = [0u8; 8192];
    while Instant::now() < deadline {
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let got = String::from_utf8_lossy(&buf[..n]).into_owned();
        let seq = got
            .lines()
            .find_map(|l| l.strip_prefix("CSeq:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u32>().ok());
        if seq == Some(cseq) {
            return got;
        }
    }
    panic!("no answer to\n{text}");
}
