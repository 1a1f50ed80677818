//! The RFC 3398 tables both ways, trunk overrides, and the Reason header round trip.

use super::rfc3398::{q850_to_sip, sip_to_q850};
use super::*;
use tether_store::model::CauseMapping;

fn c(v: u8) -> Q850Cause {
    Q850Cause::new(v).unwrap()
}

#[test]
fn cause_values_are_seven_bits_without_zero() {
    assert_eq!(Q850Cause::new(0), None);
    assert_eq!(Q850Cause::new(128), None);
    assert_eq!(Q850Cause::new(127).map(Q850Cause::value), Some(127));
    assert_eq!(Q850Cause::from_u16(256 + 17), None);
    assert_eq!(Q850Cause::NO_CIRCUIT_AVAILABLE.value(), 34);
}

#[test]
fn q850_to_sip_follows_rfc_3398() {
    let table: &[(u8, Option<u16>)] = &[
        (1, Some(404)),
        (2, Some(404)),
        (3, Some(404)),
        (16, None),
        (17, Some(486)),
        (18, Some(408)),
        (19, Some(480)),
        (20, Some(480)),
        (21, Some(403)),
        (22, Some(410)),
        (27, Some(502)),
        (28, Some(484)),
        (29, Some(501)),
        (31, Some(480)),
        (34, Some(503)),
        (38, Some(503)),
        (41, Some(503)),
        (42, Some(503)),
        (47, Some(503)),
        (55, Some(403)),
        (57, Some(403)),
        (58, Some(503)),
        (65, Some(488)),
        (70, Some(488)),
        (79, Some(501)),
        (87, Some(403)),
        (88, Some(503)),
        (102, Some(504)),
        (111, Some(500)),
        (127, Some(500)),
        // Not in the table: 500.
        (99, Some(500)),
    ];
    for (cause, sip) in table {
        assert_eq!(q850_to_sip(c(*cause)), *sip, "cause {cause}");
    }
}

#[test]
fn sip_to_q850_follows_rfc_3398() {
    let table: &[(u16, u8)] = &[
        (400, 41),
        (401, 21),
        (402, 21),
        (403, 21),
        (404, 1),
        (405, 63),
        (406, 79),
        (407, 21),
        (408, 102),
        (410, 22),
        (413, 127),
        (414, 127),
        (415, 79),
        (416, 127),
        (420, 127),
        (421, 127),
        (423, 127),
        (480, 18),
        (481, 41),
        (482, 25),
        (483, 25),
        (484, 28),
        (485, 1),
        (486, 17),
        (487, 16),
        (488, 65),
        (500, 41),
        (501, 79),
        (502, 38),
        (503, 41),
        (504, 102),
        (505, 127),
        (513, 127),
        (600, 17),
        (603, 21),
        (604, 1),
        (606, 65),
        // Unknown codes take their class's x00.
        (499, 41),
        (599, 41),
        (699, 17),
        (302, 127),
    ];
    for (sip, cause) in table {
        assert_eq!(sip_to_q850(*sip), Some(c(*cause)), "status {sip}");
    }
    assert_eq!(sip_to_q850(180), None);
    assert_eq!(sip_to_q850(200), None);
}

#[test]
fn trunk_rows_override_both_directions_first_row_wins() {
    let rows = [
        CauseMapping { q850: 34, sip: 486 },
        CauseMapping { q850: 17, sip: 486 },
        CauseMapping { q850: 34, sip: 480 },
        CauseMapping { q850: 16, sip: 480 },
    ];
    let map = CauseMap::with_overrides(&rows).unwrap();
    assert!(!map.is_default());
    assert_eq!(map.to_sip(c(34)), Some(486));
    assert_eq!(map.to_sip(c(17)), Some(486));
    assert_eq!(map.to_sip(c(16)), Some(480));
    // Untouched causes keep the defaults.
    assert_eq!(map.to_sip(c(1)), Some(404));
    assert_eq!(map.to_q850(486), Some(c(34)));
    assert_eq!(map.to_q850(480), Some(c(34)));
    assert_eq!(map.to_q850(404), Some(c(1)));

    let default = CauseMap::rfc3398();
    assert!(default.is_default());
    assert_eq!(default.to_sip(c(34)), Some(503));
    assert_eq!(default.to_q850(486), Some(c(17)));
}

#[test]
fn bad_rows_are_refused() {
    let bad_cause = [CauseMapping { q850: 0, sip: 503 }];
    assert_eq!(
        CauseMap::with_overrides(&bad_cause),
        Err(CauseMapError::BadCause(0))
    );
    let bad_cause = [CauseMapping {
        q850: 200,
        sip: 503,
    }];
    assert_eq!(
        CauseMap::with_overrides(&bad_cause),
        Err(CauseMapError::BadCause(200))
    );
    let bad_status = [CauseMapping { q850: 34, sip: 200 }];
    assert_eq!(
        CauseMap::with_overrides(&bad_status),
        Err(CauseMapError::BadStatus(200))
    );
}

#[test]
fn rejection_of_normal_clearing_is_480() {
    let map = CauseMap::rfc3398();
    let r = map.rejection(Q850Cause::NORMAL_CLEARING);
    assert_eq!(r.status, 480);
    assert_eq!(r.reason.cause.value(), 16);
    let r = map.rejection(Q850Cause::USER_BUSY);
    assert_eq!(r.status, 486);
    assert_eq!(r.reason_header(), "Q.850;cause=17;text=\"User busy\"");
}

#[test]
fn reason_header_round_trip() {
    let r = Q850Reason::new(Q850Cause::NO_CIRCUIT_AVAILABLE);
    let text = r.to_string();
    assert_eq!(text, "Q.850;cause=34;text=\"No circuit/channel available\"");
    assert_eq!(Q850Reason::parse(&text), Some(r));

    let bare = Q850Reason::bare(Q850Cause::USER_BUSY);
    assert_eq!(bare.to_string(), "Q.850;cause=17");
    assert_eq!(Q850Reason::parse("Q.850;cause=17"), Some(bare));

    // Quotes and backslashes in the text survive.
    let odd = Q850Reason {
        cause: Q850Cause::CALL_REJECTED,
        text: Some("said \"no\" \\ twice".into()),
    };
    assert_eq!(Q850Reason::parse(&odd.to_string()), Some(odd));
}

#[test]
fn reason_parse_picks_the_q850_entry() {
    let v = "SIP;cause=200;text=\"Call completed elsewhere\", q.850 ; cause=16";
    let r = Q850Reason::parse(v).unwrap();
    assert_eq!(r.cause, Q850Cause::NORMAL_CLEARING);
    assert_eq!(r.text, None);
    assert_eq!(Q850Reason::parse("SIP;cause=487"), None);
    assert_eq!(Q850Reason::parse("Q.850;cause=300"), None);
    assert_eq!(Q850Reason::parse("Q.850;cause=abc"), None);
    assert_eq!(Q850Reason::parse("Q.850"), None);
    assert_eq!(Q850Reason::parse(""), None);
    assert_eq!(Q850Reason::parse(";;;"), None);
}

#[test]
fn reason_of_message_scans_every_reason_header() {
    let mut m = tether_sip::Message::new_response(503, "Service Unavailable");
    m.push_header(tether_sip::HeaderName::Reason, "SIP;cause=503")
        .unwrap();
    m.push_header(tether_sip::HeaderName::Reason, "Q.850;cause=34")
        .unwrap();
    let r = Q850Reason::of_message(&m).unwrap();
    assert_eq!(r.cause, Q850Cause::NO_CIRCUIT_AVAILABLE);
}
