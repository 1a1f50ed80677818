//! Fuzzes the SIP message parser and everything that reads parsed input: typed accessors,
//! admission, serialization, the raw error-response builder. Invariants checked: nothing panics;
//! whatever parses re-serializes to bytes that parse to an equal message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_sip::admission::UasPolicy;
use tether_sip::message::error_response_for_raw;
use tether_sip::Message;

fuzz_target!(|data: &[u8]| {
    match Message::parse(data.to_vec()) {
        Ok(m) => {
            let _ = m.vias();
            let _ = m.contacts();
            let _ = m.routes();
            let _ = m.record_routes();
            let _ = m.require();
            let _ = m.supported();
            let _ = m.session_expires();
            let _ = m.rack();
            let _ = m.reasons();
            let _ = m.replaces();
            let _ = m.refer_to();
            let _ = m.p_asserted_identity();
            let _ = m.content_type();
            let _ = m.accept();
            if let Some(u) = m.request_uri() {
                let _ = u.user_decoded();
                let _ = u.equivalent(u);
            }
            if m.is_request() {
                let _ = UasPolicy::default().check(&m);
            }
            let bytes = m.to_bytes();
            let again = Message::parse(bytes).expect("serialized message must parse");
            assert_eq!(again, m);
        }
        Err(e) => {
            if let Some((code, reason)) = e.response_status() {
                let _ = error_response_for_raw(data, code, &reason);
            }
        }
    }
});
