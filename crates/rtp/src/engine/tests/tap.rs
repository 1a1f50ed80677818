//! The tap: a leg's received audio handed out as it came, the relay untouched, events and
//! telephone-event left out, the queue bounded.

use super::*;
use crate::g711::Law;
use crate::tap::HEARD_LIMIT;

#[test]
fn a_tapped_leg_hands_out_its_audio_and_still_relays() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (la, pa) = leg(&mut e, t0, CodecMap::pcmu(), "10.0.0.5:4000");
    let (lb, pb) = leg(&mut e, t0, CodecMap::pcmu(), "192.0.2.20:5000");
    e.connect(la, lb).unwrap();
    let from = addr("10.0.0.5:4000");
    let mut phone = Phone::new(0xA, 1, 1, 0);
    // Not tapped: nothing is heard.
    e.handle_datagram(t0, pa.rtp, from, &phone.next(&[0x11; 160]));
    assert_eq!(e.poll_heard(), None);
    e.set_tap(la, true).unwrap();
    e.handle_datagram(t0 + MS20, pa.rtp, from, &phone.next(&[0x22; 80]));
    let heard = e.poll_heard().expect("heard");
    assert_eq!((heard.leg, heard.law), (la, Law::Ulaw));
    assert_eq!(heard.payload, vec![0x22; 80], "as it came, any ptime");
    e.recycle(heard.payload);
    // The relay went on for both packets.
    assert_eq!(rtp_from(&transmits(&mut e), pb.rtp).len(), 2);
    e.set_tap(la, false).unwrap();
    e.handle_datagram(t0 + MS20 * 2, pa.rtp, from, &phone.next(&[0x33; 160]));
    assert_eq!(e.poll_heard(), None);
    assert!(e
        .set_tap(
            LegId {
                slot: 99,
                generation: 0
            },
            true
        )
        .is_err());
}

#[test]
fn the_heard_queue_is_bounded() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (la, pa) = leg(&mut e, t0, CodecMap::pcmu(), "10.0.0.5:4000");
    e.set_tap(la, true).unwrap();
    let from = addr("10.0.0.5:4000");
    let mut phone = Phone::new(0xA, 1, 1, 0);
    let mut now = t0;
    for _ in 0..HEARD_LIMIT + 10 {
        e.handle_datagram(now, pa.rtp, from, &phone.next(&[0x44; 160]));
        now += MS20;
    }
    assert_eq!(std::iter::from_fn(|| e.poll_heard()).count(), HEARD_LIMIT);
}
