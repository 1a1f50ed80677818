//! The default Q.850 <-> SIP tables of RFC 3398: §8.2.6.1 (a cause received from the PSTN
//! becomes a SIP response) and §7.2.4.1 (a SIP response becomes the cause of the release).
//!
//! Where the RFC gives no row, the choice made here is marked in the comment next to it.

use super::Q850Cause;

/// The SIP status a call released with `cause` is answered with (RFC 3398 §8.2.6.1).
///
/// `None` for cause 16, normal call clearing: it is signalled by BYE or CANCEL, not by a
/// response. Causes the table does not list map to 500, as the RFC says for the rest.
pub fn q850_to_sip(cause: Q850Cause) -> Option<u16> {
    Some(match cause.value() {
        1..=3 => 404,
        16 => return None,
        17 => 486,
        18 => 408,
        19 | 20 => 480,
        // 603 when the cause location is the user; a trunk does not carry the location here.
        21 => 403,
        // 301 with a diagnostic (the new number); without one 410.
        22 | 23 => 410,
        26 => 404,
        27 => 502,
        28 => 484,
        29 => 501,
        31 => 480,
        34 | 38 | 41 | 42 | 47 => 503,
        55 | 57 | 87 => 403,
        58 => 503,
        65 | 70 => 488,
        79 => 501,
        88 => 503,
        102 => 504,
        111 | 127 => 500,
        _ => 500,
    })
}

/// The Q.850 cause a call is released with when the SIP side answered `status`
/// (RFC 3398 §7.2.4.1).
///
/// `None` for 1xx and 2xx, which release nothing. A status the table does not list is treated
/// as the `x00` of its class, as RFC 3261 §8.1.3.2 says of unknown responses (3xx, which a
/// gateway would have followed, map to 127 interworking).
pub fn sip_to_q850(status: u16) -> Option<Q850Cause> {
    let v = match status {
        0..=299 => return None,
        300..=399 => 127,
        400 => 41,
        401 | 402 | 403 | 407 => 21,
        404 | 485 | 604 => 1,
        405 => 63,
        406 | 415 | 501 => 79,
        408 | 504 => 102,
        410 => 22,
        413 | 414 | 416 | 420 | 421 | 423 | 505 | 513 => 127,
        480 => 18,
        481 | 500 | 503 => 41,
        482 | 483 => 25,
        484 => 28,
        486 | 600 => 17,
        // Not in the RFC (the request was cancelled): the call cleared normally.
        487 => 16,
        // The RFC takes the cause from the Warning header; without one, the reverse of 65 -> 488.
        488 | 606 => 65,
        502 => 38,
        603 => 21,
        // RFC 8197 (607 Unwanted) and RFC 8688 (608 Rejected) postdate RFC 3398: call rejected.
        607 | 608 => 21,
        401..=499 => 41,
        506..=599 => 41,
        _ => 17,
    };
    Q850Cause::new(v)
}
