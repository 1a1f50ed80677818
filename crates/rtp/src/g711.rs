//! G.711 µ-law and A-law (ITU-T G.711, 11/1988), bit-exact with the ITU's reference
//! implementation in the G.191 Software Tools Library.
//!
//! Linear samples are 16-bit signed PCM. µ-law works on the top 14 bits, A-law on the top 13, as
//! G.711 specifies; the low bits are truncated exactly as the reference encoder does. Decoding is a
//! table lookup (256 entries per law, built at compile time from the same formulas).

/// The two G.711 companding laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law, RTP payload type 0 (PCMU).
    Ulaw,
    /// A-law, RTP payload type 8 (PCMA).
    Alaw,
}

impl Law {
    /// Encodes one 16-bit linear sample.
    #[inline]
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Law::Ulaw => ulaw_encode(sample),
            Law::Alaw => alaw_encode(sample),
        }
    }

    /// Decodes one code word to a 16-bit linear sample.
    #[inline]
    pub fn decode(self, code: u8) -> i16 {
        match self {
            Law::Ulaw => ULAW_DECODE[code as usize],
            Law::Alaw => ALAW_DECODE[code as usize],
        }
    }

    /// The code word of digital silence (a zero sample) in this law.
    pub fn silence(self) -> u8 {
        self.encode(0)
    }
}

/// Segment end points of µ-law on the biased 14-bit magnitude.
const ULAW_SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
/// Segment end points of A-law on the 13-bit magnitude.
const ALAW_SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
/// µ-law bias (33 in 14-bit units) and clip level.
const ULAW_BIAS: i32 = 0x21;
const ULAW_CLIP: i32 = 8159;

#[inline]
const fn segment(value: i32, ends: &[i32; 8]) -> usize {
    let mut seg = 0;
    while seg < 8 {
        if value <= ends[seg] {
            return seg;
        }
        seg += 1;
    }
    8
}

/// µ-law encoding of one 16-bit linear sample.
#[inline]
pub const fn ulaw_encode(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 2;
    let mask: i32 = if pcm < 0 {
        pcm = -pcm;
        0x7F
    } else {
        0xFF
    };
    if pcm > ULAW_CLIP {
        pcm = ULAW_CLIP;
    }
    pcm += ULAW_BIAS;
    let seg = segment(pcm, &ULAW_SEG_END);
    let code = if seg >= 8 {
        0x7F
    } else {
        ((seg as i32) << 4) | ((pcm >> (seg + 1)) & 0xF)
    };
    (code ^ mask) as u8
}

/// µ-law decoding of one code word.
#[inline]
pub const fn ulaw_decode(code: u8) -> i16 {
    let u = !code as i32;
    let mut t = ((u & 0x0F) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

/// A-law encoding of one 16-bit linear sample.
#[inline]
pub const fn alaw_encode(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 3;
    let mask: i32 = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let seg = segment(pcm, &ALAW_SEG_END);
    let code = if seg >= 8 {
        0x7F
    } else {
        let mantissa = if seg < 2 {
            (pcm >> 1) & 0xF
        } else {
            (pcm >> seg) & 0xF
        };
        ((seg as i32) << 4) | mantissa
    };
    (code ^ mask) as u8
}

/// A-law decoding of one code word.
#[inline]
pub const fn alaw_decode(code: u8) -> i16 {
    let a = (code ^ 0x55) as i32;
    let mut t = (a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

const fn decode_table(law: Law) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = match law {
            Law::Ulaw => ulaw_decode(code as u8),
            Law::Alaw => alaw_decode(code as u8),
        };
        code += 1;
    }
    table
}

static ULAW_DECODE: [i16; 256] = decode_table(Law::Ulaw);
static ALAW_DECODE: [i16; 256] = decode_table(Law::Alaw);

/// Converts one code word from one law to the other through linear: the result is the code of the
/// target law whose decision interval holds the source code's decoder output (what Asterisk and
/// most media servers do). G.711's own conversion Tables 3 and 4 deviate from this on a few code
/// words of the middle segments (they are tuned so that A→µ→A round trips stay transparent more
/// often); Tether does not claim bit-exactness with those tables.
#[inline]
pub fn transcode(from: Law, to: Law, code: u8) -> u8 {
    if from == to {
        code
    } else {
        to.encode(from.decode(code))
    }
}

/// Encodes a frame of linear samples into `out` (cleared first).
pub fn encode_frame(law: Law, samples: &[i16], out: &mut Vec<u8>) {
    out.clear();
    out.extend(samples.iter().map(|&s| law.encode(s)));
}

/// Decodes a frame of code words into `out` (cleared first).
pub fn decode_frame(law: Law, codes: &[u8], out: &mut Vec<i16>) {
    out.clear();
    out.extend(codes.iter().map(|&c| law.decode(c)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_code_words() {
        // Values from the G.711 tables as the G.191 reference decoder produces them.
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(Law::Ulaw.silence(), 0xFF);
        assert_eq!(Law::Alaw.silence(), 0xD5);
    }

    /// The µ-law quantizer of G.711 Table 2a, positive half, on the 14-bit scale where the overload
    /// point is 8159: 129 decision values `x[0..=128]` and 128 decoder outputs `y[0..128]`.
    /// Built from the recommendation's description, not from the code under test: interval 0 is
    /// [0, 1), then 15 intervals of 2, then seven segments of 16 intervals of 4, 8, … 256. Outputs
    /// are the interval midpoints, except interval 0 whose output is 0.
    fn ulaw_itu() -> ([i32; 129], [i32; 128]) {
        let mut x = [0i32; 129];
        x[1] = 1;
        for n in 1..128 {
            let step = if n < 16 { 2 } else { 2 << (n / 16) };
            x[n + 1] = x[n] + step;
        }
        let mut y = [0i32; 128];
        for (n, out) in y.iter_mut().enumerate().skip(1) {
            *out = (x[n] + x[n + 1]) / 2;
        }
        (x, y)
    }

    /// The A-law quantizer of G.711 Table 1a, positive half, on the 13-bit scale where the overload
    /// point is 4096: 32 intervals of 2 (segments 0 and 1), then six segments of 16 intervals of 4,
    /// 8, … 128. Outputs are the interval midpoints.
    fn alaw_itu() -> ([i32; 129], [i32; 128]) {
        let mut x = [0i32; 129];
        for n in 0..128 {
            let step = if n < 32 { 2 } else { 1 << (n / 16) };
            x[n + 1] = x[n] + step;
        }
        let mut y = [0i32; 128];
        for (n, out) in y.iter_mut().enumerate() {
            *out = (x[n] + x[n + 1]) / 2;
        }
        (x, y)
    }

    /// The interval `n` with `x[n] <= m < x[n + 1]`; magnitudes at or past the last decision value
    /// overload into the top interval.
    fn interval(x: &[i32; 129], m: i32) -> usize {
        (0..128).rev().find(|&n| x[n] <= m).unwrap_or(0)
    }

    /// µ-law character signal (G.711 Table 2a): the polarity bit is 1 for positive values and the
    /// seven magnitude bits carry the interval number inverted.
    fn ulaw_char(positive: bool, n: usize) -> u8 {
        let magnitude = 0x7F - n as u8;
        if positive {
            0x80 | magnitude
        } else {
            magnitude
        }
    }

    /// A-law character signal (G.711 Table 1a): polarity bit 1 for positive values, the interval
    /// number in the other seven bits, then the even bits inverted (XOR 0x55).
    fn alaw_char(positive: bool, n: usize) -> u8 {
        let plain = if positive { 0x80 | n as u8 } else { n as u8 };
        plain ^ 0x55
    }

    #[test]
    fn the_itu_quantizers_have_the_recommendations_segment_end_points() {
        let (ux, uy) = ulaw_itu();
        let ends: Vec<i32> = (0..=8).map(|s| ux[(s * 16).max(1)]).collect();
        assert_eq!(ends, [1, 31, 95, 223, 479, 991, 2015, 4063, 8159]);
        assert_eq!((uy[0], uy[1], uy[16], uy[127]), (0, 2, 33, 8031));
        let (ax, ay) = alaw_itu();
        let ends: Vec<i32> = (1..=8).map(|s| ax[s * 16]).collect();
        assert_eq!(ends, [32, 64, 128, 256, 512, 1024, 2048, 4096]);
        assert_eq!((ay[0], ay[1], ay[32], ay[127]), (1, 3, 66, 4032));
    }

    #[test]
    fn all_256_ulaw_codes_decode_to_the_itu_table() {
        let (_, y) = ulaw_itu();
        for (n, &level) in y.iter().enumerate() {
            // Decoder outputs on the 14-bit scale, left-aligned in 16 bits.
            let value = (4 * level) as i16;
            let pos = ulaw_char(true, n);
            let neg = ulaw_char(false, n);
            assert_eq!(Law::Ulaw.decode(pos), value, "µ-law {pos:#04x}");
            assert_eq!(ulaw_decode(pos), value, "µ-law {pos:#04x}");
            assert_eq!(Law::Ulaw.decode(neg), -value, "µ-law {neg:#04x}");
            assert_eq!(ulaw_decode(neg), -value, "µ-law {neg:#04x}");
        }
    }

    #[test]
    fn all_256_alaw_codes_decode_to_the_itu_table() {
        let (_, y) = alaw_itu();
        for (n, &level) in y.iter().enumerate() {
            // Decoder outputs on the 13-bit scale, left-aligned in 16 bits.
            let value = (8 * level) as i16;
            let pos = alaw_char(true, n);
            let neg = alaw_char(false, n);
            assert_eq!(Law::Alaw.decode(pos), value, "A-law {pos:#04x}");
            assert_eq!(alaw_decode(pos), value, "A-law {pos:#04x}");
            assert_eq!(Law::Alaw.decode(neg), -value, "A-law {neg:#04x}");
            assert_eq!(alaw_decode(neg), -value, "A-law {neg:#04x}");
        }
    }

    /// The µ-law code the recommendation assigns to a 16-bit sample. The sample is truncated to
    /// 14 bits (two's complement, `v = floor(s / 4)`); the magnitude `|v|` falls in exactly one
    /// decision interval, a decision value belonging to the interval above it. This is the boundary
    /// convention of the G.191 reference encoder (G.711 defines the intervals on an analogue value
    /// and leaves the integer boundaries to the implementation).
    fn ulaw_expected(x: &[i32; 129], s: i16) -> u8 {
        let v = i32::from(s) >> 2;
        ulaw_char(v >= 0, interval(x, v.abs()))
    }

    /// The A-law code the recommendation assigns to a 16-bit sample. The 13-bit truncation
    /// `v = floor(s / 8)` stands for the cell `[v, v + 1)`; A-law decision values are even
    /// integers, so every cell lies inside one interval: for `v >= 0` the interval holding `v`,
    /// for `v < 0` the one holding the magnitude cell `(-v - 1, -v]`, i.e. `-v - 1`. This is the
    /// G.191 reference encoder's one's-complement handling of negative samples.
    fn alaw_expected(x: &[i32; 129], s: i16) -> u8 {
        let v = i32::from(s) >> 3;
        if v >= 0 {
            alaw_char(true, interval(x, v))
        } else {
            alaw_char(false, interval(x, -v - 1))
        }
    }

    #[test]
    fn all_65536_samples_encode_to_the_itu_interval_in_both_laws() {
        let (ux, _) = ulaw_itu();
        let (ax, _) = alaw_itu();
        for s in i16::MIN..=i16::MAX {
            let u = ulaw_expected(&ux, s);
            assert_eq!(Law::Ulaw.encode(s), u, "µ-law of {s}");
            assert_eq!(ulaw_encode(s), u, "µ-law of {s}");
            let a = alaw_expected(&ax, s);
            assert_eq!(Law::Alaw.encode(s), a, "A-law of {s}");
            assert_eq!(alaw_encode(s), a, "A-law of {s}");
        }
        // The encoders never emit µ-law negative zero nor anything outside the character sets.
        assert!((i16::MIN..=i16::MAX).all(|s| Law::Ulaw.encode(s) != 0x7F));
    }

    #[test]
    fn frames_encode_and_decode_like_single_samples() {
        let samples: Vec<i16> = (i16::MIN..=i16::MAX).step_by(7).collect();
        let mut codes = Vec::new();
        let mut back = Vec::new();
        for law in [Law::Ulaw, Law::Alaw] {
            encode_frame(law, &samples, &mut codes);
            assert_eq!(codes.len(), samples.len());
            assert!(codes
                .iter()
                .zip(&samples)
                .all(|(&c, &s)| c == law.encode(s)));
            decode_frame(law, &codes, &mut back);
            assert!(back.iter().zip(&codes).all(|(&s, &c)| s == law.decode(c)));
        }
    }

    #[test]
    fn transcoding_picks_the_interval_holding_the_other_laws_output() {
        let (ux, _) = ulaw_itu();
        let (ax, _) = alaw_itu();
        for code in 0..=255u8 {
            let linear = Law::Ulaw.decode(code);
            assert_eq!(
                transcode(Law::Ulaw, Law::Alaw, code),
                alaw_expected(&ax, linear),
                "µ→A {code:#04x}"
            );
            let linear = Law::Alaw.decode(code);
            assert_eq!(
                transcode(Law::Alaw, Law::Ulaw, code),
                ulaw_expected(&ux, linear),
                "A→µ {code:#04x}"
            );
            assert_eq!(transcode(Law::Ulaw, Law::Ulaw, code), code);
            assert_eq!(transcode(Law::Alaw, Law::Alaw, code), code);
        }
    }

    #[test]
    fn every_code_word_survives_a_round_trip() {
        for code in 0..=255u8 {
            let back = ulaw_encode(ulaw_decode(code));
            // 0x7F is negative zero in µ-law; it encodes back as positive zero.
            let expect = if code == 0x7F { 0xFF } else { code };
            assert_eq!(back, expect, "µ-law {code:#04x}");
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        }
    }
}
