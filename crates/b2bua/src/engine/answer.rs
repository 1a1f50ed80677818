//! AnswerCall (CSTA) by remote answer: the BroadWorks `talk` event package, which Polycom,
//! Yealink and Cisco SPA phones (and Genesys SIP Server's TAnswerCall) use. A ringing phone that
//! can be answered from afar says so with `Allow-Events: talk` in its provisional response; the
//! subscription is implied by the INVITE, so Tether just sends `NOTIFY` with `Event: talk`,
//! `Subscription-State: active` and no body in that early dialog, and the phone answers the
//! INVITE with 200 OK as if its user had picked up. The answer then runs through the usual
//! path (`b_legs.rs`).
//!
//! This room notes the offer on each leg, sends the NOTIFY and takes its response. It keeps
//! the NOTIFY's transaction on the leg ([`crate::call::Talk`]) and in `by_txn` like any request
//! of the call, so both go with the call or when the transaction ends. The response never
//! reaches the dialog: a refusal (481, 489) ends the `talk` usage at most, never the early
//! dialog of the INVITE, whose 200 may still come.

use super::*;
use crate::call::Talk;
use crate::control::{ControlError, ControlOk};

/// Whether `resp` offers remote answer: `talk` among its `Allow-Events` tokens (any case,
/// compact `u` form included).
pub(super) fn offers_talk(resp: &Message) -> bool {
    resp.headers_named(&HeaderName::AllowEvents).any(|h| {
        h.value().split(',').any(|t| {
            t.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("talk"))
        })
    })
}

impl Engine {
    /// A provisional response on the leg on `side` offers `talk`: the leg remembers the early
    /// dialog (the first one that offered it).
    pub(super) fn note_talk(&mut self, now: Instant, call: u64, side: Side, resp: &Message) {
        if !offers_talk(resp) {
            return;
        }
        let Some(dialog) = DialogId::of_received(resp) else {
            return;
        };
        let Some(l) = self.calls.get_mut(&call).and_then(|c| c.placed_mut(side)) else {
            return;
        };
        let known = l
            .set
            .as_ref()
            .is_some_and(|s| s.sessions().iter().any(|x| *x.id() == dialog));
        if l.talk.is_none() && known {
            l.talk = Some(Talk {
                dialog,
                since: now,
                notify: None,
                asked: false,
            });
        }
    }

    /// [`crate::Control::AnswerCall`]: asks the first ringing leg of `call` that offered `talk`
    /// to answer.
    pub(super) fn answer_call(
        &mut self,
        now: Instant,
        call: u64,
        device: &str,
    ) -> Result<ControlOk, ControlError> {
        let c = self.calls.get(&call).ok_or(ControlError::InvalidCallId)?;
        let conn = c.connection(device).ok_or(ControlError::InvalidCallId)?;
        if conn.role != Role::Called || c.state != CallState::Proceeding {
            return Err(ControlError::InvalidCallState);
        }
        let mut ringing = false;
        let mut chosen: Option<(Instant, usize)> = None;
        for (i, l) in c.b.iter().enumerate() {
            if l.state != LegState::Early {
                continue;
            }
            ringing = true;
            let Some(t) = &l.talk else { continue };
            let open = l
                .set
                .as_ref()
                .and_then(|s| s.sessions().iter().find(|x| *x.id() == t.dialog))
                .is_some_and(|s| !s.is_terminated());
            if open && chosen.is_none_or(|(since, _)| t.since < since) {
                chosen = Some((t.since, i));
            }
        }
        if !ringing {
            return Err(ControlError::InvalidCallState);
        }
        let (_, leg) = chosen.ok_or(ControlError::AnswerNotSupported)?;
        let side = Side::B(leg);
        let Some(l) = self.calls.get_mut(&call).and_then(|c| c.placed_mut(side)) else {
            return Err(ControlError::InvalidCallState);
        };
        let (Some(peer), Some(talk), Some(set)) = (l.peer, l.talk.as_mut(), l.set.as_mut()) else {
            return Err(ControlError::InvalidCallState);
        };
        if talk.notify.is_some() {
            return Err(ControlError::RequestInProgress);
        }
        let session = set
            .session_mut(&talk.dialog)
            .ok_or(ControlError::InvalidCallState)?;
        // The dialog builds it (Request-URI from the 18x's Contact, its Record-Route as Route,
        // To with its tag, the next CSeq); it is sent here rather than through the dialog's
        // output so its transaction is known when the response comes.
        let mut notify = session
            .create_request(Method::Notify)
            .map_err(|_| ControlError::InvalidCallState)?;
        let via = via_value(&self.sent_by, peer.transport, None);
        let built = notify.push_header(HeaderName::Event, "talk").is_ok()
            && notify
                .push_header(HeaderName::SubscriptionState, "active")
                .is_ok()
            && notify.prepend_header(HeaderName::Via, &via).is_ok();
        if !built {
            return Err(ControlError::InvalidCallState);
        }
        let txn = self
            .txn
            .start_client(now, notify, peer)
            .map_err(|_| ControlError::InvalidCallState)?;
        talk.notify = Some(txn);
        talk.asked = true;
        self.track_txn(txn, call, side);
        self.drain(now);
        Ok(ControlOk::Done)
    }

    /// Whether `txn` is the NOTIFY AnswerCall sent on `side` of `call`.
    pub(super) fn is_talk_notify(&self, call: u64, side: Side, txn: TxnId) -> bool {
        self.calls
            .get(&call)
            .and_then(|c| c.placed(side))
            .and_then(|l| l.talk.as_ref())
            .is_some_and(|t| t.notify == Some(txn))
    }

    /// The final outcome of AnswerCall's NOTIFY (`status` 408 when it timed out, 503 when it
    /// could not be sent). A refusal changes nothing — the phone keeps ringing and may still
    /// be answered by hand — and is logged.
    pub(super) fn talk_notify_done(&mut self, call: u64, side: Side, status: u16) {
        if status < 200 {
            return;
        }
        let Some(l) = self.calls.get_mut(&call).and_then(|c| c.placed_mut(side)) else {
            return;
        };
        if let Some(t) = l.talk.as_mut() {
            t.notify = None;
        }
        if (200..300).contains(&status) {
            tracing::debug!(call, status, "AnswerCall: the phone took the talk NOTIFY");
        } else {
            tracing::warn!(
                call,
                status,
                rd = l.target.rd.as_deref().unwrap_or(""),
                "AnswerCall: the phone refused the talk NOTIFY (Event: talk); it keeps ringing"
            );
        }
    }
}
