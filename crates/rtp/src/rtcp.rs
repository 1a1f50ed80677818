//! RTCP packets (RFC 3550 §6): writing the compound reports a leg sends (SR or RR, then SDES with
//! the CNAME; BYE when the leg ends) and reading the sender and receiver reports a peer sends.
//!
//! Other packet types in a compound (APP, feedback, XR) are stepped over by their length. Every
//! length is checked; a compound whose lengths do not add up is refused whole.

use std::time::Duration;

use crate::Ssrc;

const PT_SR: u8 = 200;
const PT_RR: u8 = 201;
const PT_SDES: u8 = 202;
const PT_BYE: u8 = 203;
const SDES_CNAME: u8 = 1;

/// Why an RTCP compound was refused. The sender is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedRtcp {
    /// A packet shorter than its 4-byte header or than its body requires.
    TooShort,
    /// The version field of a packet is not 2.
    BadVersion,
    /// A packet's length field runs past the end of the datagram.
    BadLength,
}

impl std::fmt::Display for MalformedRtcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            MalformedRtcp::TooShort => "RTCP packet too short",
            MalformedRtcp::BadVersion => "RTCP version is not 2",
            MalformedRtcp::BadLength => "RTCP length runs past the datagram",
        };
        f.write_str(what)
    }
}

impl std::error::Error for MalformedRtcp {}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp (seconds since 1900 in the high half).
    pub ntp: u64,
    pub rtp_ts: u32,
    pub packets: u32,
    pub octets: u32,
}

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: Ssrc,
    pub fraction_lost: u8,
    /// 24-bit signed.
    pub cumulative_lost: i32,
    pub extended_highest_seq: u32,
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from `ssrc`; 0 if none.
    pub lsr: u32,
    /// Delay since that SR was received, in 1/65536 s.
    pub dlsr: u32,
}

/// What a compound RTCP datagram said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RtcpCompound {
    /// SSRC of the first SR or RR's sender.
    pub sender: Option<Ssrc>,
    pub sender_info: Option<SenderInfo>,
    pub blocks: Vec<ReportBlock>,
    /// SSRCs that said goodbye.
    pub bye: Vec<Ssrc>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn parse_block(b: &[u8]) -> Option<ReportBlock> {
    let lost_word = be32(b, 4)?;
    // Sign-extend the 24-bit count.
    let cumulative_lost = ((lost_word << 8) as i32) >> 8;
    Some(ReportBlock {
        ssrc: Ssrc(be32(b, 0)?),
        fraction_lost: (lost_word >> 24) as u8,
        cumulative_lost,
        extended_highest_seq: be32(b, 8)?,
        jitter: be32(b, 12)?,
        lsr: be32(b, 16)?,
        dlsr: be32(b, 20)?,
    })
}

/// Reads a compound RTCP datagram.
pub fn parse_compound(datagram: &[u8]) -> Result<RtcpCompound, MalformedRtcp> {
    let mut out = RtcpCompound::default();
    let mut rest = datagram;
    if rest.is_empty() {
        return Err(MalformedRtcp::TooShort);
    }
    while !rest.is_empty() {
        let header = rest.get(..4).ok_or(MalformedRtcp::TooShort)?;
        if header[0] >> 6 != 2 {
            return Err(MalformedRtcp::BadVersion);
        }
        let count = usize::from(header[0] & 0x1F);
        let pt = header[1];
        let len = (usize::from(u16::from_be_bytes([header[2], header[3]])) + 1) * 4;
        let packet = rest.get(..len).ok_or(MalformedRtcp::BadLength)?;
        rest = &rest[len..];
        match pt {
            PT_SR | PT_RR => {
                let ssrc = Ssrc(be32(packet, 4).ok_or(MalformedRtcp::TooShort)?);
                let mut at = 8;
                if pt == PT_SR {
                    let info = SenderInfo {
                        ntp: u64::from(be32(packet, 8).ok_or(MalformedRtcp::TooShort)?) << 32
                            | u64::from(be32(packet, 12).ok_or(MalformedRtcp::TooShort)?),
                        rtp_ts: be32(packet, 16).ok_or(MalformedRtcp::TooShort)?,
                        packets: be32(packet, 20).ok_or(MalformedRtcp::TooShort)?,
                        octets: be32(packet, 24).ok_or(MalformedRtcp::TooShort)?,
                    };
                    at = 28;
                    if out.sender_info.is_none() {
                        out.sender_info = Some(info);
                    }
                }
                if out.sender.is_none() {
                    out.sender = Some(ssrc);
                }
                for i in 0..count {
                    let start = at + 24 * i;
                    let block = packet
                        .get(start..start + 24)
                        .and_then(parse_block)
                        .ok_or(MalformedRtcp::TooShort)?;
                    out.blocks.push(block);
                }
            }
            PT_BYE => {
                for i in 0..count {
                    let ssrc = be32(packet, 4 + 4 * i).ok_or(MalformedRtcp::TooShort)?;
                    out.bye.push(Ssrc(ssrc));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Appends `pt`'s header with `count` and a length fixed up by [`finish`].
fn begin(out: &mut Vec<u8>, count: u8, pt: u8) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0x80 | (count & 0x1F), pt, 0, 0]);
    start
}

fn finish(out: &mut [u8], start: usize) {
    let words = (out.len() - start) / 4 - 1;
    let len = (words as u16).to_be_bytes();
    if let Some(field) = out.get_mut(start + 2..start + 4) {
        field.copy_from_slice(&len);
    }
}

fn put_block(out: &mut Vec<u8>, b: &ReportBlock) {
    out.extend_from_slice(&b.ssrc.0.to_be_bytes());
    let lost = (b.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32) & 0x00FF_FFFF;
    out.extend_from_slice(&((u32::from(b.fraction_lost) << 24) | lost).to_be_bytes());
    out.extend_from_slice(&b.extended_highest_seq.to_be_bytes());
    out.extend_from_slice(&b.jitter.to_be_bytes());
    out.extend_from_slice(&b.lsr.to_be_bytes());
    out.extend_from_slice(&b.dlsr.to_be_bytes());
}

fn put_sdes_cname(out: &mut Vec<u8>, ssrc: Ssrc, cname: &str) {
    let start = begin(out, 1, PT_SDES);
    out.extend_from_slice(&ssrc.0.to_be_bytes());
    let name = &cname.as_bytes()[..cname.len().min(255)];
    out.push(SDES_CNAME);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    // The item list ends with a null octet, padded to a 32-bit boundary.
    out.push(0);
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
    finish(out, start);
}

/// Appends a compound report: an SR when `sender` is given (we sent RTP lately), else an RR, with
/// at most one report block, then SDES with `cname` (RFC 3550 §6.1 requires both).
pub fn write_report(
    out: &mut Vec<u8>,
    ssrc: Ssrc,
    sender: Option<&SenderInfo>,
    block: Option<&ReportBlock>,
    cname: &str,
) {
    let count = u8::from(block.is_some());
    let start = begin(out, count, if sender.is_some() { PT_SR } else { PT_RR });
    out.extend_from_slice(&ssrc.0.to_be_bytes());
    if let Some(info) = sender {
        out.extend_from_slice(&info.ntp.to_be_bytes());
        out.extend_from_slice(&info.rtp_ts.to_be_bytes());
        out.extend_from_slice(&info.packets.to_be_bytes());
        out.extend_from_slice(&info.octets.to_be_bytes());
    }
    if let Some(b) = block {
        put_block(out, b);
    }
    finish(out, start);
    put_sdes_cname(out, ssrc, cname);
}

/// Appends a BYE for `ssrc` (to follow a report in the same compound).
pub fn write_bye(out: &mut Vec<u8>, ssrc: Ssrc) {
    let start = begin(out, 1, PT_BYE);
    out.extend_from_slice(&ssrc.0.to_be_bytes());
    finish(out, start);
}

/// The middle 32 bits of a 64-bit NTP timestamp (the LSR/DLSR clock, 1/65536 s).
pub fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// Seconds from the NTP era (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A duration as 32.32 fixed-point seconds.
pub fn duration_to_ntp(d: Duration) -> u64 {
    (d.as_secs() << 32) + ((u64::from(d.subsec_nanos()) << 32) / 1_000_000_000)
}

/// The 64-bit NTP timestamp of a time given as the duration since the Unix epoch.
pub fn ntp_from_unix(since_epoch: Duration) -> u64 {
    duration_to_ntp(since_epoch).wrapping_add(NTP_UNIX_OFFSET << 32)
}

/// A duration in 1/65536 s (the DLSR unit), saturating.
pub fn to_dlsr(d: Duration) -> u32 {
    let units = d.as_nanos() * 65_536 / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// 1/65536-second units as a duration.
pub fn from_dlsr(units: u32) -> Duration {
    Duration::from_nanos(u64::from(units) * 1_000_000_000 / 65_536)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sr_with_block_and_sdes_parses_back() {
        let info = SenderInfo {
            ntp: 0xE000_0000_8000_0000,
            rtp_ts: 1234,
            packets: 50,
            octets: 8000,
        };
        let block = ReportBlock {
            ssrc: Ssrc(77),
            fraction_lost: 12,
            cumulative_lost: -3,
            extended_highest_seq: 70_000,
            jitter: 40,
            lsr: 0x1234_5678,
            dlsr: 65536,
        };
        let mut out = Vec::new();
        write_report(
            &mut out,
            Ssrc(9),
            Some(&info),
            Some(&block),
            "tether@example",
        );
        write_bye(&mut out, Ssrc(9));
        assert_eq!(out.len() % 4, 0);
        assert_eq!(crate::packet::demux(&out), crate::packet::Demux::Rtcp);
        let c = parse_compound(&out).unwrap();
        assert_eq!(c.sender, Some(Ssrc(9)));
        assert_eq!(c.sender_info, Some(info));
        assert_eq!(c.blocks, vec![block]);
        assert_eq!(c.bye, vec![Ssrc(9)]);
    }

    #[test]
    fn ntp_conversions() {
        // 2000-01-01T00:00:00Z is 946,684,800 s after the Unix epoch, 3,155,673,600 s after 1900.
        let ntp = ntp_from_unix(Duration::from_secs(946_684_800) + Duration::from_millis(500));
        assert_eq!(ntp >> 32, 3_155_673_600);
        assert_eq!(ntp as u32, 1 << 31);
        assert_eq!(ntp_middle(ntp) & 0xFFFF, 0x8000);
        assert_eq!(to_dlsr(Duration::from_millis(1500)), 98_304);
        assert_eq!(from_dlsr(98_304), Duration::from_millis(1500));
    }

    #[test]
    fn rr_without_blocks_parses_back() {
        let mut out = Vec::new();
        write_report(&mut out, Ssrc(5), None, None, "x");
        let c = parse_compound(&out).unwrap();
        assert_eq!(c.sender, Some(Ssrc(5)));
        assert_eq!(c.sender_info, None);
        assert!(c.blocks.is_empty());
    }

    #[test]
    fn bad_lengths_and_versions_are_refused() {
        let mut out = Vec::new();
        write_report(&mut out, Ssrc(5), None, None, "x");
        let mut long = out.clone();
        long[3] = 200; // length runs past the datagram
        assert_eq!(parse_compound(&long), Err(MalformedRtcp::BadLength));
        let mut v1 = out.clone();
        v1[0] = 0x40 | (v1[0] & 0x3F);
        assert_eq!(parse_compound(&v1), Err(MalformedRtcp::BadVersion));
        // RR claiming one block but carrying none.
        let mut rc = out.clone();
        rc[0] |= 1;
        assert_eq!(parse_compound(&rc), Err(MalformedRtcp::TooShort));
        assert_eq!(parse_compound(&out[..6]), Err(MalformedRtcp::BadLength));
        assert_eq!(parse_compound(&[]), Err(MalformedRtcp::TooShort));
    }
}
