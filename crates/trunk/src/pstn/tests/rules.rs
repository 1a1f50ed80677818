//! Each rule of the default plan, with its responses and their timing.

use super::*;
use tether_sdp::{Codec, SessionDescription};

fn number_uri(last4: &str) -> String {
    format!("sip:+1408555{last4}@198.51.100.7")
}

fn sdp_of(m: &Message) -> SessionDescription {
    assert_eq!(
        m.header_value(&HeaderName::ContentType),
        Some("application/sdp")
    );
    SessionDescription::parse(m.body().as_ref()).unwrap()
}

/// A rejection: one final response at once with its cause; the layer retransmits it until
/// the caller's ACK, after which nothing is left.
fn assert_rejects(last4: &str, code: u16, cause: u8) {
    let mut h = Harness::new();
    let inv = invite(&number_uri(last4), &format!("rej-{last4}"), Some(OFFER));
    h.call(inv.clone());
    let got = h.take();
    assert_eq!(got.len(), 1, "{got:?}");
    let (at, resp) = &got[0];
    assert_eq!(*at, Duration::ZERO);
    assert_eq!(status(resp), Some(code));
    assert_eq!(reason_cause(resp), Some(cause));
    assert!(resp.to_tag().is_some());
    assert!(h.sim.calls().is_empty());
    // Unacknowledged over UDP, the final response is retransmitted (timer G)...
    h.run_to(ms(1600));
    assert_eq!(
        h.summary(),
        [(500, code.to_string()), (1500, code.to_string())]
    );
    // ... until the ACK.
    let a = tether_sip::transaction::ack_for_non_2xx(&inv, resp).unwrap();
    h.send(a);
    let s = h.sim.stats();
    assert_eq!((s.offered, s.answered, s.rejected_with(code)), (1, 0, 1));
    h.assert_drains();
    assert!(h.take().is_empty());
}

#[test]
fn number_01xx_answers_at_once() {
    let mut h = Harness::new();
    h.call(invite(&number_uri("0101"), "c0101", Some(OFFER)));
    let got = h.take();
    assert_eq!(got.len(), 1, "no 180 before an immediate answer: {got:?}");
    let (at, ok) = &got[0];
    assert_eq!((*at, status(ok)), (Duration::ZERO, Some(200)));
    assert!(ok.to_tag().is_some());
    let contact = ok.contact().unwrap().unwrap();
    assert_eq!(contact.uri.as_str(), "sip:pstn@198.51.100.7:5070");
    let sdp = sdp_of(ok);
    assert_eq!(sdp.media()[0].port(), 20000);
    assert_eq!(
        sdp.connection().map(|c| c.to_string()),
        Some("IN IP4 198.51.100.7".to_owned())
    );
    // The offer's order: PCMA first, telephone-event kept at 101.
    assert_eq!(sdp.media()[0].formats(), ["8", "0", "101"]);

    let calls = h.sim.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.state, CallState::Confirmed, "the harness ACKed the 200");
    assert_eq!(c.kind, CallKind::Normal);
    assert_eq!(c.rule.as_deref(), Some("01xx"));
    assert_eq!(c.dialed, "14085550101");
    assert_eq!(c.media.local_rtp, "198.51.100.7:20000".parse().unwrap());
    assert_eq!(
        c.media.remote_rtp,
        Some("192.0.2.10:40000".parse().unwrap())
    );
    assert_eq!(c.media.codec, Some(Codec::Pcma));
    assert_eq!(c.answered_at, Some(h.t0));
    // ACKed: no 2xx retransmission.
    h.run_to(Duration::from_secs(40));
    assert!(h.take().is_empty());
    assert_eq!(h.sim.stats().answered, 1);
    assert_eq!(h.sim.stats().active, 1);
}

#[test]
fn number_02xx_rings_then_answers_after_2_s() {
    let mut h = Harness::new();
    h.call(invite(&number_uri("0299"), "c0299", Some(OFFER)));
    assert_eq!(h.summary(), [(0, "180".to_owned())]);
    assert_eq!(h.sim.poll_timeout(), Some(h.at(ms(2000))));
    h.run_to(ms(1999));
    assert!(h.take().is_empty());
    assert_eq!(h.sim.calls()[0].state, CallState::Ringing);
    h.run_to(ms(2000));
    let got = h.take();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].0, status(&got[0].1)), (ms(2000), Some(200)));
    // The 180 and the 200 share the tag of the one dialog.
    assert_eq!(h.sim.calls()[0].state, CallState::Confirmed);
    assert_eq!(h.sim.calls()[0].answered_at, Some(h.at(ms(2000))));
}

#[test]
fn number_03xx_is_busy_486_cause_17() {
    assert_rejects("0300", 486, 17);
}

#[test]
fn number_04xx_rings_forever() {
    let mut h = Harness::new();
    h.call(invite(&number_uri("0400"), "c0400", Some(OFFER)));
    assert_eq!(h.summary(), [(0, "180".to_owned())]);
    // Nothing is scheduled: it never answers.
    assert_eq!(h.sim.poll_timeout(), None);
    h.run_to(Duration::from_secs(600));
    assert!(h.take().is_empty());
    assert_eq!(h.sim.calls()[0].state, CallState::Ringing);
    assert_eq!(h.sim.stats().answered, 0);
}

#[test]
fn number_05xx_is_unallocated_404_cause_1() {
    assert_rejects("0500", 404, 1);
}

#[test]
fn number_06xx_is_voicemail_answering_after_half_a_second() {
    let mut h = Harness::new();
    h.call(invite(&number_uri("0612"), "c0612", Some(OFFER)));
    assert_eq!(h.summary(), [(0, "180".to_owned())]);
    assert_eq!(h.sim.poll_timeout(), Some(h.at(ms(500))));
    h.run_to(ms(500));
    assert_eq!(h.summary(), [(500, "200".to_owned())]);
    let c = &h.sim.calls()[0];
    assert_eq!(c.kind, CallKind::Voicemail);
    assert_eq!(c.rule.as_deref(), Some("06xx"));
}

#[test]
fn number_07xx_is_an_echo_line_answering_at_once() {
    let mut h = Harness::new();
    h.call(invite(&number_uri("0777"), "c0777", Some(OFFER)));
    assert_eq!(h.summary(), [(0, "200".to_owned())]);
    let c = &h.sim.calls()[0];
    assert_eq!(c.kind, CallKind::Echo);
    assert_eq!(c.state, CallState::Confirmed);
}

#[test]
fn number_09xx_is_congested_503_cause_34() {
    assert_rejects("0901", 503, 34);
}

#[test]
fn other_numbers_ring_one_second_then_answer() {
    for (i, last4) in ["0800", "1234", "0010", "9999"].iter().enumerate() {
        let mut h = Harness::new();
        h.call(invite(&number_uri(last4), &format!("o{i}"), Some(OFFER)));
        h.run_to(ms(5000));
        assert_eq!(
            h.summary(),
            [(0, "180".to_owned()), (1000, "200".to_owned())],
            "{last4}"
        );
        assert_eq!(h.sim.calls()[0].rule, None);
    }
    // Short numbers too: the rule patterns need four digits.
    let mut h = Harness::new();
    h.call(invite("sip:101@198.51.100.7", "short", Some(OFFER)));
    h.run_to(ms(5000));
    assert_eq!(
        h.summary(),
        [(0, "180".to_owned()), (1000, "200".to_owned())]
    );
}

#[test]
fn tel_uris_and_visual_separators() {
    let mut h = Harness::new();
    h.call(invite("tel:+1-408-555-0301", "tel1", Some(OFFER)));
    let got = h.take();
    assert_eq!(status(&got[0].1), Some(486));
    let mut h = Harness::new();
    h.call(invite(
        "sip:+1(408)555.0101;isub=1@198.51.100.7;user=phone",
        "tel2",
        Some(OFFER),
    ));
    assert_eq!(h.summary(), [(0, "200".to_owned())]);
    assert_eq!(h.sim.calls()[0].dialed, "14085550101");
}

#[test]
fn a_uri_without_a_number_is_an_invalid_number_format() {
    for (i, uri) in [
        "sip:alice@198.51.100.7",
        "sip:198.51.100.7",
        "sip:+@198.51.100.7",
    ]
    .iter()
    .enumerate()
    {
        let mut h = Harness::new();
        h.call(invite(uri, &format!("nan{i}"), Some(OFFER)));
        let got = h.take();
        assert_eq!(status(&got[0].1), Some(484), "{uri}");
        assert_eq!(reason_cause(&got[0].1), Some(28));
        assert_eq!(h.sim.stats().rejected_with(484), 1);
    }
}
