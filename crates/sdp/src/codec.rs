//! Codecs and payload types: the static G.711 payload types (PCMU 0, PCMA 8), `a=rtpmap` and
//! `a=fmtp` values, RFC 4733 telephone-event ranges, and the dynamic payload type range 96–127.
//!
//! This room knows what a payload type *means*; it does not choose one (that is `offer_answer`)
//! and never renumbers a peer's payload types.

use std::fmt;
use std::ops::RangeInclusive;

/// Payload types free for dynamic assignment (RFC 3551 §6).
pub const DYNAMIC_PT: RangeInclusive<u8> = 96..=127;

/// Encoding name of RFC 4733 named telephone events.
pub const TELEPHONE_EVENT: &str = "telephone-event";

/// An RTP payload type number, 0..=127.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pt(u8);

impl Pt {
    /// PCMU's static payload type.
    pub const PCMU: Pt = Pt(0);
    /// PCMA's static payload type.
    pub const PCMA: Pt = Pt(8);
    /// The dynamic payload type most stacks use for telephone-event.
    pub const TELEPHONE_EVENT_DEFAULT: Pt = Pt(101);

    /// A payload type, if `n` fits in RTP's 7 bits.
    pub const fn new(n: u8) -> Option<Pt> {
        if n <= 127 {
            Some(Pt(n))
        } else {
            None
        }
    }

    /// Parse an SDP format token (`"0"`, `"101"`); `None` if it is not a payload type number.
    pub fn parse(s: &str) -> Option<Pt> {
        if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<u8>().ok().and_then(Pt::new)
    }

    /// The number.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Whether this payload type is in the dynamic range 96–127.
    pub fn is_dynamic(self) -> bool {
        DYNAMIC_PT.contains(&self.0)
    }
}

impl fmt::Display for Pt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An audio codec Tether's media engine can send and receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// G.711 µ-law.
    Pcmu,
    /// G.711 A-law.
    Pcma,
}

impl Codec {
    /// Encoding name as written in `a=rtpmap`.
    pub const fn encoding_name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
        }
    }

    /// The static payload type RFC 3551 assigns.
    pub const fn static_pt(self) -> Pt {
        match self {
            Self::Pcmu => Pt::PCMU,
            Self::Pcma => Pt::PCMA,
        }
    }

    /// RTP clock rate in Hz.
    pub const fn clock_rate(self) -> u32 {
        8000
    }

    /// The codec a static payload type means when no `a=rtpmap` says otherwise.
    pub fn from_static_pt(pt: Pt) -> Option<Codec> {
        match pt.get() {
            0 => Some(Self::Pcmu),
            8 => Some(Self::Pcma),
            _ => None,
        }
    }

    /// The codec an `a=rtpmap` describes, if it is one of ours (name case-insensitive, 8000 Hz,
    /// mono).
    pub fn from_rtpmap(map: &Rtpmap) -> Option<Codec> {
        if map.clock_rate != 8000 || map.channels.is_some_and(|c| c != 1) {
            return None;
        }
        [Self::Pcmu, Self::Pcma]
            .into_iter()
            .find(|c| map.encoding.eq_ignore_ascii_case(c.encoding_name()))
    }

    /// The `a=rtpmap` line value for this codec at `pt`.
    pub fn rtpmap(self, pt: Pt) -> Rtpmap {
        Rtpmap {
            pt,
            encoding: self.encoding_name().to_owned(),
            clock_rate: self.clock_rate(),
            channels: None,
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encoding_name())
    }
}

/// The value of an `a=rtpmap` attribute: `<pt> <encoding>/<clock rate>[/<channels>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rtpmap {
    /// Payload type being mapped.
    pub pt: Pt,
    /// Encoding name, as written (case kept).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count, when written.
    pub channels: Option<u16>,
}

impl Rtpmap {
    /// Parse an `a=rtpmap` value; `None` if it does not follow the grammar.
    pub fn parse(value: &str) -> Option<Rtpmap> {
        let (pt, rest) = value.trim().split_once(' ')?;
        let pt = Pt::parse(pt)?;
        let mut parts = rest.trim().split('/');
        let encoding = parts.next().filter(|e| !e.is_empty())?;
        let clock_rate = parse_decimal::<u32>(parts.next()?)?;
        let channels = match parts.next() {
            Some(c) => Some(parse_decimal::<u16>(c)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Rtpmap {
            pt,
            encoding: encoding.to_owned(),
            clock_rate,
            channels,
        })
    }

    /// Whether this maps RFC 4733 telephone events at `rate` Hz.
    pub fn is_telephone_event(&self, rate: u32) -> bool {
        self.encoding.eq_ignore_ascii_case(TELEPHONE_EVENT) && self.clock_rate == rate
    }
}

impl fmt::Display for Rtpmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.pt, self.encoding, self.clock_rate)?;
        if let Some(ch) = self.channels {
            write!(f, "/{ch}")?;
        }
        Ok(())
    }
}

/// Split an `a=fmtp` value into its payload type and its parameter text.
pub fn parse_fmtp(value: &str) -> Option<(Pt, &str)> {
    let value = value.trim_start();
    match value.split_once(' ') {
        Some((pt, params)) => Some((Pt::parse(pt)?, params.trim())),
        None => Some((Pt::parse(value.trim_end())?, "")),
    }
}

/// A set of RFC 4733 event codes (0..=255), as written in a telephone-event `a=fmtp`
/// (`0-15`, `0-11,16`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct EventSet([u64; 4]);

impl EventSet {
    /// No event.
    pub const EMPTY: EventSet = EventSet([0; 4]);
    /// DTMF digits 0-9, `*`, `#`, A-D: events 0–15, the RFC 4733 default when no fmtp is given.
    pub const DTMF: EventSet = EventSet([0xffff, 0, 0, 0]);
    /// DTMF plus hook flash (event 16): what Tether's media engine handles.
    pub const DTMF_AND_FLASH: EventSet = EventSet([0x1_ffff, 0, 0, 0]);

    /// Parse the parameter text of a telephone-event fmtp (`0-15`, `0-11,16`). Whitespace around
    /// items is tolerated; `None` if any item is not an event number or range.
    pub fn parse(params: &str) -> Option<EventSet> {
        let mut set = EventSet::EMPTY;
        for item in params.split(',') {
            let item = item.trim();
            let (lo, hi) = match item.split_once('-') {
                Some((lo, hi)) => (
                    parse_decimal::<u8>(lo.trim())?,
                    parse_decimal::<u8>(hi.trim())?,
                ),
                None => {
                    let n = parse_decimal::<u8>(item)?;
                    (n, n)
                }
            };
            if lo > hi {
                return None;
            }
            for e in lo..=hi {
                set.insert(e);
            }
        }
        Some(set)
    }

    /// Add one event.
    pub fn insert(&mut self, event: u8) {
        if let Some(word) = self.0.get_mut(usize::from(event / 64)) {
            *word |= 1u64 << (event % 64);
        }
    }

    /// Whether `event` is in the set.
    pub fn contains(&self, event: u8) -> bool {
        self.0
            .get(usize::from(event / 64))
            .is_some_and(|w| w & (1u64 << (event % 64)) != 0)
    }

    /// Events in both sets.
    pub fn intersect(&self, other: &EventSet) -> EventSet {
        let mut out = EventSet::EMPTY;
        for (o, (a, b)) in out.0.iter_mut().zip(self.0.iter().zip(other.0.iter())) {
            *o = a & b;
        }
        out
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

impl fmt::Display for EventSet {
    /// Compact range form: `0-15`, `0-11,16`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut e: u16 = 0;
        while e <= 255 {
            let Ok(start) = u8::try_from(e) else {
                break;
            };
            if !self.contains(start) {
                e += 1;
                continue;
            }
            let mut end = start;
            while end < 255 && self.contains(end + 1) {
                end += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == end {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
            e = u16::from(end) + 1;
        }
        Ok(())
    }
}

/// Parse a plain ASCII decimal number (no sign, no spaces) of bounded length.
pub(crate) fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_types() {
        assert_eq!(Pt::parse("0"), Some(Pt::PCMU));
        assert_eq!(Pt::parse("127").map(Pt::get), Some(127));
        assert_eq!(Pt::parse("128"), None);
        assert_eq!(Pt::parse("-1"), None);
        assert_eq!(Pt::parse("+8"), None);
        assert_eq!(Pt::parse(""), None);
        assert_eq!(Pt::parse("0008"), None);
        assert!(Pt::parse("96").is_some_and(Pt::is_dynamic));
        assert!(!Pt::PCMA.is_dynamic());
        assert_eq!(Pt::new(200), None);
    }

    #[test]
    fn rtpmap_parsing() {
        let m = Rtpmap::parse("101 telephone-event/8000").expect("valid");
        assert_eq!(m.pt.get(), 101);
        assert!(m.is_telephone_event(8000));
        assert!(!m.is_telephone_event(16000));
        assert_eq!(m.to_string(), "101 telephone-event/8000");

        let m = Rtpmap::parse("111 opus/48000/2").expect("valid");
        assert_eq!(m.channels, Some(2));
        assert_eq!(Codec::from_rtpmap(&m), None);
        assert_eq!(m.to_string(), "111 opus/48000/2");

        let m = Rtpmap::parse("96 pcma/8000").expect("valid");
        assert_eq!(Codec::from_rtpmap(&m), Some(Codec::Pcma));
        let m = Rtpmap::parse("0 PCMU/8000/1").expect("valid");
        assert_eq!(Codec::from_rtpmap(&m), Some(Codec::Pcmu));
        let m = Rtpmap::parse("0 PCMU/16000").expect("valid");
        assert_eq!(Codec::from_rtpmap(&m), None);

        for bad in [
            "",
            "0",
            "x PCMU/8000",
            "0 PCMU",
            "0 /8000",
            "0 PCMU/abc",
            "0 PCMU/8000/1/2",
        ] {
            assert_eq!(Rtpmap::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn static_codecs() {
        assert_eq!(Codec::from_static_pt(Pt::PCMU), Some(Codec::Pcmu));
        assert_eq!(Codec::from_static_pt(Pt::PCMA), Some(Codec::Pcma));
        assert_eq!(Pt::new(18).and_then(Codec::from_static_pt), None);
        assert_eq!(Codec::Pcma.static_pt(), Pt::PCMA);
        assert_eq!(Codec::Pcmu.rtpmap(Pt::PCMU).to_string(), "0 PCMU/8000");
    }

    #[test]
    fn fmtp_split() {
        assert_eq!(parse_fmtp("101 0-15"), Some((Pt(101), "0-15")));
        assert_eq!(parse_fmtp("101"), Some((Pt(101), "")));
        assert_eq!(parse_fmtp("x 0-15"), None);
    }

    #[test]
    fn event_sets() {
        let s = EventSet::parse("0-15").expect("valid");
        assert_eq!(s, EventSet::DTMF);
        assert_eq!(s.to_string(), "0-15");
        let s = EventSet::parse("0-16").expect("valid");
        assert_eq!(s, EventSet::DTMF_AND_FLASH);
        let s = EventSet::parse("0-11, 16,32-35").expect("valid");
        assert!(s.contains(16) && s.contains(35) && !s.contains(12));
        assert_eq!(s.to_string(), "0-11,16,32-35");
        assert_eq!(
            s.intersect(&EventSet::DTMF_AND_FLASH).to_string(),
            "0-11,16"
        );
        let all = EventSet::parse("0-255").expect("valid");
        assert_eq!(all.to_string(), "0-255");
        assert!(EventSet::parse("15-0").is_none());
        assert!(EventSet::parse("0-256").is_none());
        assert!(EventSet::parse("").is_none());
        assert!(EventSet::parse("a").is_none());
        assert!(EventSet::EMPTY.is_empty());
        assert_eq!(EventSet::EMPTY.to_string(), "");
    }
}
