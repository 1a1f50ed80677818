//! Fuzzes the SDP parser and offer/answer: nothing panics, and what parses round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_sdp::SessionDescription;

fuzz_target!(|data: &[u8]| {
    if let Ok(sdp) = SessionDescription::parse(data) {
        let text = sdp.to_string();
        let again = SessionDescription::parse(text.as_bytes()).expect("serialized SDP must parse");
        assert_eq!(again.to_string(), text);
        let caps = tether_sdp::Capabilities::new("127.0.0.1:40000".parse().expect("addr"));
        let origin = tether_sdp::Origin::new(1, "127.0.0.1".parse().expect("ip"));
        let _ = tether_sdp::answer_offer(&sdp, &caps, origin);
    }
});
