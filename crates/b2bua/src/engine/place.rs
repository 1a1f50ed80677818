//! Where the legs Tether places go, and the INVITEs it sends them: the targets of a routed call
//! (remote destinations, a phone's registered contacts, a trunk route), the trunk each leg takes
//! (the first with a free channel), and the request itself — the identity it shows (From and
//! P-Asserted-Identity, never an RD number), a Diversion when the call was redirected on its
//! way (RFC 5806), and Tether's own offer when media is anchored.

use std::time::Duration;

use super::*;
use crate::call::LegTarget;
use crate::route::Forwarded;

/// The display name a MakeCall's remote destination is shown (SPEC §2.3).
pub(super) const VOICE_CONNECT: &str = "Voice Connect";

/// The legs a routed call rings and what the CDR says of its destination.
pub(super) struct Targets {
    pub targets: Vec<LegTarget>,
    pub fork: bool,
    /// The device whose line was reached, if a line was.
    pub dest_device: String,
    pub final_called: String,
}

/// `"name" <sip:user@host>` (or without the name), as From and P-Asserted-Identity carry it.
fn name_addr(display: Option<&str>, user: &str, host: &str) -> String {
    let mut v = String::with_capacity(user.len() + host.len() + 32);
    if let Some(d) = display.filter(|d| !d.is_empty()) {
        v.push('"');
        v.extend(d.chars().filter(|c| *c != '"' && *c != '\\'));
        v.push_str("\" ");
    }
    v.push_str("<sip:");
    v.push_str(user);
    v.push('@');
    v.push_str(host);
    v.push('>');
    v
}

impl Engine {
    /// The legs `dest` rings. `forwarded` puts a Diversion on each (Call Forward All).
    pub(super) fn targets_for(
        &self,
        now: Instant,
        dest: &Destination,
        forwarded: Option<&Forwarded>,
    ) -> Result<Targets, Refusal> {
        let diversion = forwarded.map(|f| self.diversion(&f.dn, "unconditional"));
        let mut targets = Vec::new();
        let t = match dest {
            Destination::RemoteDestinations {
                device,
                line,
                targets: rds,
                fork,
            } => {
                for t in rds {
                    targets.push(LegTarget {
                        user: t.dialed.clone(),
                        trunks: t.trunks.clone(),
                        contact: None,
                        rd: Some(t.rd.clone()),
                        rd_number: Some(t.number.clone()),
                        delay: t.delay_before_ringing,
                        answer_too_soon: if *fork {
                            t.answer_too_soon
                        } else {
                            Duration::ZERO
                        },
                        answer_too_late: Some(t.answer_too_late),
                        diversion: diversion.clone(),
                    });
                }
                Targets {
                    targets,
                    fork: *fork,
                    dest_device: device.clone(),
                    final_called: line.dn.clone(),
                }
            }
            Destination::Phone { device, line } => {
                for b in self.registrar.bindings(device, now) {
                    targets.push(LegTarget {
                        user: b.contact.user().unwrap_or(&line.dn).to_owned(),
                        trunks: Vec::new(),
                        contact: Some((b.contact.clone(), b.peer)),
                        rd: None,
                        rd_number: None,
                        delay: Duration::ZERO,
                        answer_too_soon: Duration::ZERO,
                        answer_too_late: None,
                        diversion: diversion.clone(),
                    });
                }
                if targets.is_empty() {
                    return Err(Refusal::new(
                        480,
                        "Temporarily Unavailable",
                        20,
                        format!("{device} is not registered"),
                    ));
                }
                Targets {
                    fork: targets.len() > 1,
                    targets,
                    dest_device: device.clone(),
                    final_called: line.dn.clone(),
                }
            }
            Destination::Trunk { called, trunks } => {
                targets.push(LegTarget {
                    user: called.clone(),
                    trunks: trunks.clone(),
                    contact: None,
                    rd: None,
                    rd_number: None,
                    delay: Duration::ZERO,
                    answer_too_soon: Duration::ZERO,
                    answer_too_late: None,
                    diversion,
                });
                Targets {
                    targets,
                    fork: false,
                    dest_device: String::new(),
                    final_called: called.clone(),
                }
            }
        };
        Ok(t)
    }

    /// A Diversion value (RFC 5806) naming the DN a call left, with why.
    pub(super) fn diversion(&self, dn: &str, reason: &str) -> String {
        let mut v = name_addr(None, dn, &self.cfg.domain);
        v.push_str(";reason=");
        v.push_str(reason);
        v.push_str(";counter=1");
        v
    }

    /// Starts the B legs from index `first` on: at once, or after their delay before ringing.
    pub(super) fn start_legs(&mut self, now: Instant, call: u64, first: usize) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let delays: Vec<(usize, Duration)> =
            c.b.iter()
                .enumerate()
                .skip(first)
                .map(|(i, l)| (i, l.target.delay))
                .collect();
        for (i, d) in delays {
            if d.is_zero() {
                self.start_leg(now, call, i);
            } else {
                self.timers
                    .arm(now + d, TimerKind::StartLeg { call, leg: i });
            }
        }
        self.check_all_failed(now, call);
    }

    /// Sends the INVITE of B leg `leg`.
    pub(super) fn start_leg(&mut self, now: Instant, call: u64, leg: usize) {
        self.place_leg(now, call, Side::B(leg));
    }

    /// A leg that could not be placed or failed: the call learns of it.
    fn placed_gone(&mut self, now: Instant, call: u64, side: Side) {
        match side {
            Side::A => self.rd_leg_failed(now, call),
            Side::B(_) => self.check_all_failed(now, call),
        }
    }

    /// Sends the INVITE of the leg Tether places on `side`: seizes a trunk channel and builds
    /// the request.
    pub(super) fn place_leg(&mut self, now: Instant, call: u64, side: Side) {
        let snap = self.snap.clone();
        let call_id = self.unique("b");
        let from_tag = self.unique("f");
        let rng = self.rng();
        let domain = self.cfg.domain.as_str();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.state != CallState::Proceeding {
            return;
        }
        let Some(l) = c.placed_mut(side) else { return };
        if l.state != LegState::Waiting {
            return;
        }
        // Where to: a registered contact, or the first trunk with a free channel.
        let (uri, peer, trunk) = if let Some((uri, peer)) = &l.target.contact {
            (uri.clone(), *peer, None)
        } else {
            let mut chosen = None;
            let mut full = false;
            for name in &l.target.trunks {
                let Some(t) = snap.data().trunks.get(name) else {
                    continue;
                };
                let Some((ip, port)) = channels::peer_addr(t) else {
                    continue;
                };
                if !self.channels.seize(t) {
                    full = true;
                    continue;
                }
                let port = port.unwrap_or(5060);
                chosen = Some((
                    Uri::sip(Some(&l.target.user), &ip.to_string(), Some(port)),
                    Peer::new(Transport::Udp, std::net::SocketAddr::new(ip, port)),
                    Some(name.clone()),
                ));
                break;
            }
            match chosen {
                Some(x) => x,
                None => {
                    l.state = LegState::Failed(503);
                    l.cause = Some(if full { 34 } else { 38 });
                    self.placed_gone(now, call, side);
                    return;
                }
            }
        };
        // Who calls: the caller as presented on a B leg; on MakeCall's leg to the remote
        // destination, `Voice Connect` and the trunk's DID (anonymous when it has none).
        let (display, number) = match side {
            Side::A => (
                Some(VOICE_CONNECT),
                trunk
                    .as_ref()
                    .and_then(|t| snap.data().trunks.get(t))
                    .and_then(|t| t.did.as_deref())
                    .filter(|d| !d.is_empty()),
            ),
            Side::B(_) => (
                c.presented_display.as_deref(),
                Some(c.presented_calling.as_str()).filter(|n| !n.is_empty()),
            ),
        };
        let identity = match number {
            Some(n) => name_addr(display, n, domain),
            None => name_addr(display, "anonymous", "anonymous.invalid"),
        };
        let mf =
            c.a.inbound()
                .and_then(|a| a.invite.max_forwards().ok().flatten())
                .unwrap_or(70)
                .saturating_sub(1);
        let Some(l) = c.placed(side) else { return };
        let mut inv = Message::new_request(Method::Invite, uri.clone());
        let to_uri = Uri::sip(Some(&l.target.user), uri.host().unwrap_or(domain), None);
        let via = via_value(&self.sent_by, peer.transport, None);
        // Every line in one text (one allocation for the INVITE's headers).
        let mut lines = tether_sip::HeaderLines::with_capacity(11, 512);
        lines
            .push(HeaderName::Via, &via)
            .push_with(HeaderName::MaxForwards, |t| push_decimal(t, u64::from(mf)))
            .push_with(HeaderName::From, |t| {
                t.push_str(&identity);
                t.push_str(";tag=");
                t.push_str(&from_tag);
            })
            .push_with(HeaderName::To, |t| {
                t.push('<');
                t.push_str(to_uri.as_str());
                t.push('>');
            })
            .push(HeaderName::CallId, &call_id)
            .push(HeaderName::CSeq, "1 INVITE")
            .push(HeaderName::Contact, &self.contact_text)
            .push(HeaderName::Allow, super::ALLOW)
            .push(HeaderName::Supported, super::SUPPORTED);
        if number.is_some() {
            lines.push(HeaderName::PAssertedIdentity, &identity);
        }
        if let Some(d) = &l.target.diversion {
            lines.push(HeaderName::Diversion, d);
        }
        let ok = inv.push_lines(lines).is_ok();
        // Without anchored media a B leg carries the caller's offer.
        let (mut body, mut ct) = match (&c.a, side) {
            (ALeg::Inbound(a), Side::B(_)) => (
                a.invite.body().clone(),
                a.invite
                    .header_value(&HeaderName::ContentType)
                    .map(str::to_owned),
            ),
            _ => (bytes::Bytes::new(), None),
        };
        // Anchored media: Tether's own offer on a port of its own.
        let mut no_port = false;
        match self.leg_offer(call, side) {
            None => {}
            Some(Some(offer)) => {
                body = offer;
                ct = Some("application/sdp".to_owned());
            }
            Some(None) => no_port = true,
        }
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if side == Side::A {
            c.cdr.orig_span = trunk.clone().unwrap_or_default();
            c.cdr.orig_leg_call_identifier = call_id;
        }
        let Some(l) = c.placed_mut(side) else { return };
        if no_port {
            // Q.850 47: resource unavailable (no RTP port left for this leg).
            l.state = LegState::Failed(503);
            l.cause = Some(47);
            if let Some(t) = trunk {
                self.channels.release(&t);
            }
            self.placed_gone(now, call, side);
            return;
        }
        let ok = ok && (body.is_empty() || inv.set_body(ct.as_deref(), body).is_ok());
        if !ok {
            l.state = LegState::Failed(500);
            if let Some(t) = trunk {
                self.channels.release(&t);
            }
            self.placed_gone(now, call, side);
            return;
        }
        match self.txn.start_client(now, inv.clone(), peer) {
            Ok(t) => {
                let sent = self.txn.request(t).cloned().unwrap_or(inv);
                l.set = Some(DialogSet::new(sent, self.cfg.sessions.clone(), rng));
                l.txn = Some(t);
                l.peer = Some(peer);
                l.trunk = trunk;
                l.state = LegState::Calling;
                l.started_at = Some(now);
                let on_trunk = l.trunk.is_some();
                self.stats.outbound_attempts += 1;
                self.out.push_back(Output::Event(CallEvent::LegStarted {
                    call,
                    trunk: l.trunk.clone(),
                }));
                if let Some(late) = l.target.answer_too_late {
                    self.timers
                        .arm(now + late, TimerKind::AnswerTooLate { call, side });
                }
                self.track_txn(t, call, side);
                if on_trunk && side != Side::A {
                    self.network_reached(call);
                }
            }
            Err(_) => {
                l.state = LegState::Failed(500);
                if let Some(t) = trunk {
                    self.channels.release(&t);
                }
                self.placed_gone(now, call, side);
            }
        }
        self.drain(now);
    }
}
