//! Tests of received/rport stamping (RFC 3261 §18.2.1, the RFC 3581 examples) and of response
//! routing (RFC 3261 §18.2.2, RFC 3581 §4).

use super::*;

fn request(via: &str) -> Message {
    let s = format!(
        "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: {via}\r\nTo: <sip:bob@example.com>\r\n\
         From: <sip:a@example.com>;tag=1\r\nCall-ID: x1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    Message::parse(s.into_bytes()).unwrap()
}

fn response(via: &str) -> Message {
    let req = request(via);
    Message::response_to(&req, 200, "OK", Some("t"))
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn rfc3581_example_nat() {
    // RFC 3581 §4: a client at 10.1.1.1:4540 behind a NAT mapped to 192.0.2.1:9988.
    let mut m = request("SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff");
    assert!(stamp_received(&mut m, sa("192.0.2.1:9988")).unwrap());
    let v = m.top_via().unwrap();
    assert_eq!(v.received(), Some("192.0.2.1"));
    assert_eq!(v.rport(), Some(Some(9988)));
    assert_eq!(v.branch(), Some("z9hG4bKkjshdyff"));
    assert_eq!((&*v.host, v.port), ("10.1.1.1", Some(4540)));
    // The response to it goes to the NAT binding.
    let route = response_route(&Message::response_to(&m, 200, "OK", None), None).unwrap();
    assert_eq!(
        route.destination,
        Destination::Addr(Peer::new(Transport::Udp, sa("192.0.2.1:9988")))
    );
    assert_eq!(route.connection, None);
}

#[test]
fn rport_adds_received_even_when_equal_to_sent_by() {
    let mut m = request("SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1");
    assert!(stamp_received(&mut m, sa("192.0.2.1:5060")).unwrap());
    let v = m.top_via().unwrap();
    assert_eq!(v.received(), Some("192.0.2.1"));
    assert_eq!(v.rport(), Some(Some(5060)));
}

#[test]
fn received_only_when_host_differs() {
    let mut m = request("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1");
    assert!(!stamp_received(&mut m, sa("192.0.2.1:7777")).unwrap());
    assert_eq!(m.top_via().unwrap().received(), None);

    let mut m = request("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1");
    assert!(stamp_received(&mut m, sa("192.0.2.9:5060")).unwrap());
    assert_eq!(m.top_via().unwrap().received(), Some("192.0.2.9"));
    assert_eq!(m.top_via().unwrap().rport(), None, "no rport unless asked");

    // RFC 3261 §18.2.1's example: a domain name in sent-by always gets received.
    let mut m = request("SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bK1");
    assert!(stamp_received(&mut m, sa("192.0.2.4:5060")).unwrap());
    assert_eq!(m.top_via().unwrap().received(), Some("192.0.2.4"));
}

#[test]
fn ipv6_sent_by_compares_without_brackets() {
    let mut m = request("SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bK1");
    assert!(!stamp_received(&mut m, sa("[2001:db8::9:1]:5060")).unwrap());
    let mut m = request("SIP/2.0/UDP [2001:db8::9:1]:5060;rport;branch=z9hG4bK1");
    assert!(stamp_received(&mut m, sa("[2001:db8::9:2]:6000")).unwrap());
    let v = m.top_via().unwrap();
    assert_eq!(v.received(), Some("2001:db8::9:2"));
    let route = response_route(&Message::response_to(&m, 200, "OK", None), None).unwrap();
    assert_eq!(
        route.destination,
        Destination::Addr(Peer::new(Transport::Udp, sa("[2001:db8::9:2]:6000")))
    );
}

#[test]
fn stamping_keeps_other_vias_on_the_same_line() {
    let mut m =
        request("SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2");
    stamp_received(&mut m, sa("192.0.2.1:1234")).unwrap();
    let vias = m.vias().unwrap();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].rport(), Some(Some(1234)));
    assert_eq!(vias[1].branch(), Some("z9hG4bK2"));
    assert_eq!(vias[1].received(), None);
    // The stamped message still serializes and parses.
    let again = Message::parse(m.to_bytes()).unwrap();
    assert_eq!(again.top_via().unwrap().received(), Some("192.0.2.1"));
}

#[test]
fn udp_routing_without_rport() {
    let r = response_route(
        &response("SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1"),
        None,
    )
    .unwrap();
    assert_eq!(
        r.destination,
        Destination::Addr(Peer::new(Transport::Udp, sa("192.0.2.1:5070")))
    );
    let r = response_route(
        &response("SIP/2.0/UDP 192.0.2.1;received=192.0.2.7;branch=z9hG4bK1"),
        None,
    )
    .unwrap();
    assert_eq!(
        r.destination,
        Destination::Addr(Peer::new(Transport::Udp, sa("192.0.2.7:5060")))
    );
    let r = response_route(
        &response("SIP/2.0/UDP pc.example.com:5062;branch=z9hG4bK1"),
        None,
    )
    .unwrap();
    assert_eq!(
        r.destination,
        Destination::Host {
            transport: Transport::Udp,
            host: "pc.example.com".into(),
            port: 5062
        }
    );
}

#[test]
fn udp_routing_maddr_wins() {
    let r = response_route(
        &response("SIP/2.0/UDP 192.0.2.1:5070;maddr=239.255.255.1;received=192.0.2.7;rport=999;branch=z9hG4bK1"),
        None,
    )
    .unwrap();
    assert_eq!(
        r.destination,
        Destination::Addr(Peer::new(Transport::Udp, sa("239.255.255.1:5070")))
    );
}

#[test]
fn reliable_routing_prefers_the_connection() {
    let resp = response(
        "SIP/2.0/TCP client.example.com:5080;received=192.0.2.3;rport=40000;branch=z9hG4bK1",
    );
    let r = response_route(&resp, Some(ConnectionId(7))).unwrap();
    assert_eq!(r.connection, Some(ConnectionId(7)));
    // When the connection is gone: received at the sent-by port (rport is for UDP only).
    assert_eq!(
        r.destination,
        Destination::Addr(Peer::new(Transport::Tcp, sa("192.0.2.3:5080")))
    );
    let r = response_route(&response("SIP/2.0/TLS 192.0.2.3;branch=z9hG4bK1"), None).unwrap();
    assert_eq!(
        r.destination,
        Destination::Addr(Peer::new(Transport::Tls, sa("192.0.2.3:5061")))
    );
}

#[test]
fn unroutable_responses() {
    let r = response_route(&response("SIP/2.0/SCTP 192.0.2.3;branch=z9hG4bK1"), None);
    assert_eq!(r, Err(RouteError::UnsupportedTransport("SCTP".into())));
}
