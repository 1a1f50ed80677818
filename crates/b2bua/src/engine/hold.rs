//! Tether holding a party itself (SPEC §2.5: a remote phone cannot signal hold, so CTI asks
//! Tether): the party is re-INVITEd with Tether's description turned `sendonly` (or `inactive`
//! when it already holds Tether, RFC 6337) and hears music on hold; retrieve re-INVITEs
//! `sendrecv` and the relay takes over again. The responses to these re-INVITEs arrive here too.

use tether_sdp::{hold_reoffer, process_answer, resume_reoffer, SessionDescription};

use super::*;
use crate::media::{codec_map, peer_holds, MediaCommand, Playable};

/// Why Tether cannot hold or retrieve a party.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HoldError {
    /// No such call, or not answered yet.
    NoCall,
    /// Media is not anchored, so Tether has nothing to play and no description to re-offer.
    NotAnchored,
    /// That party is already held (hold) or not held by Tether (retrieve).
    WrongState,
    /// A re-INVITE to that party is still waiting for its answer.
    Busy,
}

impl Engine {
    /// Holds `party` of an answered call: a `sendonly` re-INVITE, and music on hold to it.
    pub fn hold(&mut self, now: Instant, call: u64, party: Side) -> Result<(), HoldError> {
        self.reinvite_party(now, call, party, true)
    }

    /// Retrieves a party Tether held: a `sendrecv` re-INVITE; the music stops.
    pub fn retrieve(&mut self, now: Instant, call: u64, party: Side) -> Result<(), HoldError> {
        self.reinvite_party(now, call, party, false)
    }

    fn reinvite_party(
        &mut self,
        now: Instant,
        call: u64,
        party: Side,
        hold: bool,
    ) -> Result<(), HoldError> {
        let c = self.calls.get_mut(&call).ok_or(HoldError::NoCall)?;
        if c.state != CallState::Answered {
            return Err(HoldError::NoCall);
        }
        let m = c.media.as_mut().ok_or(HoldError::NotAnchored)?;
        if m.held_party.map(|(s, _)| s) == Some(party)
            && m.held_party.is_some_and(|(_, pending)| pending)
        {
            return Err(HoldError::Busy);
        }
        let held_now = m.held_party.is_some_and(|(s, _)| s == party);
        if hold == held_now {
            return Err(HoldError::WrongState);
        }
        let (port, local, negotiated) = match party {
            Side::A => (m.a_port, m.a_local.as_ref(), m.a_negotiated),
            Side::B(i) => match m.b.get(i).and_then(Option::as_ref) {
                Some(b) => (b.port, Some(&b.offer), b.negotiated),
                None => return Err(HoldError::NoCall),
            },
        };
        let local = local.ok_or(HoldError::NotAnchored)?;
        let offer: SessionDescription = if hold {
            let ours = negotiated
                .map(|n| n.direction)
                .unwrap_or(tether_sdp::Direction::SendRecv);
            hold_reoffer(local, ours)
        } else {
            resume_reoffer(local)
        };
        let body = bytes::Bytes::from(offer.to_bytes());
        m.pending_offer = Some((party, offer));
        m.pending_quiet = false;
        m.held_party = if hold { Some((party, true)) } else { None };
        let s = c.session_mut(party, None).ok_or(HoldError::NoCall)?;
        let mut req = s
            .create_request(Method::Invite)
            .map_err(|_| HoldError::Busy)?;
        req.set_body(Some("application/sdp"), body)
            .map_err(|_| HoldError::Busy)?;
        s.send_request(now, req).map_err(|_| HoldError::Busy)?;
        self.out.push_back(Output::Media(if hold {
            MediaCommand::Play {
                port,
                what: Playable::MusicOnHold,
                looped: true,
            }
        } else {
            MediaCommand::StopPlaying { port }
        }));
        self.pump(now, call);
        Ok(())
    }

    /// A response to a re-INVITE (or another in-dialog request) Tether sent `party`.
    pub(super) fn on_party_response(
        &mut self,
        now: Instant,
        call: u64,
        party: Side,
        resp: &Message,
    ) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(s) = c.session_mut(party, None) {
            let _ = s.handle_response(now, resp);
        }
        let method = resp.cseq().map(|c| c.method.clone());
        let code = resp.status().unwrap_or(0);
        // CTI's hold or retrieve that the party accepted, for the devices' events.
        let mut done: Option<(Side, bool)> = None;
        let mut quiet = false;
        if method == Some(Method::Info) && code >= 200 {
            self.info_answered(now, call, party);
        } else if method == Some(Method::Invite) && code >= 200 {
            if let Some(m) = c.media.as_mut() {
                if let Some((side, offer)) = m.pending_offer.take() {
                    quiet = std::mem::take(&mut m.pending_quiet);
                    if (200..300).contains(&code) {
                        done = Some((side, m.held_party.is_some_and(|(s, _)| s == side)));
                        let answer = SessionDescription::parse(resp.body()).ok();
                        let n = answer
                            .and_then(|a| process_answer(&offer, &a).ok())
                            .and_then(|o| tether_sdp::first_accepted(&o).copied());
                        let port = match side {
                            Side::A => {
                                m.a_local = Some(offer);
                                m.a_port
                            }
                            Side::B(i) => match m.b.get_mut(i).and_then(Option::as_mut) {
                                Some(b) => {
                                    b.offer = offer;
                                    b.port
                                }
                                None => 0,
                            },
                        };
                        if let Some(held) = m.held_party.as_mut() {
                            held.1 = false;
                        }
                        if let (Some(n), true) = (n, port != 0) {
                            if side == Side::A {
                                m.a_negotiated = Some(n);
                            }
                            self.out.push_back(Output::Media(MediaCommand::Configure {
                                port,
                                remote: n.remote_rtp,
                                codecs: codec_map(&n),
                                hold: peer_holds(&n),
                            }));
                        }
                    } else if m.held_party.is_some_and(|(s, _)| s == side) {
                        // Refused: the party is not held after all; its music stops.
                        m.held_party = None;
                        let port = match side {
                            Side::A => Some(m.a_port),
                            Side::B(i) => m.b.get(i).and_then(Option::as_ref).map(|b| b.port),
                        };
                        if let Some(port) = port {
                            self.out
                                .push_back(Output::Media(MediaCommand::StopPlaying { port }));
                        }
                    }
                }
            }
        }
        if let Some((side, held)) = done.filter(|_| !quiet) {
            self.tether_held(call, side, held);
        }
        self.pump(now, call);
    }
}
