//! Session timers (RFC 4028): the Session-Expires / Min-SE headers of requests, the 422 answer to
//! a too-small interval and the UAC's retry with a larger one, the election of the refresher
//! from a request and its 2xx, and the two clocks that follow — the refresher refreshes at half
//! the interval, the other side gives up (BYE) at expiry minus min(32 s, interval/3). This room
//! decides and schedules; the session builds and sends the refreshes and the BYE.

use super::config::SessionTimerConfig;
use super::error::DialogError;
use crate::header_name::HeaderName;
use crate::headers::{Refresher, SessionExpires};
use crate::message::Message;
use std::time::{Duration, Instant};

/// The smallest Min-SE RFC 4028 allows (§4).
pub const ABSOLUTE_MIN_SE: u32 = 90;

/// A negotiated session interval, seen from our side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Seconds.
    pub interval: u32,
    /// As written in Session-Expires: relative to the transaction that negotiated it.
    pub refresher: Refresher,
    /// Whether we are the refresher.
    pub we_refresh: bool,
}

fn uac_supports_timer(req: &Message) -> bool {
    req.supports("timer")
}

/// The request's Session-Expires, when it is below `min_se`: such a request gets 422
/// (RFC 4028 §8.1 for proxies, §9 for the UAS).
pub fn too_small(req: &Message, min_se: u32) -> Result<Option<u32>, DialogError> {
    Ok(req
        .session_expires()?
        .map(|se| se.delta)
        .filter(|d| *d < min_se.max(ABSOLUTE_MIN_SE)))
}

/// 422 Session Interval Too Small with our Min-SE.
pub fn reject_422(
    req: &Message,
    min_se: u32,
    local_tag: Option<&str>,
) -> Result<Message, DialogError> {
    let mut r = Message::response_to(req, 422, Message::default_reason(422), local_tag);
    r.push_header(HeaderName::MinSE, &min_se.max(ABSOLUTE_MIN_SE).to_string())?;
    Ok(r)
}

/// Adds `Supported: timer`, `Session-Expires` (when we want a timer or `interval` is given) and
/// `Min-SE` to a request we originate (§7.1). `refresher` is written when given.
pub fn add_request_headers(
    req: &mut Message,
    cfg: &SessionTimerConfig,
    interval: Option<u32>,
    refresher: Option<Refresher>,
) -> Result<(), DialogError> {
    if !req.supports("timer") {
        req.push_header(HeaderName::Supported, "timer")?;
    }
    let min_se = cfg.min_se.max(ABSOLUTE_MIN_SE);
    if let Some(want) = interval.or(cfg.session_expires) {
        let se = SessionExpires {
            delta: want.max(min_se),
            refresher,
            params: Default::default(),
        };
        req.set_header(HeaderName::SessionExpires, &se.to_string())?;
    }
    req.set_header(HeaderName::MinSE, &min_se.to_string())?;
    Ok(())
}

/// The request to send after `original` got 422 (§7.1): Session-Expires and Min-SE raised to
/// the 422's Min-SE, the next CSeq number, no Via (the caller prepends a new one).
/// `next_seq` is the CSeq number to use (the dialog's next for in-dialog requests, the old one
/// plus one for an initial INVITE).
pub fn retry_after_422(
    original: &Message,
    resp: &Message,
    next_seq: u32,
) -> Result<Message, DialogError> {
    let their_min = resp
        .min_se()?
        .ok_or(DialogError::Missing("Min-SE in 422"))?;
    let old = original.session_expires()?;
    let delta = old.as_ref().map_or(their_min, |se| se.delta.max(their_min));
    let mut req = original.clone();
    req.remove_headers(&HeaderName::Via);
    let method = req
        .method()
        .ok_or(DialogError::ApiMisuse("not a request"))?
        .clone();
    req.set_header(HeaderName::CSeq, &format!("{next_seq} {method}"))?;
    let se = SessionExpires {
        delta,
        refresher: old.and_then(|o| o.refresher),
        params: Default::default(),
    };
    req.set_header(HeaderName::SessionExpires, &se.to_string())?;
    req.set_header(HeaderName::MinSE, &their_min.to_string())?;
    Ok(req)
}

/// The UAS decision (§9): from the request and our settings, the interval and the refresher;
/// the 2xx `resp` gets the Session-Expires (and `Require: timer` when the UAC supports it).
/// `None` when neither side asks for a timer. A Session-Expires the TU already put in `resp`
/// is kept and only read.
pub fn uas_answer(
    req: &Message,
    resp: &mut Message,
    cfg: &SessionTimerConfig,
) -> Result<Option<Negotiated>, DialogError> {
    let supports = uac_supports_timer(req);
    if let Some(se) = resp.session_expires()? {
        let refresher = se.refresher.unwrap_or(Refresher::Uas);
        return Ok(Some(Negotiated {
            interval: se.delta,
            refresher,
            we_refresh: refresher == Refresher::Uas,
        }));
    }
    let floor = req
        .min_se()?
        .unwrap_or(ABSOLUTE_MIN_SE)
        .max(cfg.min_se)
        .max(ABSOLUTE_MIN_SE);
    let (interval, asked) = match (req.session_expires()?, cfg.session_expires) {
        (Some(se), Some(ours)) if ours < se.delta => (ours.max(floor), se.refresher),
        (Some(se), _) => (se.delta, se.refresher),
        (None, Some(ours)) => (ours.max(floor), None),
        (None, None) => return Ok(None),
    };
    let refresher = match (supports, asked) {
        (false, _) => Refresher::Uas,
        (true, Some(r)) => r,
        (true, None) => Refresher::Uac,
    };
    let se = SessionExpires {
        delta: interval,
        refresher: Some(refresher),
        params: Default::default(),
    };
    resp.set_header(HeaderName::SessionExpires, &se.to_string())?;
    if supports && !resp.requires("timer") {
        resp.push_header(HeaderName::Require, "timer")?;
    }
    Ok(Some(Negotiated {
        interval,
        refresher,
        we_refresh: refresher == Refresher::Uas,
    }))
}

/// The UAC reading of a 2xx (§7.4): no Session-Expires, no timer; a missing refresher
/// parameter makes us (the UAC) refresh.
pub fn uac_result(resp: &Message) -> Result<Option<Negotiated>, DialogError> {
    Ok(resp.session_expires()?.map(|se| {
        let refresher = se.refresher.unwrap_or(Refresher::Uac);
        Negotiated {
            interval: se.delta,
            refresher,
            we_refresh: refresher == Refresher::Uac,
        }
    }))
}

/// What a due session timer asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerAction {
    /// We are the refresher and half the interval passed: send a refresh.
    Refresh,
    /// We are not the refresher and no refresh came: send BYE.
    Expire,
}

/// The running clock of a negotiated session interval.
#[derive(Clone, Debug)]
pub struct SessionTimer {
    negotiated: Negotiated,
    due: Instant,
    action: TimerAction,
    fired: bool,
}

impl SessionTimer {
    /// Starts (or restarts, after a refresh) the clock at `now`.
    pub fn start(now: Instant, negotiated: Negotiated) -> SessionTimer {
        let secs = u64::from(negotiated.interval);
        let (due, action) = if negotiated.we_refresh {
            (
                now + Duration::from_millis(secs * 500),
                TimerAction::Refresh,
            )
        } else {
            (
                now + Duration::from_secs(secs - (secs / 3).min(32)),
                TimerAction::Expire,
            )
        };
        SessionTimer {
            negotiated,
            due,
            action,
            fired: false,
        }
    }

    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.fired).then_some(self.due)
    }

    pub fn handle_timeout(&mut self, now: Instant) -> Option<TimerAction> {
        if self.fired || now < self.due {
            return None;
        }
        self.fired = true;
        Some(self.action)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn min_se_negotiation_with_422() {
        let cfg = SessionTimerConfig {
            session_expires: Some(1800),
            min_se: 600,
            ..Default::default()
        };
        let inv = invite_with(
            "Supported: timer\nSession-Expires: 300\nMin-SE: 90\n",
            Some(SDP),
        );
        assert_eq!(too_small(&inv, cfg.min_se).unwrap(), Some(300));
        let r422 = reject_422(&inv, cfg.min_se, None).unwrap();
        assert_eq!(r422.status(), Some(422));
        assert_eq!(r422.min_se().unwrap(), Some(600));
        let retry = retry_after_422(&inv, &r422, 11).unwrap();
        assert_eq!(retry.session_expires().unwrap().unwrap().delta, 600);
        assert_eq!(retry.min_se().unwrap(), Some(600));
        assert_eq!(retry.cseq().unwrap().to_string(), "11 INVITE");
        assert!(retry.top_via().is_none());
        assert_eq!(too_small(&retry, cfg.min_se).unwrap(), None);
        // A larger request value survives the retry.
        let big = invite_with("Session-Expires: 900\n", None);
        assert_eq!(
            retry_after_422(&big, &r422, 11)
                .unwrap()
                .session_expires()
                .unwrap()
                .unwrap()
                .delta,
            900
        );
    }

    #[test]
    fn refresher_election() {
        let cfg = SessionTimerConfig {
            session_expires: Some(1800),
            min_se: 90,
            ..Default::default()
        };
        // UAC supports timer, no refresher asked: the UAC refreshes, Require: timer in the 2xx.
        let inv = invite_with("Supported: timer\nSession-Expires: 1200\n", None);
        let mut ok = response(&inv, 200, "b", "", None);
        let n = uas_answer(&inv, &mut ok, &cfg).unwrap().unwrap();
        assert_eq!(
            (n.interval, n.refresher, n.we_refresh),
            (1200, Refresher::Uac, false)
        );
        assert!(ok.requires("timer"));
        assert_eq!(
            ok.header_value(&HeaderName::SessionExpires),
            Some("1200;refresher=uac")
        );
        let u = uac_result(&ok).unwrap().unwrap();
        assert!(u.we_refresh);
        // UAC without timer support: we (UAS) refresh, no Require.
        let inv = invite_with("Session-Expires: 1200;refresher=uac\n", None);
        let mut ok = response(&inv, 200, "b", "", None);
        let n = uas_answer(&inv, &mut ok, &cfg).unwrap().unwrap();
        assert_eq!((n.refresher, n.we_refresh), (Refresher::Uas, true));
        assert!(!ok.requires("timer"));
        // Our smaller wish lowers the interval, not below the request's Min-SE.
        let small = SessionTimerConfig {
            session_expires: Some(100),
            min_se: 90,
            ..Default::default()
        };
        let inv = invite_with(
            "Supported: timer\nSession-Expires: 1200;refresher=uas\nMin-SE: 400\n",
            None,
        );
        let mut ok = response(&inv, 200, "b", "", None);
        let n = uas_answer(&inv, &mut ok, &small).unwrap().unwrap();
        assert_eq!(
            (n.interval, n.refresher, n.we_refresh),
            (400, Refresher::Uas, true)
        );
        // Nobody asks: no timer.
        let none = SessionTimerConfig {
            session_expires: None,
            ..Default::default()
        };
        let inv = invite_with("", None);
        let mut ok = response(&inv, 200, "b", "", None);
        assert!(uas_answer(&inv, &mut ok, &none).unwrap().is_none());
        assert!(uac_result(&ok).unwrap().is_none());
    }

    #[test]
    fn clocks() {
        let c = Clock::new();
        let n = Negotiated {
            interval: 90,
            refresher: Refresher::Uac,
            we_refresh: true,
        };
        let mut t = SessionTimer::start(c.at(0), n);
        assert_eq!(t.poll_timeout(), Some(c.at(45_000)));
        assert_eq!(t.handle_timeout(c.at(44_999)), None);
        assert_eq!(t.handle_timeout(c.at(45_000)), Some(TimerAction::Refresh));
        assert_eq!(t.poll_timeout(), None);
        let mut t = SessionTimer::start(
            c.at(0),
            Negotiated {
                we_refresh: false,
                ..n
            },
        );
        assert_eq!(t.poll_timeout(), Some(c.at(60_000))); // 90 - min(32, 30)
        let long = SessionTimer::start(
            c.at(0),
            Negotiated {
                interval: 1800,
                refresher: Refresher::Uas,
                we_refresh: false,
            },
        );
        assert_eq!(long.poll_timeout(), Some(c.at(1_768_000))); // 1800 - 32
        assert_eq!(t.handle_timeout(c.at(60_000)), Some(TimerAction::Expire));
    }
}
