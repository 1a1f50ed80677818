//! RFC 3264 offer/answer for one call leg: answering a peer's offer, making our own offer, checking
//! the peer's answer to it, and re-offers for hold (RFC 6337) and resume.
//!
//! Each result is per leg: payload type numbers are the ones negotiated on *this* leg and are never
//! renumbered to match another leg (bridging two legs with different numbers is the media engine's
//! job). This room is pure: no sockets, no clock, no randomness — the caller supplies the local
//! RTP endpoints and the `o=` line.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::codec::{Codec, EventSet, Pt};
use crate::direction::{answer_direction, hold_offer, Direction};
use crate::error::{ApiMisuse, InvalidAnswer, SdpError};
use crate::line_values::{Connection, Origin};
use crate::media::{MediaDescription, MediaLine};
use crate::session::SessionDescription;

/// The only transport profile Tether's media engine speaks.
pub const RTP_AVP: &str = "RTP/AVP";

/// `s=` text in descriptions Tether writes (RFC 3264 §5 recommends `-` for unicast sessions).
pub const SESSION_NAME: &str = "-";

/// What this side of the leg can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Codecs we support, most preferred first (the order of our own offers).
    pub codecs: Vec<Codec>,
    /// Whether we support RFC 4733 telephone-event, and the payload type to use in our own offers.
    /// (In answers the offerer's number is always used.)
    pub telephone_event: Option<Pt>,
    /// Events we can send and receive (normally DTMF 0–15 and flash 16).
    pub events: EventSet,
    /// Packetization time we want to receive, advertised as `a=ptime`.
    pub ptime: Option<u32>,
    /// Local direction preference; it can only restrict what the offer allows.
    pub direction: Direction,
    /// Local RTP address and port for each stream we may accept, used in order: the n-th accepted
    /// audio stream gets the n-th endpoint; audio streams beyond the list are rejected. Our own
    /// offers use the first.
    pub rtp_endpoints: Vec<SocketAddr>,
}

impl Capabilities {
    /// PCMU then PCMA, telephone-event at 101 with events 0–16, ptime 20, `sendrecv`, one endpoint.
    pub fn new(rtp_endpoint: SocketAddr) -> Capabilities {
        Capabilities {
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            telephone_event: Some(Pt::TELEPHONE_EVENT_DEFAULT),
            events: EventSet::DTMF_AND_FLASH,
            ptime: Some(20),
            direction: Direction::SendRecv,
            rtp_endpoints: vec![rtp_endpoint],
        }
    }

    fn check(&self) -> Result<(), SdpError> {
        if self.codecs.is_empty() {
            return Err(SdpError::ApiMisuse(ApiMisuse::NoCodecs));
        }
        if self.rtp_endpoints.is_empty() {
            return Err(SdpError::ApiMisuse(ApiMisuse::NoEndpoint));
        }
        if let Some(te) = self.telephone_event {
            if self.codecs.iter().any(|c| c.static_pt() == te) {
                return Err(SdpError::ApiMisuse(ApiMisuse::PayloadTypeClash));
            }
        }
        Ok(())
    }
}

/// Negotiated RFC 4733 telephone events on one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Payload type we send events with (the peer's number).
    pub pt: Pt,
    /// Payload type we receive events with (the number in the offer; equal to `pt` unless the
    /// answerer ignored RFC 3264's SHOULD and renumbered).
    pub recv_pt: Pt,
    /// Events both sides support.
    pub events: EventSet,
}

/// The outcome of negotiating one accepted stream on one leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// 0-based index of the `m=` line.
    pub index: usize,
    /// The codec to send.
    pub codec: Codec,
    /// Payload type we send the codec with.
    pub pt: Pt,
    /// Payload type we receive the codec with (see [`TelephoneEvent::recv_pt`]).
    pub recv_pt: Pt,
    /// Telephone events, if both sides support them.
    pub telephone_event: Option<TelephoneEvent>,
    /// The peer's `a=ptime` (the packetization it wants to receive), if stated.
    pub ptime: Option<u32>,
    /// Where to send RTP; `None` when the peer gives no usable address (`0.0.0.0` legacy hold, or
    /// a host name the caller must resolve from the SDP itself).
    pub remote_rtp: Option<SocketAddr>,
    /// Our RTP address and port for this stream.
    pub local_rtp: SocketAddr,
    /// Our direction on this stream: whether we may send and should expect to receive.
    pub direction: Direction,
    /// The peer does not want to receive (it offered/answered `sendonly`/`inactive` or
    /// `c=0.0.0.0`): it has put us on hold.
    pub remote_hold: bool,
}

/// Why a stream was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// The stream was offered with port 0.
    Disabled,
    /// Not audio (video, `image` for T.38, application, ...).
    MediaType,
    /// Audio, but not over plain `RTP/AVP` (SRTP, AVPF, ...).
    Proto,
    /// Audio with no codec in common.
    NoCommonCodec,
    /// No local RTP endpoint left for it.
    NoEndpoint,
    /// The peer answered our stream with port 0.
    Declined,
}

/// The per-`m=`-line outcome of a negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaOutcome {
    /// The stream carries media.
    Accepted(Negotiated),
    /// The stream is (or stays) port 0.
    Rejected {
        /// 0-based index of the `m=` line.
        index: usize,
        /// Why.
        reason: RejectReason,
    },
}

impl MediaOutcome {
    /// The negotiated stream, if accepted.
    pub fn accepted(&self) -> Option<&Negotiated> {
        match self {
            Self::Accepted(n) => Some(n),
            Self::Rejected { .. } => None,
        }
    }
}

/// Our answer to a peer's offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The answer to send: as many `m=` lines as the offer, in the same order.
    pub sdp: SessionDescription,
    /// One outcome per `m=` line of the offer.
    pub media: Vec<MediaOutcome>,
}

impl Answer {
    /// The first accepted stream (for Tether, the call's audio).
    pub fn audio(&self) -> Option<&Negotiated> {
        first_accepted(&self.media)
    }
}

/// The first accepted stream of a list of outcomes.
pub fn first_accepted(outcomes: &[MediaOutcome]) -> Option<&Negotiated> {
    outcomes.iter().find_map(MediaOutcome::accepted)
}

/// Whether a stream is something Tether's media engine can carry at all.
fn carriable(m: &MediaDescription) -> Result<(), RejectReason> {
    if !m.media().eq_ignore_ascii_case("audio") {
        return Err(RejectReason::MediaType);
    }
    if !m.proto().eq_ignore_ascii_case(RTP_AVP) {
        return Err(RejectReason::Proto);
    }
    Ok(())
}

/// The codecs of `m` that we support, in `m`'s order, one payload type per codec.
fn common_codecs(m: &MediaDescription, supported: &[Codec]) -> Vec<(Pt, Codec)> {
    let mut out: Vec<(Pt, Codec)> = Vec::new();
    for (pt, codec) in m.codecs() {
        if supported.contains(&codec) && !out.iter().any(|(_, c)| *c == codec) {
            out.push((pt, codec));
        }
    }
    out
}

/// Events offered with telephone-event payload type `pt` in `m` (RFC 4733 §2.4.1: no fmtp means
/// 0–15); `None` if the fmtp cannot be read.
fn offered_events(m: &MediaDescription, pt: Pt) -> Option<EventSet> {
    match m.fmtp(pt) {
        None | Some("") => Some(EventSet::DTMF),
        Some(params) => EventSet::parse(params),
    }
}

/// The first telephone-event payload type of `m` at `rate` with a readable event list.
fn telephone_event_of(m: &MediaDescription, rate: u32) -> Option<(Pt, EventSet)> {
    m.telephone_event_pts(rate)
        .into_iter()
        .find_map(|pt| offered_events(m, pt).map(|ev| (pt, ev)))
}

/// The peer's direction and address for stream `index` of `sdp`, with RFC 2543 `c=0.0.0.0`
/// hold folded in (the peer will not receive).
fn peer_view(sdp: &SessionDescription, index: usize, port: u16) -> (Direction, Option<SocketAddr>) {
    let mut direction = sdp.media_direction(index);
    let connection = sdp.media_connection(index);
    if connection.is_some_and(Connection::is_legacy_hold) {
        direction = direction.intersect(Direction::SendOnly);
    }
    let remote = connection
        .and_then(Connection::ip)
        .filter(|ip| !ip.is_unspecified())
        .map(|ip| SocketAddr::new(ip, port));
    (direction, remote)
}

/// Answer a peer's offer (RFC 3264 §6).
///
/// The answer has the offer's `m=` lines in the same order. Streams Tether cannot carry (video,
/// `m=image` T.38, other protocols, no common codec, no endpoint left) are answered with port 0 and
/// the offer's first format — rejected, never dropped. Accepted audio lists the common codecs in
/// the offer's order (RFC 3264 §6.1 recommends keeping it) with the **offerer's** payload type
/// numbers, plus telephone-event with the offerer's number and the common event range. The answer
/// direction follows RFC 3264 §6.1, restricted by [`Capabilities::direction`].
///
/// `origin` is our `o=` line: a fresh [`Origin::new`] for the first description of a session,
/// `last_sent.origin().next_version()` afterwards.
///
/// # Errors
/// [`SdpError::NoCommonCodec`] when audio was offered but none matched, [`SdpError::NoAcceptableMedia`]
/// when no stream could be accepted at all (both are 488), or [`SdpError::ApiMisuse`].
pub fn answer_offer(
    offer: &SessionDescription,
    caps: &Capabilities,
    origin: Origin,
) -> Result<Answer, SdpError> {
    caps.check()?;
    let mut endpoints = caps.rtp_endpoints.iter();
    let mut outcomes = Vec::with_capacity(offer.media().len());
    let mut sections = Vec::with_capacity(offer.media().len());
    let mut session_ip: Option<IpAddr> = None;

    for (index, m) in offer.media().iter().enumerate() {
        let accepted = negotiate_offered(offer, index, m, caps, &mut endpoints);
        match accepted {
            Ok((negotiated, codecs, te)) => {
                let ip = *session_ip.get_or_insert(negotiated.local_rtp.ip());
                sections.push(accepted_section(m, &negotiated, &codecs, te, caps, ip));
                outcomes.push(MediaOutcome::Accepted(negotiated));
            }
            Err(reason) => {
                sections.push(rejected_section(m));
                outcomes.push(MediaOutcome::Rejected { index, reason });
            }
        }
    }

    let Some(ip) = session_ip else {
        let no_codec = outcomes.iter().any(|o| {
            matches!(
                o,
                MediaOutcome::Rejected {
                    reason: RejectReason::NoCommonCodec,
                    ..
                }
            )
        });
        return Err(if no_codec {
            SdpError::NoCommonCodec
        } else {
            SdpError::NoAcceptableMedia
        });
    };
    let mut sdp = SessionDescription::new(origin, SESSION_NAME);
    sdp.set_connection(Connection::new(ip));
    for section in sections {
        sdp.push_media(section);
    }
    Ok(Answer {
        sdp,
        media: outcomes,
    })
}

type Accepted = (Negotiated, Vec<(Pt, Codec)>, Option<(Pt, EventSet)>);

fn negotiate_offered<'a>(
    offer: &SessionDescription,
    index: usize,
    m: &MediaDescription,
    caps: &Capabilities,
    endpoints: &mut impl Iterator<Item = &'a SocketAddr>,
) -> Result<Accepted, RejectReason> {
    if m.is_disabled() {
        return Err(RejectReason::Disabled);
    }
    carriable(m)?;
    let codecs = common_codecs(m, &caps.codecs);
    let &(pt, codec) = codecs.first().ok_or(RejectReason::NoCommonCodec)?;
    let local_rtp = *endpoints.next().ok_or(RejectReason::NoEndpoint)?;
    let te = caps
        .telephone_event
        .and_then(|_| telephone_event_of(m, codec.clock_rate()))
        .map(|(pt, ev)| (pt, ev.intersect(&caps.events)))
        .filter(|(_, ev)| !ev.is_empty());
    let (peer_direction, remote_rtp) = peer_view(offer, index, m.port());
    let negotiated = Negotiated {
        index,
        codec,
        pt,
        recv_pt: pt,
        telephone_event: te.map(|(pt, events)| TelephoneEvent {
            pt,
            recv_pt: pt,
            events,
        }),
        ptime: m.ptime(),
        remote_rtp,
        local_rtp,
        direction: answer_direction(peer_direction, caps.direction),
        remote_hold: !peer_direction.receives(),
    };
    Ok((negotiated, codecs, te))
}

/// An answer section for an accepted audio stream.
fn accepted_section(
    offered: &MediaDescription,
    n: &Negotiated,
    codecs: &[(Pt, Codec)],
    te: Option<(Pt, EventSet)>,
    caps: &Capabilities,
    session_ip: IpAddr,
) -> MediaDescription {
    let mut formats: Vec<String> = codecs.iter().map(|(pt, _)| pt.to_string()).collect();
    if let Some((pt, _)) = te {
        formats.push(pt.to_string());
    }
    let mut m = MediaDescription::new(MediaLine {
        media: offered.media().to_owned(),
        port: n.local_rtp.port(),
        port_count: None,
        proto: offered.proto().to_owned(),
        formats,
    });
    if n.local_rtp.ip() != session_ip {
        m.set_connection(Connection::new(n.local_rtp.ip()));
    }
    push_audio_attributes(&mut m, codecs, te, caps.ptime, n.direction);
    m
}

fn push_audio_attributes(
    m: &mut MediaDescription,
    codecs: &[(Pt, Codec)],
    te: Option<(Pt, EventSet)>,
    ptime: Option<u32>,
    direction: Direction,
) {
    for (pt, codec) in codecs {
        m.push_attribute("rtpmap", Some(&codec.rtpmap(*pt).to_string()));
    }
    if let Some((pt, events)) = te {
        m.push_attribute("rtpmap", Some(&format!("{pt} telephone-event/8000")));
        m.push_attribute("fmtp", Some(&format!("{pt} {events}")));
    }
    if let Some(ptime) = ptime {
        m.push_attribute("ptime", Some(&ptime.to_string()));
    }
    m.push_attribute(direction.as_str(), None);
}

/// An answer section rejecting an offered stream: same media and proto, port 0, the offer's first
/// format (RFC 3264 §6: at least one format must be listed).
fn rejected_section(offered: &MediaDescription) -> MediaDescription {
    let first = offered
        .formats()
        .first()
        .cloned()
        .unwrap_or_else(|| "0".to_owned());
    MediaDescription::new(MediaLine {
        media: offered.media().to_owned(),
        port: 0,
        port_count: None,
        proto: offered.proto().to_owned(),
        formats: vec![first],
    })
}

/// Our initial offer (RFC 3264 §5): one audio stream on the first endpoint with our codecs in
/// preference order at their static payload types, telephone-event if supported, our ptime and
/// direction.
///
/// # Errors
/// [`SdpError::ApiMisuse`] if the capabilities list no codec or endpoint, or telephone-event
/// clashes with a codec's payload type.
pub fn create_offer(caps: &Capabilities, origin: Origin) -> Result<SessionDescription, SdpError> {
    caps.check()?;
    let endpoint = *caps
        .rtp_endpoints
        .first()
        .ok_or(SdpError::ApiMisuse(ApiMisuse::NoEndpoint))?;
    let mut codecs: Vec<(Pt, Codec)> = Vec::with_capacity(caps.codecs.len());
    for codec in &caps.codecs {
        if !codecs.iter().any(|(_, c)| c == codec) {
            codecs.push((codec.static_pt(), *codec));
        }
    }
    let te = caps
        .telephone_event
        .map(|pt| (pt, caps.events))
        .filter(|(_, ev)| !ev.is_empty());
    let mut formats: Vec<String> = codecs.iter().map(|(pt, _)| pt.to_string()).collect();
    if let Some((pt, _)) = te {
        formats.push(pt.to_string());
    }
    let mut m = MediaDescription::new(MediaLine {
        media: "audio".to_owned(),
        port: endpoint.port(),
        port_count: None,
        proto: RTP_AVP.to_owned(),
        formats,
    });
    push_audio_attributes(&mut m, &codecs, te, caps.ptime, caps.direction);
    let mut sdp = SessionDescription::new(origin, SESSION_NAME);
    sdp.set_connection(Connection::new(endpoint.ip()));
    sdp.push_media(m);
    Ok(sdp)
}

/// Check the peer's answer against the offer we sent and say what was negotiated.
///
/// Validates RFC 3264 §6: same number of `m=` lines, same media types, streams we disabled stay
/// disabled. Accepted streams use the first answered codec that we offered; formats we did not
/// offer are ignored rather than fatal (be liberal in what we accept). A stream whose answer shares
/// no codec with our offer comes back as [`RejectReason::NoCommonCodec`]; the caller decides
/// whether to tear the call down.
///
/// # Errors
/// [`SdpError::InvalidAnswer`] when the answer's structure does not match the offer.
pub fn process_answer(
    offer: &SessionDescription,
    answer: &SessionDescription,
) -> Result<Vec<MediaOutcome>, SdpError> {
    let (offered, answered) = (offer.media(), answer.media());
    if offered.len() != answered.len() {
        return Err(SdpError::InvalidAnswer(InvalidAnswer::MediaCount {
            offered: offered.len(),
            answered: answered.len(),
        }));
    }
    let mut outcomes = Vec::with_capacity(offered.len());
    for (index, (om, am)) in offered.iter().zip(answered).enumerate() {
        if !om.media().eq_ignore_ascii_case(am.media()) {
            return Err(SdpError::InvalidAnswer(InvalidAnswer::MediaType { index }));
        }
        if om.is_disabled() {
            if !am.is_disabled() {
                return Err(SdpError::InvalidAnswer(
                    InvalidAnswer::DisabledStreamAccepted { index },
                ));
            }
            outcomes.push(MediaOutcome::Rejected {
                index,
                reason: RejectReason::Disabled,
            });
            continue;
        }
        let outcome = match negotiate_answered(offer, answer, index, om, am) {
            Ok(n) => MediaOutcome::Accepted(n),
            Err(reason) => MediaOutcome::Rejected { index, reason },
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn negotiate_answered(
    offer: &SessionDescription,
    answer: &SessionDescription,
    index: usize,
    om: &MediaDescription,
    am: &MediaDescription,
) -> Result<Negotiated, RejectReason> {
    if am.is_disabled() {
        return Err(RejectReason::Declined);
    }
    carriable(om)?;
    let offered = om.codecs();
    let offered_pt = |codec: Codec| offered.iter().find(|(_, c)| *c == codec).map(|(pt, _)| *pt);
    let (codec, pt, recv_pt) = am
        .codecs()
        .into_iter()
        .find_map(|(pt, codec)| offered_pt(codec).map(|recv| (codec, pt, recv)))
        .ok_or(RejectReason::NoCommonCodec)?;
    let rate = codec.clock_rate();
    let telephone_event = match (telephone_event_of(om, rate), telephone_event_of(am, rate)) {
        (Some((recv_pt, ours)), Some((pt, theirs))) => Some(TelephoneEvent {
            pt,
            recv_pt,
            events: ours.intersect(&theirs),
        })
        .filter(|te| !te.events.is_empty()),
        _ => None,
    };
    let (peer_direction, remote_rtp) = peer_view(answer, index, am.port());
    let local_ip = offer
        .media_connection(index)
        .and_then(Connection::ip)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    Ok(Negotiated {
        index,
        codec,
        pt,
        recv_pt,
        telephone_event,
        ptime: am.ptime(),
        remote_rtp,
        local_rtp: SocketAddr::new(local_ip, om.port()),
        direction: offer
            .media_direction(index)
            .intersect(peer_direction.reversed()),
        remote_hold: !peer_direction.receives(),
    })
}

/// A re-offer (re-INVITE) built from the last description we sent: same session id, version + 1
/// (RFC 3264 §8), same streams, ports and codecs, with `direction` on every active stream (and any
/// session-level direction removed). Disabled streams stay disabled.
pub fn reoffer(previous: &SessionDescription, direction: Direction) -> SessionDescription {
    let mut sdp = previous.clone();
    sdp.set_origin(previous.origin().next_version());
    sdp.clear_direction();
    for m in sdp.media_mut() {
        if !m.is_disabled() {
            m.set_direction(direction);
        }
    }
    sdp
}

/// A hold re-offer per RFC 6337: `sendonly` if we were `sendrecv`, `inactive` if the peer already
/// holds us (`current` is our negotiated direction, e.g. [`Negotiated::direction`]).
/// Never `recvonly`.
pub fn hold_reoffer(previous: &SessionDescription, current: Direction) -> SessionDescription {
    reoffer(previous, hold_offer(current))
}

/// A resume (retrieve) re-offer: `sendrecv` again.
pub fn resume_reoffer(previous: &SessionDescription) -> SessionDescription {
    reoffer(previous, Direction::SendRecv)
}

#[cfg(test)]
mod tests;
