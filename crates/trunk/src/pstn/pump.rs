//! Carrying a call's dialog outputs to the wire (responses through their server transactions,
//! our requests through new client transactions, ACKs straight out), running its timers, filing
//! it in the timer index, and forgetting it once its dialog has ended.

use super::call::{CallState, Step};
use super::inbound::rejection_for;
use super::{CallId, PstnSimulator, Transmit};
use std::time::Instant;
use tether_sip::dialog::{Event, Output as DialogOut};
use tether_sip::HeaderName;

impl PstnSimulator {
    /// Runs a call's due script step and dialog timers.
    pub(super) fn run_call_timers(&mut self, now: Instant, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some((at, step)) = call.step {
            if at <= now {
                call.step = None;
                match step {
                    Step::Answer => self.answer(now, id),
                    Step::Hangup => self.hang_up(now, id),
                    Step::NoAnswer => self.release_unanswered(now, id),
                }
            }
        }
        if let Some(call) = self.calls.get_mut(&id) {
            if call.session.poll_timeout().is_some_and(|t| t <= now) {
                // Errors here are our own requests failing to build; the dialog is ended anyway.
                let _ = call.session.handle_timeout(now);
            }
        }
        self.pump(now, id);
    }

    /// Sends what the call's dialog produced; ends the call when its dialog has ended, else
    /// files it under its next deadline.
    pub(super) fn pump(&mut self, now: Instant, id: CallId) {
        let Some(peer) = self.calls.get(&id).map(|c| c.peer) else {
            return;
        };
        let via = self.via(peer);
        loop {
            let Some(call) = self.calls.get_mut(&id) else {
                return;
            };
            let outs: Vec<DialogOut> = std::iter::from_fn(|| call.session.poll_output()).collect();
            if outs.is_empty() {
                break;
            }
            for o in outs {
                match o {
                    DialogOut::Response(r) => {
                        let key = r.cseq().map(|c| (c.seq, c.method.clone()));
                        let txn = key.and_then(|k| call.server_txns.get(&k).copied());
                        if let Some(txn) = txn {
                            // The transaction may have ended (a late retransmission): drop it.
                            let _ = self.txns.respond(now, txn, r);
                        }
                    }
                    DialogOut::Request(mut r) => {
                        if r.prepend_header(HeaderName::Via, &via).is_err() {
                            continue;
                        }
                        if let Ok(txn) = self.txns.start_client(now, r, peer) {
                            self.client_txns.insert(txn, id);
                        }
                    }
                    DialogOut::Ack(mut a) => {
                        let branch = self.txns.new_branch();
                        let via = format!("{via};branch={branch}");
                        if a.prepend_header(HeaderName::Via, &via).is_ok() {
                            self.out.push_back(Transmit {
                                to: peer,
                                message: a,
                            });
                        }
                    }
                    DialogOut::Event(Event::AckTimeout { .. }) => {
                        // The dialog layer sent BYE and ended the dialog.
                        self.stats.ack_timeouts += 1;
                        self.stats.ended_by_network += 1;
                    }
                    DialogOut::Event(Event::SessionExpired) => {
                        self.stats.ended_by_network += 1;
                    }
                    // RFC 3262 §3: no PRACK came for our reliable 180, reject the INVITE.
                    DialogOut::Event(Event::PrackTimeout { .. })
                        if call.state == CallState::Ringing =>
                    {
                        call.step = None;
                        let Ok(mut r) = call.session.create_response(&call.invite, 500) else {
                            continue;
                        };
                        let reason = rejection_for(500).reason_header();
                        if r.push_header(HeaderName::Reason, &reason).is_ok()
                            && call.session.send_response(now, r).is_ok()
                        {
                            *self.stats.rejected.entry(500).or_default() += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.session.is_terminated() {
            self.end_call(id);
        } else {
            self.reindex(id);
        }
    }

    fn reindex(&mut self, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let next = call.next_deadline();
        if next != call.deadline {
            if let Some(old) = call.deadline {
                self.timers.remove(&(old, id));
            }
            if let Some(new) = next {
                self.timers.insert((new, id));
            }
            call.deadline = next;
        }
    }

    /// Forgets a call whose dialog has ended. Its transactions finish on their own; their
    /// index entries go when they terminate.
    fn end_call(&mut self, id: CallId) {
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        self.dialogs.remove(call.session.id());
        if let Some(t) = call.deadline {
            self.timers.remove(&(t, id));
        }
    }
}
