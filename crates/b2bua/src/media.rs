//! Media anchoring, the call engine's side: which RTP ports each call holds, what Tether offered
//! and answered on each leg, and the commands that tell the media engine (`tether-rtp`, run by
//! the binary in its own task) what to do with them.
//!
//! Tether negotiates each leg on its own (RFC 3264 both ways: it answers the caller's offer and
//! makes its own offer to every leg it places), always with its own address and ports, so every
//! packet passes through it and can be relayed, transcoded, replaced by an announcement or
//! mixed. Ports come from a pool the engine owns, so an offer can be written synchronously; the
//! media task binds them when told to open a leg. A leg is named by its RTP port.
//!
//! This room is plain data and conversions; the engine (`engine/anchor.rs`) drives it. It holds
//! no socket and no clock.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tether_rtp::g711::Law;
use tether_rtp::ports::PortPool;
use tether_rtp::CodecMap;
use tether_sdp::{Capabilities, Codec, Direction, Negotiated, SessionDescription};

/// How the engine anchors media. Without it (`EngineConfig::media == None`) SDP passes through
/// untouched and the endpoints send media to each other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaConfig {
    /// The address written in Tether's SDP (`c=`): where peers send RTP.
    pub address: IpAddr,
    /// RTP ports, inclusive; each leg takes an even port and the odd one above it (RTCP).
    pub port_min: u16,
    pub port_max: u16,
}

/// What the media engine is told to do. Legs are named by their RTP port.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaCommand {
    /// Bind `port` (RTP) and `port + 1` (RTCP) and create a leg on them.
    Open { port: u16 },
    /// The leg's peer and codecs as negotiated (the peer's SDP address; latching may move it).
    Configure {
        port: u16,
        remote: Option<SocketAddr>,
        codecs: CodecMap,
        /// The peer does not want our media (it put us on hold: `sendonly`/`inactive`).
        hold: bool,
    },
    /// Relay between two legs, both ways.
    Connect { a: u16, b: u16 },
    /// Stop relaying into and out of the leg.
    Disconnect { port: u16 },
    /// The leg joins conference `room` (a call's global call id): it stops relaying; what it
    /// receives feeds the room's mixer and it is sent the mix of every other leg of the room,
    /// one 20 ms frame at a time.
    Mix { room: u64, port: u16 },
    /// The leg leaves its conference (a `Connect` may follow to relay it again).
    Unmix { port: u16 },
    /// Release the leg and its ports.
    Close { port: u16 },
    /// Play a recording into the leg (only that party hears it), instead of what is relayed
    /// to it, until stopped or, unless it loops, until it ends.
    Play {
        port: u16,
        what: Playable,
        looped: bool,
    },
    /// Stop what plays into the leg; relaying resumes.
    StopPlaying { port: u16 },
    /// The leg's party gets keys in SIP INFO: do not also play keys to it as tones.
    DigitsByInfo { port: u16 },
    /// Play DTMF keys on the leg: RFC 4733 where it negotiated telephone-event, in-band tones
    /// otherwise — or tones whatever it negotiated when `inband` (CTI GenerateDigits asked for
    /// them; `tether-rtp`'s `SendHow::InBand`, else `SendHow::Auto`).
    SendDigits {
        port: u16,
        digits: String,
        duration_ms: u32,
        inband: bool,
    },
}

/// What can be played into a leg.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Playable {
    /// The configured music on hold (a built-in tune unless a file is configured).
    MusicOnHold,
    /// The built-in zip tone (a call connected on a persistent connection).
    ZipTone,
    /// A provisioned announcement, by name.
    Announcement(String),
}

/// What the media engine reports back to the call engine.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaNotice {
    /// No RTP or RTCP arrived on the leg for the configured time: the far end vanished.
    Inactive { port: u16, silent_for: Duration },
    /// The leg could not be opened (its port is taken on this host).
    OpenFailed { port: u16 },
    /// A DTMF key arrived on the leg (RFC 4733 events, or tones in the audio).
    Digit {
        port: u16,
        digit: char,
        duration: Duration,
        inband: bool,
    },
}

/// The media of one call.
#[derive(Debug)]
pub struct CallMedia {
    /// The caller's leg.
    pub a_port: u16,
    /// The caller's offer, when the INVITE carried one.
    pub a_offer: Option<SessionDescription>,
    /// What Tether sent the caller (its answer, or its offer on a late-offer call).
    pub a_local: Option<SessionDescription>,
    /// The caller's leg is negotiated (answer sent or answer received).
    pub a_negotiated: Option<Negotiated>,
    /// One per B leg, by index.
    pub b: Vec<Option<BMedia>>,
    /// The B leg relayed to the caller.
    pub connected: Option<usize>,
    /// Session id of Tether's SDP on every leg of this call.
    pub session_id: u64,
    /// The party holding the call (it sent `sendonly` or `inactive`); the other hears music.
    pub held_by: Option<crate::call::Side>,
    /// The party Tether holds (CTI hold), and whether its re-INVITE still waits for an answer.
    pub held_party: Option<(crate::call::Side, bool)>,
    /// Tether's re-offer to a party, until the answer comes.
    pub pending_offer: Option<(crate::call::Side, SessionDescription)>,
    /// The pending re-offer moved here with its leg from another call (a transfer retrieving
    /// the held party): its answer is reported to no device, the one that asked having left.
    pub pending_quiet: bool,
    /// The A port is not this call's: a consultation call using another call's device leg,
    /// or a leg moved to another call. It is neither closed nor given back with this call.
    pub a_elsewhere: bool,
    /// The relay between the two parties was taken apart (the device's leg went to a
    /// consultation): retrieving the held party connects them again.
    pub relay_broken: bool,
}

/// The media of one leg Tether placed.
#[derive(Debug)]
pub struct BMedia {
    pub port: u16,
    /// Tether's offer on this leg.
    pub offer: SessionDescription,
    pub negotiated: Option<Negotiated>,
}

/// The codecs Tether carries, in the caller's order of preference when it gave one.
pub fn offered_codecs(offer: Option<&SessionDescription>) -> Vec<Codec> {
    let mut out = Vec::with_capacity(2);
    if let Some(m) = offer.and_then(|o| o.media().iter().find(|m| m.media() == "audio")) {
        for (_, c) in m.codecs() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    for c in [Codec::Pcmu, Codec::Pcma] {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Does the caller's offer carry an audio stream Tether can take (G.711 over RTP/AVP)?
pub fn offer_is_carriable(offer: &SessionDescription) -> bool {
    offer.media().iter().any(|m| {
        m.media().eq_ignore_ascii_case("audio")
            && m.port() != 0
            && m.proto().eq_ignore_ascii_case(tether_sdp::RTP_AVP)
            && !m.codecs().is_empty()
    })
}

/// Tether's capabilities on one leg: its address and port, the codecs in the order given.
pub fn capabilities(address: IpAddr, port: u16, codecs: Vec<Codec>) -> Capabilities {
    let mut caps = Capabilities::new(SocketAddr::new(address, port));
    caps.codecs = codecs;
    caps
}

/// The media engine's codec map for what one leg negotiated.
pub fn codec_map(n: &Negotiated) -> CodecMap {
    let pt = |p: tether_sdp::Pt| tether_rtp::Pt::new(p.get());
    let (send, pcmu, pcma) = match n.codec {
        Codec::Pcma => (Law::Alaw, None, pt(n.pt)),
        _ => (Law::Ulaw, pt(n.pt), None),
    };
    CodecMap {
        pcmu,
        pcma,
        telephone_event: n.telephone_event.and_then(|t| pt(t.pt)),
        comfort_noise: None,
        send,
        ptime_ms: n
            .ptime
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| (10..=120).contains(p) && p % 10 == 0)
            .unwrap_or(20),
    }
}

/// The peer does not want to receive media from us (it holds us).
pub fn peer_holds(n: &Negotiated) -> bool {
    n.remote_hold || matches!(n.direction, Direction::RecvOnly | Direction::Inactive)
}

/// The engine's RTP port pool.
#[derive(Debug)]
pub struct Ports {
    pool: PortPool,
}

impl Ports {
    pub fn new(cfg: &MediaConfig) -> Option<Ports> {
        PortPool::new(cfg.port_min, cfg.port_max)
            .ok()
            .map(|pool| Ports { pool })
    }

    pub fn allocate(&mut self) -> Option<u16> {
        self.pool.allocate().ok().map(|p| p.rtp)
    }

    pub fn release(&mut self, port: u16) {
        let _ = self.pool.release(port);
    }

    pub fn available(&self) -> usize {
        self.pool.available()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

    #[test]
    fn codecs_follow_the_callers_order() {
        let o = SessionDescription::parse(OFFER).unwrap();
        assert_eq!(offered_codecs(Some(&o)), vec![Codec::Pcma, Codec::Pcmu]);
        assert_eq!(offered_codecs(None), vec![Codec::Pcmu, Codec::Pcma]);
        assert!(offer_is_carriable(&o));
        let video = SessionDescription::parse(
            "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=video 4000 RTP/AVP 31\r\n",
        )
        .unwrap();
        assert!(!offer_is_carriable(&video));
    }

    #[test]
    fn negotiated_pcma_maps_to_the_alaw_codec_map() {
        let o = SessionDescription::parse(OFFER).unwrap();
        let caps = capabilities("192.0.2.1".parse().unwrap(), 20000, vec![Codec::Pcma]);
        let ans = tether_sdp::answer_offer(
            &o,
            &caps,
            tether_sdp::Origin::new(1, caps.rtp_endpoints[0].ip()),
        )
        .unwrap();
        let n = ans.audio().unwrap();
        let map = codec_map(n);
        assert_eq!(map.send, Law::Alaw);
        assert_eq!(map.pcma.map(|p| p.get()), Some(8));
        assert_eq!(map.telephone_event.map(|p| p.get()), Some(101));
        assert!(map.validate().is_ok());
        assert_eq!(n.remote_rtp, Some("10.0.0.2:4000".parse().unwrap()));
    }
}
