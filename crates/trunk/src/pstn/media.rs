//! The SDP side of a simulated call: the RTP port it claims (even ports from the configured
//! first one, wrapping), the answer to the caller's offer or our own offer when the INVITE had
//! none (PCMU, PCMA, telephone-event, via tether-sdp), and the `o=` version across re-offers.
//!
//! Descriptions only: no RTP flows from the simulator. Which codec and remote address were
//! negotiated is kept for whoever will carry media (the media engine, for echo calls).

use std::net::{IpAddr, SocketAddr};
use tether_sdp::{
    answer_offer, create_offer, first_accepted, process_answer, Capabilities, Codec, Origin,
    SdpError, SessionDescription,
};

/// Even RTP ports from `first`, one per call, wrapping back to `first` after 65534.
#[derive(Clone, Debug)]
pub(crate) struct PortAllocator {
    first: u16,
    next: u16,
}

impl PortAllocator {
    pub(crate) fn new(first: u16) -> PortAllocator {
        PortAllocator { first, next: first }
    }

    pub(crate) fn take(&mut self) -> u16 {
        let p = self.next;
        self.next = if p >= 65533 { self.first } else { p + 2 };
        p
    }
}

/// What was negotiated on a call, once offer and answer met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaInfo {
    pub local_rtp: SocketAddr,
    pub remote_rtp: Option<SocketAddr>,
    pub codec: Option<Codec>,
}

#[derive(Clone, Debug)]
pub(crate) struct CallMedia {
    caps: Capabilities,
    session_id: u64,
    ip: IpAddr,
    /// The last description we sent (for the `o=` version).
    last_sent: Option<SessionDescription>,
    /// Our offer awaiting the caller's answer (in the ACK or PRACK).
    pending_offer: Option<SessionDescription>,
    info: MediaInfo,
}

impl CallMedia {
    pub(crate) fn new(local_rtp: SocketAddr, session_id: u64) -> CallMedia {
        CallMedia {
            caps: Capabilities::new(local_rtp),
            session_id,
            ip: local_rtp.ip(),
            last_sent: None,
            pending_offer: None,
            info: MediaInfo {
                local_rtp,
                remote_rtp: None,
                codec: None,
            },
        }
    }

    pub(crate) fn info(&self) -> MediaInfo {
        self.info
    }

    fn origin(&self) -> Origin {
        match &self.last_sent {
            Some(s) => s.origin().clone(),
            None => Origin::new(self.session_id, self.ip),
        }
    }

    /// Keeps the version when the description is unchanged, bumps it otherwise (RFC 3264 §8).
    fn stamp(&mut self, mut sdp: SessionDescription) -> Vec<u8> {
        if let Some(last) = &self.last_sent {
            if last.to_bytes() != sdp.to_bytes() {
                sdp.set_origin(last.origin().next_version());
            }
        }
        let bytes = sdp.to_bytes();
        self.last_sent = Some(sdp);
        bytes
    }

    /// Our answer to the caller's `offer`.
    pub(crate) fn answer(&mut self, offer: &[u8]) -> Result<Vec<u8>, SdpError> {
        let offer = SessionDescription::parse(offer)?;
        let answer = answer_offer(&offer, &self.caps, self.origin())?;
        if let Some(n) = answer.audio() {
            self.info.remote_rtp = n.remote_rtp;
            self.info.codec = Some(n.codec);
        }
        self.pending_offer = None;
        Ok(self.stamp(answer.sdp))
    }

    /// Our offer (the INVITE or re-INVITE came without one).
    pub(crate) fn offer(&mut self) -> Result<Vec<u8>, SdpError> {
        let offer = create_offer(&self.caps, self.origin())?;
        self.pending_offer = Some(offer.clone());
        Ok(self.stamp(offer))
    }

    pub(crate) fn awaiting_answer(&self) -> bool {
        self.pending_offer.is_some()
    }

    /// The caller's answer to our offer. A description that does not fit the offer is ignored
    /// (the call goes on without negotiated media).
    pub(crate) fn on_answer(&mut self, answer: &[u8]) {
        let Some(offer) = self.pending_offer.take() else {
            return;
        };
        let Ok(answer) = SessionDescription::parse(answer) else {
            return;
        };
        if let Ok(outcomes) = process_answer(&offer, &answer) {
            if let Some(n) = first_accepted(&outcomes) {
                self.info.remote_rtp = n.remote_rtp;
                self.info.codec = Some(n.codec);
            }
        }
    }
}
