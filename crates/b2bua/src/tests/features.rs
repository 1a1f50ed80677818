//! Line features on the call path: Call Forward All and Do Not Disturb (set through
//! provisioning until the CTI interface exists).

use std::time::Duration;

use tether_sip::{HeaderName, Method};
use tether_store::model::Object;

use super::harness::*;

fn line_2000(p: &mut tether_store::provisioning::Provisioning) -> tether_store::model::Line {
    p.lines
        .get(&("Internal".to_owned(), "2000".to_owned()))
        .cloned()
        .expect("line 2000")
}

#[test]
fn do_not_disturb_is_busy_without_ringing_anything() {
    let mut p = provisioning(None);
    let mut l = line_2000(&mut p);
    l.dnd = true;
    p.put(Object::Line(l));
    let mut b = Bench::new(p);
    b.deliver(&invite("dnd", "4085551234", "2000", PSTN), PSTN);
    let out = b.take_to(PSTN);
    assert!(
        !out.iter().any(|m| m.method() == Some(&Method::Invite)),
        "{:?}",
        summary(&out)
    );
    let busy = out.iter().find(|m| m.status() == Some(486)).expect("486");
    assert_eq!(
        busy.header_value(&HeaderName::Reason),
        Some("Q.850;cause=17")
    );
    assert_eq!(b.cdrs.len(), 1, "a refused call still has its CDR");
}

#[test]
fn call_forward_all_sends_the_call_on_and_records_the_redirect() {
    let mut p = provisioning(None);
    let mut l = line_2000(&mut p);
    // Forward alice's line to an outside number, analysed through her device's CSS.
    l.call_forward_all = Some("914155550123".into());
    p.put(Object::Line(l));
    let mut b = Bench::new(p);
    b.deliver(&invite("cfa", "4085551234", "2000", PSTN), PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    assert_eq!(
        leg.request_uri().and_then(|u| u.user()),
        Some("14155550123"),
        "the 9 is discarded by 9.!"
    );
    b.deliver(&answer(&leg, 486, "x", false), PSTN);
    b.advance(Duration::from_secs(40));
    assert_eq!(b.cdrs.len(), 1);
    assert_eq!(b.cdrs[0].last_redirect_dn, "2000");
    assert_eq!(b.cdrs[0].original_called_party_number, "2000");
}

#[test]
fn call_forward_all_loops_are_refused() {
    let mut p = provisioning(None);
    let mut l = line_2000(&mut p);
    l.call_forward_all = Some("2002".into());
    p.put(Object::Line(l));
    let mut l2 = p
        .lines
        .get(&("Internal".to_owned(), "2002".to_owned()))
        .cloned()
        .expect("2002");
    l2.call_forward_all = Some("2000".into());
    p.put(Object::Line(l2));
    let mut b = Bench::new(p);
    b.deliver(&invite("loop", "4085551234", "2000", PSTN), PSTN);
    let st = b.statuses_to(PSTN, Method::Invite);
    assert!(st.contains(&482), "{st:?}");
}

/// A softphone on the same host as a trunk peer is still the phone once it has registered:
/// its calls carry its DN and its device's calling search space.
#[test]
fn a_registered_phone_is_recognised_before_a_trunk_on_its_host() {
    let mut p = provisioning(None);
    p.put(Object::Trunk(tether_store::model::Trunk {
        name: "pbx-on-phone-host".into(),
        kind: tether_store::model::TrunkKind::Sip,
        peer: PHONE.split(':').next().unwrap_or_default().into(),
        did: None,
        hunting: tether_store::model::Hunting::Ascending,
        channels: None,
        inbound_css: Some("Inbound-CSS".into()),
        cause_map: vec![],
    }));
    let mut b = Bench::new(p);
    register_phone(&mut b);
    b.deliver(&invite("host", "dave", "2000", PHONE), PHONE);
    let leg = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.method() == Some(&Method::Invite))
        .expect("the call is extended");
    assert_eq!(
        leg.from_hdr().and_then(|f| f.uri.user()),
        Some("2001"),
        "presented as the phone's DN"
    );

    // Once the binding has expired, a call from that address is the trunk's again.
    b.advance(std::time::Duration::from_secs(601));
    assert_eq!(b.engine.registrations(), 0);
    b.take_to(PSTN);
    b.deliver(&invite("host2", "dave", "2000", PHONE), PHONE);
    let leg = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.method() == Some(&Method::Invite))
        .expect("the call is extended");
    assert_ne!(
        leg.from_hdr().and_then(|f| f.uri.user()),
        Some("2001"),
        "not the phone any more"
    );
}
