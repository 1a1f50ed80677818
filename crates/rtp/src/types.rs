//! Newtypes shared by the media rooms, so an SSRC is never mistaken for a timestamp nor a payload
//! type for a port.

/// RTP synchronization source identifier (RFC 3550 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssrc(pub u32);

/// RTP payload type, 0..=127 (RFC 3550 §5.1). Dynamic types 96..=127 are negotiated per leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pt(u8);

impl Pt {
    /// PCMU, static payload type 0 (RFC 3551).
    pub const PCMU: Pt = Pt(0);
    /// PCMA, static payload type 8 (RFC 3551).
    pub const PCMA: Pt = Pt(8);

    /// A payload type from the 7-bit field; `None` when the value does not fit in 7 bits.
    pub fn new(value: u8) -> Option<Pt> {
        (value < 128).then_some(Pt(value))
    }

    /// The payload type in the low 7 bits of `bits` (the marker bit, if present, is dropped).
    pub const fn from_bits(bits: u8) -> Pt {
        Pt(bits & 0x7F)
    }

    pub fn get(self) -> u8 {
        self.0
    }
}
