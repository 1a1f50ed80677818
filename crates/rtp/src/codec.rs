//! What one leg negotiated: which payload type numbers mean PCMU, PCMA, telephone-event and
//! comfort noise on it, which law Tether sends it, and its packetization time.
//!
//! A plain struct the call engine fills from the SDP answer (this crate does not read SDP). The
//! payload types are per leg: the same event is PT 101 on one leg and 96 on the other, and the
//! relay rewrites it.

use crate::g711::Law;
use crate::Pt;

/// The kind of payload a packet carries, independent of any leg's numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    /// G.711 audio, one byte per sample at 8 kHz.
    Audio(Law),
    /// RFC 4733 telephone-event at 8 kHz.
    TelephoneEvent,
    /// RFC 3389 comfort noise.
    ComfortNoise,
}

/// A codec map that cannot work. The engine (converting SDP) is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    /// The law Tether is to send has no payload type on this leg.
    SendLawNotNegotiated(Law),
    /// One payload type number was given two meanings.
    DuplicatePt(Pt),
    /// Packetization time outside 10..=120 ms or not a multiple of 10 ms.
    BadPtime(u16),
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::SendLawNotNegotiated(law) => {
                write!(f, "send law {law:?} has no payload type")
            }
            CodecError::DuplicatePt(pt) => write!(f, "payload type {} used twice", pt.get()),
            CodecError::BadPtime(ms) => write!(f, "ptime {ms} ms"),
        }
    }
}

impl std::error::Error for CodecError {}

/// The negotiated media of one leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecMap {
    /// Payload type of PCMU on this leg, if negotiated (normally 0).
    pub pcmu: Option<Pt>,
    /// Payload type of PCMA on this leg, if negotiated (normally 8).
    pub pcma: Option<Pt>,
    /// Payload type of telephone-event/8000, if negotiated.
    pub telephone_event: Option<Pt>,
    /// Payload type of CN, if negotiated (normally 13).
    pub comfort_noise: Option<Pt>,
    /// The law Tether sends on this leg when it has to choose (transcoding, announcements): the
    /// first audio codec of the answer.
    pub send: Law,
    /// Packetization time in ms (a=ptime), for locally generated frames.
    pub ptime_ms: u16,
}

impl CodecMap {
    /// PCMU/0 and telephone-event/101 at 20 ms — the most common phone offer.
    pub const fn pcmu() -> CodecMap {
        CodecMap {
            pcmu: Some(Pt::PCMU),
            pcma: None,
            telephone_event: Some(Pt::from_bits(101)),
            comfort_noise: None,
            send: Law::Ulaw,
            ptime_ms: 20,
        }
    }

    /// PCMA/8 and telephone-event/101 at 20 ms.
    pub const fn pcma() -> CodecMap {
        CodecMap {
            pcmu: None,
            pcma: Some(Pt::PCMA),
            telephone_event: Some(Pt::from_bits(101)),
            comfort_noise: None,
            send: Law::Alaw,
            ptime_ms: 20,
        }
    }

    pub fn validate(&self) -> Result<(), CodecError> {
        if self.pt_of(PayloadKind::Audio(self.send)).is_none() {
            return Err(CodecError::SendLawNotNegotiated(self.send));
        }
        let pts = [
            self.pcmu,
            self.pcma,
            self.telephone_event,
            self.comfort_noise,
        ];
        for (i, a) in pts.iter().enumerate() {
            if let Some(a) = a {
                if pts.iter().skip(i + 1).any(|b| *b == Some(*a)) {
                    return Err(CodecError::DuplicatePt(*a));
                }
            }
        }
        if !(10..=120).contains(&self.ptime_ms) || !self.ptime_ms.is_multiple_of(10) {
            return Err(CodecError::BadPtime(self.ptime_ms));
        }
        Ok(())
    }

    /// What a received payload type means on this leg; `None` for a type not negotiated.
    #[inline]
    pub fn kind_of(&self, pt: Pt) -> Option<PayloadKind> {
        let pt = Some(pt);
        if pt == self.pcmu {
            Some(PayloadKind::Audio(Law::Ulaw))
        } else if pt == self.pcma {
            Some(PayloadKind::Audio(Law::Alaw))
        } else if pt == self.telephone_event {
            Some(PayloadKind::TelephoneEvent)
        } else if pt == self.comfort_noise {
            Some(PayloadKind::ComfortNoise)
        } else {
            None
        }
    }

    /// The payload type this leg uses for `kind`, if negotiated.
    #[inline]
    pub fn pt_of(&self, kind: PayloadKind) -> Option<Pt> {
        match kind {
            PayloadKind::Audio(Law::Ulaw) => self.pcmu,
            PayloadKind::Audio(Law::Alaw) => self.pcma,
            PayloadKind::TelephoneEvent => self.telephone_event,
            PayloadKind::ComfortNoise => self.comfort_noise,
        }
    }

    /// Samples per locally generated frame (8 kHz × ptime).
    pub fn frame_samples(&self) -> u32 {
        u32::from(self.ptime_ms) * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_payload_types_map_both_ways() {
        let mut map = CodecMap::pcmu();
        map.pcma = Some(Pt::PCMA);
        map.telephone_event = Pt::new(96);
        map.validate().unwrap();
        assert_eq!(map.kind_of(Pt::PCMU), Some(PayloadKind::Audio(Law::Ulaw)));
        assert_eq!(map.kind_of(Pt::PCMA), Some(PayloadKind::Audio(Law::Alaw)));
        assert_eq!(
            map.kind_of(Pt::new(96).unwrap()),
            Some(PayloadKind::TelephoneEvent)
        );
        assert_eq!(map.kind_of(Pt::new(101).unwrap()), None);
        assert_eq!(map.kind_of(Pt::new(13).unwrap()), None);
        assert_eq!(map.pt_of(PayloadKind::TelephoneEvent), Pt::new(96));
        assert_eq!(map.pt_of(PayloadKind::ComfortNoise), None);
        assert_eq!(map.frame_samples(), 160);
    }

    #[test]
    fn invalid_maps_are_refused() {
        let mut map = CodecMap::pcma();
        map.send = Law::Ulaw;
        assert_eq!(
            map.validate(),
            Err(CodecError::SendLawNotNegotiated(Law::Ulaw))
        );
        let mut map = CodecMap::pcmu();
        map.telephone_event = Some(Pt::PCMU);
        assert_eq!(map.validate(), Err(CodecError::DuplicatePt(Pt::PCMU)));
        let mut map = CodecMap::pcmu();
        map.ptime_ms = 25;
        assert_eq!(map.validate(), Err(CodecError::BadPtime(25)));
    }
}
