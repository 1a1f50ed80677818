//! The message the parsing benchmarks use and the typed reads they time, shared by
//! `benches/message.rs` and `examples/parse_loop.rs` so both measure the same thing.

use tether_sip::Message;

/// A 1,011-byte INVITE with SDP and 18 headers.
pub const INVITE: &str = "INVITE sip:2000@tether.example.com;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK4b43c2ff8.1;rport\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK2d4790;received=198.51.100.7\r\n\
Max-Forwards: 69\r\n\
From: \"Alice Example\" <sip:+14155550100@pbx.example.net;user=phone>;tag=1928301774\r\n\
To: <sip:2000@tether.example.com;user=phone>\r\n\
Call-ID: a84b4c76e66710@pc33.pbx.example.net\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:+14155550100@192.0.2.10:5060;transport=udp>\r\n\
Record-Route: <sip:192.0.2.10;lr>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY\r\n\
Supported: 100rel, timer, replaces\r\n\
Session-Expires: 1800;refresher=uac\r\n\
Min-SE: 90\r\n\
P-Asserted-Identity: \"Alice Example\" <sip:+14155550100@pbx.example.net>\r\n\
User-Agent: ExamplePBX/12.5\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 231\r\n\
\r\n\
v=0\r\n\
o=- 1700000000 1700000000 IN IP4 192.0.2.10\r\n\
s=ExamplePBX\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 16384 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

/// Reads what a B2BUA reads of a new INVITE; returns a number so nothing is optimized away.
pub fn typed_access(m: &Message) -> usize {
    let mut n = 0;
    n += m.method().map_or(0, |x| x.as_str().len());
    n += m.request_uri().and_then(|u| u.user()).map_or(0, str::len);
    n += m.top_via().and_then(|v| v.branch()).map_or(0, str::len);
    n += m.from_tag().map_or(0, str::len);
    n += m.to_tag().map_or(0, str::len);
    n += m.call_id().map_or(0, str::len);
    n += m.cseq().map_or(0, |c| c.seq as usize);
    n += m
        .contact()
        .ok()
        .flatten()
        .map_or(0, |c| c.uri.as_str().len());
    n += m
        .content_type()
        .ok()
        .flatten()
        .map_or(0, |c| c.subtype.len());
    n += m.max_forwards().ok().flatten().map_or(0, usize::from);
    n += m.body().len();
    n
}
