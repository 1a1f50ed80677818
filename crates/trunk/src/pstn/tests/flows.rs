//! Dialog flows against the simulator: CANCEL, BYE either way, retransmissions, 2xx without
//! ACK, offers in the 200, re-INVITE/UPDATE, OPTIONS, strays and extensions.

use super::*;
use tether_sdp::{Codec, Direction, SessionDescription};
use tether_sip::transaction::{ack_for_non_2xx, cancel_for};

fn only(got: Vec<(Duration, Message)>) -> (Duration, Message) {
    assert_eq!(got.len(), 1, "{got:?}");
    got.into_iter().next().unwrap()
}

fn sdp(m: &Message) -> SessionDescription {
    SessionDescription::parse(m.body().as_ref()).unwrap()
}

fn with_sdp(mut m: Message, body: &str) -> Message {
    m.set_body(Some("application/sdp"), body.as_bytes().to_vec())
        .unwrap();
    m
}

/// Calls 01xx and returns (INVITE, 200) with the 200 ACKed.
fn answered(h: &mut Harness, call_id: &str) -> (Message, Message) {
    let inv = invite("sip:5550101@198.51.100.7", call_id, Some(OFFER));
    h.call(inv.clone());
    let (_, ok) = only(h.take());
    assert_eq!(status(&ok), Some(200));
    (inv, ok)
}

#[test]
fn cancel_on_a_ringing_call_gets_200_and_487() {
    let mut h = Harness::new();
    let inv = invite("sip:5550400@198.51.100.7", "cx", Some(OFFER));
    h.call(inv.clone());
    let (_, ringing) = only(h.take());
    h.run_to(ms(3000));
    h.send(cancel_for(&inv).unwrap());
    let got = h.take();
    assert_eq!(got.len(), 2, "{got:?}");
    let (c200, i487) = (&got[0].1, &got[1].1);
    assert_eq!(status(c200), Some(200));
    assert_eq!(c200.cseq().unwrap().method, Method::Cancel);
    assert_eq!(status(i487), Some(487));
    assert_eq!(i487.cseq().unwrap().method, Method::Invite);
    // Same dialog tag as the 180.
    assert_eq!(i487.to_tag(), ringing.to_tag());
    assert_eq!(got[1].0, ms(3000));
    assert!(h.sim.calls().is_empty());
    let s = h.sim.stats();
    assert_eq!((s.cancelled, s.rejected_with(487), s.active), (1, 1, 0));
    h.send(ack_for_non_2xx(&inv, i487).unwrap());
    h.assert_drains();
}

#[test]
fn bye_from_the_caller_after_answer() {
    let mut h = Harness::new();
    let (inv, ok) = answered(&mut h, "bye1");
    h.run_to(ms(5000));
    h.send(in_dialog(&inv, &ok, Method::Bye, 2, "bye1-2"));
    let (at, r) = only(h.take());
    assert_eq!((at, status(&r)), (ms(5000), Some(200)));
    assert_eq!(r.cseq().unwrap().method, Method::Bye);
    assert!(h.sim.calls().is_empty());
    assert_eq!(h.sim.stats().ended_by_caller, 1);
    // The dialog is gone: a new request in it gets 481.
    h.send(in_dialog(&inv, &ok, Method::Info, 3, "bye1-3"));
    assert_eq!(status(&only(h.take()).1), Some(481));
    h.assert_drains();
}

#[test]
fn retransmitted_invite_is_absorbed() {
    let mut h = Harness::new();
    let inv = invite("sip:5550200@198.51.100.7", "rtx", Some(OFFER));
    h.call(inv.clone());
    assert_eq!(h.summary(), [(0, "180".to_owned())]);
    // The caller's retransmission gets the 180 again from the transaction layer; no new call.
    h.run_to(ms(500));
    h.send(inv.clone());
    assert_eq!(h.summary(), [(500, "180".to_owned())]);
    assert_eq!(h.sim.calls().len(), 1);
    h.run_to(ms(2100));
    assert_eq!(h.summary(), [(2000, "200".to_owned())]);
    // After the 2xx, a late retransmission is absorbed too.
    h.send(inv);
    assert!(h.take().is_empty());
    let s = h.sim.stats();
    assert_eq!((s.offered, s.answered, s.active), (1, 1, 1));
}

#[test]
fn the_200_is_retransmitted_until_the_ack() {
    let mut h = Harness::new();
    h.auto = false;
    let inv = invite("sip:5550101@198.51.100.7", "noack", Some(OFFER));
    h.call(inv.clone());
    let (_, ok) = only(h.take());
    h.run_to(ms(4000));
    assert_eq!(
        h.summary(),
        [
            (500, "200".to_owned()),
            (1500, "200".to_owned()),
            (3500, "200".to_owned())
        ]
    );
    assert_eq!(h.sim.calls()[0].state, CallState::Answered);
    h.send(ack(&inv, &ok));
    assert_eq!(h.sim.calls()[0].state, CallState::Confirmed);
    h.run_to(ms(40_000));
    assert!(h.take().is_empty());
}

#[test]
fn a_200_never_acked_ends_with_bye() {
    let mut h = Harness::new();
    h.auto = false;
    let inv = invite("sip:5550101@198.51.100.7", "lost-ack", Some(OFFER));
    h.call(inv);
    h.take();
    h.run_to(ms(33_000));
    let got = h.take();
    let bye = got
        .iter()
        .find(|(_, m)| method(m) == Some(Method::Bye))
        .expect("a BYE after 64*T1");
    assert_eq!(bye.0, ms(32_000));
    assert!(h.sim.calls().is_empty());
    let s = h.sim.stats();
    assert_eq!((s.ack_timeouts, s.ended_by_network), (1, 1));
    let bye = bye.1.clone();
    h.send(answer(&bye, 200));
    h.assert_drains();
}

#[test]
fn an_invite_without_sdp_gets_an_offer_and_the_ack_answers() {
    let mut h = Harness::new();
    h.auto = false;
    let inv = invite("sip:5550101@198.51.100.7", "late-sdp", None);
    h.call(inv.clone());
    let (_, ok) = only(h.take());
    let offer = sdp(&ok);
    assert_eq!(offer.media()[0].formats(), ["0", "8", "101"]);
    assert_eq!(offer.media()[0].port(), 20000);
    let answer_sdp = "v=0\r\no=- 9 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 41000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    h.send(with_sdp(ack(&inv, &ok), answer_sdp));
    let c = &h.sim.calls()[0];
    assert_eq!(c.state, CallState::Confirmed);
    assert_eq!(c.media.codec, Some(Codec::Pcma));
    assert_eq!(
        c.media.remote_rtp,
        Some("192.0.2.10:41000".parse().unwrap())
    );
}

#[test]
fn reinvite_and_update_are_answered_with_sdp() {
    let mut h = Harness::new();
    let (inv, ok) = answered(&mut h, "reinv");
    let first = sdp(&ok);
    // Hold: the caller re-offers sendonly.
    let hold = OFFER.replace("o=- 7 1", "o=- 7 2") + "a=sendonly\r\n";
    h.send(with_sdp(
        in_dialog(&inv, &ok, Method::Invite, 2, "reinv-2"),
        &hold,
    ));
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(200));
    let held = sdp(&r);
    assert_eq!(held.media()[0].direction(), Some(Direction::RecvOnly));
    assert_eq!(held.media()[0].port(), 20000, "the call keeps its port");
    assert_eq!(
        held.origin().session_version,
        first.origin().session_version + 1
    );
    h.send(ack(&in_dialog(&inv, &ok, Method::Invite, 2, "x"), &r));
    // UPDATE with an offer (resume).
    let resume = OFFER.replace("o=- 7 1", "o=- 7 3");
    h.send(with_sdp(
        in_dialog(&inv, &ok, Method::Update, 3, "reinv-3"),
        &resume,
    ));
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(200));
    let resumed = sdp(&r);
    assert_eq!(resumed.media()[0].direction(), Some(Direction::SendRecv));
    // UPDATE without a body: 200 without one.
    h.send(in_dialog(&inv, &ok, Method::Update, 4, "reinv-4"));
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(200));
    assert!(r.body().is_empty());
    // Re-INVITE without SDP: we offer in the 200, the same description as last time (same
    // version: nothing changed).
    h.send(in_dialog(&inv, &ok, Method::Invite, 5, "reinv-5"));
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(200));
    let offer = sdp(&r);
    assert_eq!(offer.media()[0].formats(), ["0", "8", "101"]);
    assert_eq!(offer.media()[0].port(), 20000);
    assert!(offer.origin().session_version > resumed.origin().session_version);
    // INFO in the dialog: 200. An unknown method: 405 with Allow.
    h.send(in_dialog(&inv, &ok, Method::Info, 6, "reinv-6"));
    assert_eq!(status(&only(h.take()).1), Some(200));
    h.send(in_dialog(&inv, &ok, Method::Subscribe, 7, "reinv-7"));
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(405));
    assert!(r.header_value(&HeaderName::Allow).is_some());
}

#[test]
fn options_out_of_dialog_and_strays() {
    let mut h = Harness::new();
    h.send(request(
        Method::Options,
        "sip:198.51.100.7:5070",
        "opt",
        None,
    ));
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(200));
    assert!(r
        .header_value(&HeaderName::Allow)
        .unwrap()
        .contains("INVITE"));

    // Out of any dialog: BYE gets 481, REGISTER 405 with Allow.
    h.send(request(
        Method::Bye,
        "sip:5550101@198.51.100.7",
        "obye",
        None,
    ));
    assert_eq!(status(&only(h.take()).1), Some(481));
    h.send(request(Method::Register, "sip:198.51.100.7", "reg", None));
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(405));
    assert!(r.header_value(&HeaderName::Allow).is_some());

    // A BYE for a dialog that does not exist.
    let inv = invite("sip:5550101@198.51.100.7", "ghost", Some(OFFER));
    let mut fake_ok = Message::response_to(&inv, 200, "OK", Some("nobody"));
    fake_ok
        .push_header(HeaderName::Contact, "<sip:pstn@198.51.100.7:5070>")
        .unwrap();
    h.send(in_dialog(&inv, &fake_ok, Method::Bye, 2, "ghost-2"));
    assert_eq!(status(&only(h.take()).1), Some(481));
    // A stray ACK changes nothing.
    h.send(ack(&inv, &fake_ok));
    assert!(h.take().is_empty());
    assert_eq!(h.sim.stats().offered, 0);
    h.assert_drains();
}

#[test]
fn the_far_end_hangs_up_before_answer_with_603() {
    let mut h = Harness::new();
    let inv = invite("sip:5550400@198.51.100.7", "decline", Some(OFFER));
    h.call(inv.clone());
    h.take();
    let id = h.sim.find_call("decline").unwrap();
    h.run_to(ms(1500));
    h.hangup(id).unwrap();
    let (at, r) = only(h.take());
    assert_eq!(
        (at, status(&r), reason_cause(&r)),
        (ms(1500), Some(603), Some(21))
    );
    assert_eq!(h.hangup(id), Err(PstnError::UnknownCall(id)));
    h.send(ack_for_non_2xx(&inv, &r).unwrap());
    h.assert_drains();
}

#[test]
fn the_far_end_hangs_up_after_answer_with_bye() {
    let mut h = Harness::new();
    let (_, ok) = answered(&mut h, "farbye");
    let id = h.sim.find_call("farbye").unwrap();
    h.run_to(ms(10_000));
    h.hangup(id).unwrap();
    // The harness answered the BYE with 200 at once.
    let (at, bye) = only(h.take());
    assert_eq!(at, ms(10_000));
    assert_eq!(method(&bye), Some(Method::Bye));
    assert_eq!(reason_cause(&bye), Some(16));
    assert_eq!(
        bye.request_uri().unwrap().as_str(),
        "sip:tether@192.0.2.10:5060"
    );
    assert_eq!(bye.to_tag(), Some("from-farbye"));
    assert_eq!(bye.from_tag(), ok.to_tag());
    let via = bye.top_via().unwrap();
    assert_eq!(via.sent_by(), ("198.51.100.7", Some(5070)));
    assert!(via.is_rfc3261_branch());
    assert!(h.sim.calls().is_empty());
    assert_eq!(h.sim.stats().ended_by_network, 1);
    h.assert_drains();
}

#[test]
fn a_hangup_between_200_and_ack_waits_for_the_ack() {
    let mut h = Harness::new();
    h.auto = false;
    let inv = invite("sip:5550101@198.51.100.7", "early-hup", Some(OFFER));
    h.call(inv.clone());
    let (_, ok) = only(h.take());
    let id = h.sim.find_call("early-hup").unwrap();
    h.hangup(id).unwrap();
    assert!(h.take().is_empty());
    h.run_to(ms(100));
    h.send(ack(&inv, &ok));
    let (at, bye) = only(h.take());
    assert_eq!((at, method(&bye)), (ms(100), Some(Method::Bye)));
    h.send(answer(&bye, 200));
    h.assert_drains();
}

#[test]
fn a_rule_can_hang_up_after_answering() {
    let mut cfg = PstnConfig::default();
    let mut rule = Rule::new("08xx", Behavior::Answer { after_ms: 0 });
    rule.hangup_after_ms = Some(5000);
    cfg.rules.insert(0, rule);
    let mut h = Harness::with(cfg);
    h.call(invite(
        "sip:5550801@198.51.100.7",
        "rd-hangs-up",
        Some(OFFER),
    ));
    h.run_to(ms(10_000));
    assert_eq!(
        h.summary(),
        [(0, "200".to_owned()), (5000, "BYE".to_owned())]
    );
    assert!(h.sim.calls().is_empty());
    h.assert_drains();
}

#[test]
fn the_caller_may_end_the_early_dialog_with_bye() {
    let mut h = Harness::new();
    let inv = invite("sip:5550400@198.51.100.7", "early-bye", Some(OFFER));
    h.call(inv.clone());
    let (_, ringing) = only(h.take());
    h.send(in_dialog(&inv, &ringing, Method::Bye, 2, "early-bye-2"));
    let got = h.take();
    let codes: Vec<(Method, Option<u16>)> = got
        .iter()
        .map(|(_, m)| (m.cseq().unwrap().method.clone(), status(m)))
        .collect();
    assert!(codes.contains(&(Method::Bye, Some(200))), "{codes:?}");
    assert!(codes.contains(&(Method::Invite, Some(487))), "{codes:?}");
    assert!(h.sim.calls().is_empty());
    let r487 = got.iter().find(|(_, m)| status(m) == Some(487)).unwrap();
    h.send(ack_for_non_2xx(&inv, &r487.1).unwrap());
    h.assert_drains();
}

#[test]
fn extensions_media_and_timers_it_cannot_take() {
    // An extension it does not support: 420 naming it.
    let mut h = Harness::new();
    let mut inv = invite("sip:5550101@198.51.100.7", "ext", Some(OFFER));
    inv.push_header(HeaderName::Require, "foo, 100rel").unwrap();
    h.call(inv);
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(420));
    assert_eq!(r.header_value(&HeaderName::Unsupported), Some("foo"));

    // A session interval below 90 s: 422 with Min-SE.
    let mut h = Harness::new();
    let mut inv = invite("sip:5550101@198.51.100.7", "se", Some(OFFER));
    inv.push_header(HeaderName::SessionExpires, "30").unwrap();
    h.call(inv);
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(422));
    assert_eq!(r.header_value(&HeaderName::MinSE), Some("90"));

    // Video only: 488.
    let mut h = Harness::new();
    let video = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=video 5000 RTP/AVP 31\r\n";
    h.call(invite("sip:5550101@198.51.100.7", "video", Some(video)));
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(488));
    assert_eq!(reason_cause(&r), Some(65));

    // A body that is not SDP: 415.
    let mut h = Harness::new();
    let mut inv = invite("sip:5550101@198.51.100.7", "isup", None);
    inv.set_body(Some("application/isup"), b"\x01\x02".to_vec())
        .unwrap();
    h.call(inv);
    let (_, r) = only(h.take());
    assert_eq!(status(&r), Some(415));
    assert_eq!(r.header_value(&HeaderName::Accept), Some("application/sdp"));
    assert!(h.sim.calls().is_empty());
}

#[test]
fn reliable_ringing_when_the_caller_requires_100rel() {
    let mut h = Harness::new();
    let mut inv = invite("sip:5550299@198.51.100.7", "prack", Some(OFFER));
    inv.push_header(HeaderName::Require, "100rel").unwrap();
    h.call(inv.clone());
    let (_, ringing) = only(h.take());
    assert_eq!(status(&ringing), Some(180));
    let rseq = ringing.rseq().unwrap().expect("RSeq on a reliable 180");
    let mut prack = in_dialog(&inv, &ringing, Method::Prack, 2, "prack-2");
    prack
        .push_header(HeaderName::RAck, &format!("{rseq} 1 INVITE"))
        .unwrap();
    h.send(prack);
    let (_, r) = only(h.take());
    assert_eq!(
        (status(&r), r.cseq().unwrap().method.clone()),
        (Some(200), Method::Prack)
    );
    // PRACKed: the 180 is not retransmitted; the 200 comes at 2 s.
    h.run_to(ms(2000));
    assert_eq!(h.summary(), [(2000, "200".to_owned())]);
}

#[test]
fn each_call_gets_the_next_even_port() {
    let mut h = Harness::new();
    for i in 0..3 {
        h.call(invite(
            "sip:5550101@198.51.100.7",
            &format!("port{i}"),
            Some(OFFER),
        ));
    }
    let ports: Vec<u16> = h
        .sim
        .calls()
        .iter()
        .map(|c| c.media.local_rtp.port())
        .collect();
    assert_eq!(ports, [20000, 20002, 20004]);
    let mut p = media::PortAllocator::new(65530);
    assert_eq!(
        [p.take(), p.take(), p.take(), p.take()],
        [65530, 65532, 65534, 65530]
    );
}

#[test]
fn a_tcp_caller_gets_a_tcp_contact() {
    let mut h = Harness::new();
    let from = Peer::tcp(SocketAddr::from(([192, 0, 2, 10], 49152)));
    let inv = invite("sip:5550101@198.51.100.7", "tcp", Some(OFFER));
    h.sim.handle_message(h.now, inv, from).unwrap();
    let t = h.sim.poll_output().unwrap();
    assert_eq!(t.to, from);
    let contact = t.message.contact().unwrap().unwrap();
    assert_eq!(
        contact.uri.as_str(),
        "sip:pstn@198.51.100.7:5070;transport=tcp"
    );
    assert_eq!(h.sim.calls()[0].peer, from);
}

#[test]
fn the_no_answer_timer_releases_ringing_calls_with_480_cause_19() {
    let cfg = PstnConfig {
        no_answer_ms: Some(60_000),
        ..PstnConfig::default()
    };
    let mut h = Harness::with(cfg);
    let inv = invite("sip:5550400@198.51.100.7", "na", Some(OFFER));
    h.call(inv.clone());
    // A number that would answer later than the timer is released too; one that answers
    // earlier is not.
    h.call(invite("sip:5550299@198.51.100.7", "na-ok", Some(OFFER)));
    assert_eq!(h.sim.poll_timeout(), Some(h.at(ms(2000))));
    h.run_to(ms(60_000));
    let got = h.take();
    let last = &got.last().unwrap().1;
    assert_eq!(got.last().unwrap().0, ms(60_000));
    assert_eq!((status(last), reason_cause(last)), (Some(480), Some(19)));
    assert_eq!(h.sim.stats().rejected_with(480), 1);
    assert_eq!(h.sim.calls().len(), 1);
    h.send(ack_for_non_2xx(&inv, last).unwrap());
}

#[test]
fn a_lost_connection_ends_the_calls_that_came_over_it() {
    let mut h = Harness::new();
    let from = Peer::tcp(SocketAddr::from(([192, 0, 2, 10], 49152)));
    h.sim
        .handle_message(
            h.now,
            invite("sip:5550101@198.51.100.7", "tcp1", Some(OFFER)),
            from,
        )
        .unwrap();
    h.sim
        .handle_message(
            h.now,
            invite("sip:5550400@198.51.100.7", "tcp2", Some(OFFER)),
            from,
        )
        .unwrap();
    while h.sim.poll_output().is_some() {}
    h.call(invite("sip:5550101@198.51.100.7", "udp", Some(OFFER)));
    h.take();
    assert_eq!(h.sim.calls().len(), 3);
    h.sim.handle_transport_error(h.now, from);
    let left: Vec<String> = h.sim.calls().into_iter().map(|c| c.sip_call_id).collect();
    assert_eq!(left, ["udp"]);
    assert_eq!(
        h.sim.stats().ended_by_network,
        1,
        "one of the two was answered"
    );
    assert!(
        h.sim.poll_output().is_none(),
        "nothing can be sent to a lost peer"
    );
}

#[test]
fn huge_delays_do_not_overflow_the_clock() {
    let mut cfg = PstnConfig {
        no_answer_ms: Some(u64::MAX),
        ..PstnConfig::default()
    };
    let mut rule = Rule::new("08xx", Behavior::Answer { after_ms: u64::MAX });
    rule.hangup_after_ms = Some(u64::MAX);
    cfg.rules.insert(0, rule);
    let mut rule = Rule::new("11xx", Behavior::Answer { after_ms: 0 });
    rule.hangup_after_ms = Some(u64::MAX);
    cfg.rules.insert(0, rule);
    let mut h = Harness::with(cfg);
    h.call(invite("sip:5550801@198.51.100.7", "huge", Some(OFFER)));
    h.call(invite("sip:5551101@198.51.100.7", "huge2", Some(OFFER)));
    assert_eq!(h.summary(), [(0, "180".to_owned()), (0, "200".to_owned())]);
    // Only the transactions' own timers run; the calls stay as they are (their steps are
    // unschedulable, or centuries away, depending on the platform's clock range).
    h.run_to(Duration::from_secs(3600));
    assert!(h.take().is_empty());
    let century = h.at(Duration::from_secs(100 * 365 * 24 * 3600));
    assert!(h.sim.poll_timeout().is_none_or(|t| t > century));
    assert_eq!(h.sim.calls().len(), 2);
}
