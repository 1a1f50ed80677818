//! RTP packets on the wire: telling RTP from RTCP on a muxed port (RFC 5761 §4), reading an RTP
//! header with every length checked (through `rtp-rs`), and rewriting the five fields a relay
//! changes (marker, payload type, sequence number, timestamp, SSRC) in place.
//!
//! Nothing here allocates or copies a payload; a packet is described by its parsed header and the
//! byte range of its payload inside the caller's buffer. No policy lives here: which packets are
//! accepted, and what they are rewritten to, is the media leg's business.

use crate::{Pt, Ssrc};

/// Length of the fixed RTP header (RFC 3550 §5.1).
pub const RTP_HEADER_LEN: usize = 12;

/// Why a datagram is not a usable RTP packet. The sender is at fault in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedPacket {
    /// Shorter than the 12-byte fixed header.
    TooShort { len: usize },
    /// The version field is not 2.
    BadVersion { version: u8 },
    /// The CSRC list or the header extension announced runs past the end of the datagram.
    HeaderTruncated { header_len: usize, len: usize },
    /// The padding flag is set but the padding count is 0 or longer than what follows the header.
    BadPadding { count: u8 },
}

impl std::fmt::Display for MalformedPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MalformedPacket::TooShort { len } => write!(f, "RTP packet of {len} bytes"),
            MalformedPacket::BadVersion { version } => write!(f, "RTP version {version}"),
            MalformedPacket::HeaderTruncated { header_len, len } => {
                write!(
                    f,
                    "RTP header of {header_len} bytes in a {len}-byte datagram"
                )
            }
            MalformedPacket::BadPadding { count } => write!(f, "RTP padding count {count}"),
        }
    }
}

impl std::error::Error for MalformedPacket {}

/// What a datagram on a media port claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demux {
    Rtp,
    Rtcp,
    /// Not version 2 (STUN, DTLS, ZRTP, garbage — RFC 7983 §7) or shorter than two bytes.
    Other,
}

/// Tells RTP from RTCP the way RFC 5761 §4 does on a port that carries both: an RTCP packet type
/// (200..=204 and the feedback types up to 223) lands in the second byte's range 192..=223, which
/// RTP avoids by never using payload types 64..=95.
pub fn demux(datagram: &[u8]) -> Demux {
    match datagram {
        [b0, b1, ..] if b0 >> 6 == 2 => {
            if (192..=223).contains(b1) {
                Demux::Rtcp
            } else {
                Demux::Rtp
            }
        }
        _ => Demux::Other,
    }
}

/// The header fields of one RTP packet and where its payload lies in the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    pub marker: bool,
    pub pt: Pt,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: Ssrc,
    /// Byte offset of the payload (after CSRCs and the header extension).
    pub payload_start: usize,
    /// Byte offset one past the payload (before any padding).
    pub payload_end: usize,
}

impl RtpHeader {
    /// Reads and checks the header of `datagram`. Every length the header announces (CSRC count,
    /// extension length, padding count) is checked against the datagram, so the payload range is
    /// always inside it.
    pub fn parse(datagram: &[u8]) -> Result<RtpHeader, MalformedPacket> {
        use rtp_rs::RtpReaderError as E;
        let reader = rtp_rs::RtpReader::new(datagram).map_err(|e| match e {
            E::BufferTooShort(len) => MalformedPacket::TooShort { len },
            E::UnsupportedVersion(version) => MalformedPacket::BadVersion { version },
            E::HeadersTruncated {
                header_len,
                buffer_len,
            } => MalformedPacket::HeaderTruncated {
                header_len,
                len: buffer_len,
            },
            E::PaddingLengthInvalid(count) => MalformedPacket::BadPadding { count },
        })?;
        let payload_start = reader.payload_offset();
        let payload_end = payload_start + reader.payload().len();
        Ok(RtpHeader {
            marker: reader.mark(),
            pt: Pt::from_bits(reader.payload_type()),
            seq: reader.sequence_number().into(),
            ts: reader.timestamp(),
            ssrc: Ssrc(reader.ssrc()),
            payload_start,
            payload_end,
        })
    }

    /// The payload of the datagram this header was parsed from.
    pub fn payload<'a>(&self, datagram: &'a [u8]) -> &'a [u8] {
        datagram
            .get(self.payload_start..self.payload_end)
            .unwrap_or(&[])
    }

    pub fn payload_len(&self) -> usize {
        self.payload_end - self.payload_start
    }
}

/// The header fields a sender chooses for one outgoing packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub marker: bool,
    pub pt: Pt,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: Ssrc,
}

/// Overwrites marker, payload type, sequence number, timestamp and SSRC of the RTP packet in
/// `datagram`; version, padding, extension and CSRC bits and the payload are left as they are.
/// Returns `false` (and changes nothing) when the buffer is shorter than a fixed header.
pub fn rewrite_header(datagram: &mut [u8], stamp: &Stamp) -> bool {
    let Some(h) = datagram.first_chunk_mut::<RTP_HEADER_LEN>() else {
        return false;
    };
    h[1] = (u8::from(stamp.marker) << 7) | stamp.pt.get();
    h[2..4].copy_from_slice(&stamp.seq.to_be_bytes());
    h[4..8].copy_from_slice(&stamp.ts.to_be_bytes());
    h[8..12].copy_from_slice(&stamp.ssrc.0.to_be_bytes());
    true
}

/// Appends a fresh 12-byte header (version 2, no padding, extension or CSRCs) to `out`.
pub fn write_header(out: &mut Vec<u8>, stamp: &Stamp) {
    let mut h = [0u8; RTP_HEADER_LEN];
    h[0] = 0x80;
    out.extend_from_slice(&h);
    let start = out.len() - RTP_HEADER_LEN;
    rewrite_header(&mut out[start..], stamp);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> Stamp {
        Stamp {
            marker: true,
            pt: Pt::from_bits(101),
            seq: 0xBEEF,
            ts: 0xDEAD_BEEF,
            ssrc: Ssrc(0x0102_0304),
        }
    }

    #[test]
    fn written_header_parses_back() {
        let mut buf = Vec::new();
        write_header(&mut buf, &stamp());
        buf.extend_from_slice(&[1, 2, 3]);
        let h = RtpHeader::parse(&buf).unwrap();
        assert!(h.marker);
        assert_eq!(h.pt.get(), 101);
        assert_eq!(h.seq, 0xBEEF);
        assert_eq!(h.ts, 0xDEAD_BEEF);
        assert_eq!(h.ssrc, Ssrc(0x0102_0304));
        assert_eq!(h.payload(&buf), &[1, 2, 3]);
        assert_eq!(demux(&buf), Demux::Rtp);
    }

    #[test]
    fn rewrite_keeps_csrcs_extension_padding_and_payload() {
        // V=2, P=1, X=1, CC=1; one CSRC, a one-word extension, payload "ab", 2 bytes of padding.
        let mut buf = vec![0xB1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        buf.extend_from_slice(&[9, 9, 9, 9]); // CSRC
        buf.extend_from_slice(&[0xBE, 0xDE, 0, 1, 7, 7, 7, 7]); // extension, 1 word
        buf.extend_from_slice(b"ab");
        buf.extend_from_slice(&[0, 2]); // padding, count 2
        let before = RtpHeader::parse(&buf).unwrap();
        assert_eq!(before.payload(&buf), b"ab");
        assert!(rewrite_header(&mut buf, &stamp()));
        let after = RtpHeader::parse(&buf).unwrap();
        assert_eq!(after.payload(&buf), b"ab");
        assert_eq!(after.payload_start, before.payload_start);
        assert_eq!(buf[0], 0xB1);
        assert_eq!(after.seq, 0xBEEF);
        assert_eq!(after.pt.get(), 101);
    }

    #[test]
    fn malformed_headers_are_named() {
        assert_eq!(
            RtpHeader::parse(&[0x80; 11]),
            Err(MalformedPacket::TooShort { len: 11 })
        );
        let mut v1 = [0u8; 12];
        v1[0] = 0x40;
        assert_eq!(
            RtpHeader::parse(&v1),
            Err(MalformedPacket::BadVersion { version: 1 })
        );
        // CC = 15 announces 60 bytes of CSRCs that are not there.
        let mut cc = [0u8; 20];
        cc[0] = 0x8F;
        assert!(matches!(
            RtpHeader::parse(&cc),
            Err(MalformedPacket::HeaderTruncated { .. })
        ));
        // Extension flag with a length running past the end.
        let mut ext = vec![
            0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0xFF, 0xFF,
        ];
        assert!(matches!(
            RtpHeader::parse(&ext),
            Err(MalformedPacket::HeaderTruncated { .. })
        ));
        ext.truncate(14);
        assert!(matches!(
            RtpHeader::parse(&ext),
            Err(MalformedPacket::HeaderTruncated { .. })
        ));
        // Padding count 0, and padding longer than the packet.
        let mut pad = vec![0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0];
        assert_eq!(
            RtpHeader::parse(&pad),
            Err(MalformedPacket::BadPadding { count: 0 })
        );
        *pad.last_mut().unwrap() = 3;
        assert_eq!(
            RtpHeader::parse(&pad),
            Err(MalformedPacket::BadPadding { count: 3 })
        );
        // Padding flag with nothing after the header.
        assert!(RtpHeader::parse(&pad[..12]).is_err());
    }

    #[test]
    fn demux_follows_rfc_5761() {
        let mut b = [0x80u8, 0, 0, 0];
        for second in 0..=255u8 {
            b[1] = second;
            let expect = if (192..=223).contains(&second) {
                Demux::Rtcp
            } else {
                Demux::Rtp
            };
            assert_eq!(demux(&b), expect, "{second}");
        }
        assert_eq!(demux(&[0x00, 0x01, 0, 0]), Demux::Other); // STUN binding request
        assert_eq!(demux(&[22, 254]), Demux::Other); // DTLS
        assert_eq!(demux(&[0x80]), Demux::Other);
        assert_eq!(demux(&[]), Demux::Other);
    }
}
