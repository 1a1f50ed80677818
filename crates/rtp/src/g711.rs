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

/// Converts one code word from one law to the other through linear (G.711 Appendix tables give the
/// same result for every code word).
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
