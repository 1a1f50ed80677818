//! In-band DTMF: the Q.23 tone pair of each key, rendered into 20 ms frames of 8 kHz linear PCM
//! for legs that carry no events (FXO, PRI, or a peer that negotiated no telephone-event).
//!
//! Levels are those of a standard DTMF generator: the low-group (row) tone at −9 dBm0 and the
//! high-group (column) tone at −7 dBm0, i.e. 2 dB of pre-emphasis on the high group (within the
//! −10…−4 dBm0 per-tone range telephone generators are held to, and well inside Q.24 receivers'
//! twist limits). The default key is 100 ms of tone and 100 ms of silence, twice the Q.24
//! minimum of 40 ms tone / 40 ms pause.
//!
//! The generator only produces samples; the media engine decides whether they replace or are
//! mixed into the leg's audio, and encodes them with the leg's G.711 law.

use std::collections::VecDeque;

use super::digit::{parse_digits, Digit, DigitError};
use crate::tone::{Component, Tone, SAMPLE_RATE};

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// Levels and timing of generated keys.
#[derive(Debug, Clone, PartialEq)]
pub struct InbandConfig {
    /// Level of the low-group tone, dBm0.
    pub low_dbm0: f64,
    /// Level of the high-group tone, dBm0.
    pub high_dbm0: f64,
    /// Tone length of keys queued without one, ms.
    pub default_duration_ms: u32,
    /// Silence after each tone, ms.
    pub gap_ms: u32,
}

impl Default for InbandConfig {
    fn default() -> InbandConfig {
        InbandConfig {
            low_dbm0: -9.0,
            high_dbm0: -7.0,
            default_duration_ms: 100,
            gap_ms: 100,
        }
    }
}

struct Playing {
    tone: Tone,
    /// Next sample of the tone (tone then gap).
    pos: u64,
    len: u64,
}

/// Plays queued keys as tone pairs separated by silence.
pub struct InbandGenerator {
    config: InbandConfig,
    queue: VecDeque<(Digit, u32)>,
    playing: Option<Playing>,
}

impl InbandGenerator {
    pub fn new(config: InbandConfig) -> InbandGenerator {
        InbandGenerator {
            config,
            queue: VecDeque::new(),
            playing: None,
        }
    }

    /// Queues a key with a tone length in ms.
    pub fn queue(&mut self, digit: Digit, duration_ms: u32) {
        self.queue.push_back((digit, duration_ms));
    }

    /// Queues a string of keys with the default length; nothing is queued when a character is no
    /// key.
    pub fn queue_str(&mut self, keys: &str) -> Result<(), DigitError> {
        for d in parse_digits(keys)? {
            self.queue(d, self.config.default_duration_ms);
        }
        Ok(())
    }

    /// Whether a key is playing (tone or the silence after it) or queued.
    pub fn is_active(&self) -> bool {
        self.playing.is_some() || !self.queue.is_empty()
    }

    /// The next 20 ms frame while keys are playing, `None` when idle (the leg then sends its own
    /// audio).
    pub fn next_frame(&mut self) -> Option<[i16; FRAME_SAMPLES]> {
        if !self.is_active() {
            return None;
        }
        let mut frame = [0i16; FRAME_SAMPLES];
        self.fill(&mut frame);
        Some(frame)
    }

    /// Writes the next `out.len()` samples (silence once idle). Returns how many samples belonged
    /// to a key (tone or gap).
    pub fn fill(&mut self, out: &mut [i16]) -> usize {
        let mut done = 0;
        while done < out.len() {
            if self.playing.is_none() {
                let Some((digit, ms)) = self.queue.pop_front() else {
                    break;
                };
                self.playing = Some(self.start(digit, ms));
            }
            let Some(p) = self.playing.as_mut() else {
                break;
            };
            let take = ((p.len - p.pos) as usize).min(out.len() - done);
            p.tone.render(p.pos, &mut out[done..done + take]);
            p.pos += take as u64;
            done += take;
            if p.pos >= p.len {
                self.playing = None;
            }
        }
        out[done..].fill(0);
        done
    }

    fn start(&self, digit: Digit, duration_ms: u32) -> Playing {
        let (low, high) = digit.frequencies();
        let tone = Tone {
            components: vec![
                Component {
                    hz: low,
                    dbm0: self.config.low_dbm0,
                },
                Component {
                    hz: high,
                    dbm0: self.config.high_dbm0,
                },
            ],
            on_ms: duration_ms,
            off_ms: self.config.gap_ms,
            repeat: Some(1),
        };
        let len = u64::from(duration_ms + self.config.gap_ms) * u64::from(SAMPLE_RATE) / 1000;
        Playing { tone, pos: 0, len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::amplitude;

    /// Correlation of `x` with a sine and cosine at `hz`: the amplitude of that component.
    fn component(x: &[i16], hz: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * hz / f64::from(SAMPLE_RATE);
        let (mut s, mut c) = (0.0, 0.0);
        for (n, &v) in x.iter().enumerate() {
            s += f64::from(v) * (w * n as f64).sin();
            c += f64::from(v) * (w * n as f64).cos();
        }
        2.0 * (s * s + c * c).sqrt() / x.len() as f64
    }

    #[test]
    fn frames_carry_the_key_then_silence_then_stop() {
        let mut g = InbandGenerator::new(InbandConfig::default());
        assert!(g.next_frame().is_none());
        g.queue(Digit::Five, 100);
        let frames: Vec<_> = std::iter::from_fn(|| g.next_frame()).collect();
        assert_eq!(frames.len(), 10, "100 ms of tone and 100 ms of silence");
        let samples: Vec<i16> = frames.concat();
        assert!(samples[800..].iter().all(|&s| s == 0));
        // 100 ms = 800 samples = a whole number of periods of neither tone: measure both.
        let low = component(&samples[..800], 770.0);
        let high = component(&samples[..800], 1336.0);
        assert!((low / amplitude(-9.0) - 1.0).abs() < 0.01, "{low}");
        assert!((high / amplitude(-7.0) - 1.0).abs() < 0.01, "{high}");
        assert!(component(&samples[..800], 697.0) < 0.05 * low);
        assert!(!g.is_active());
    }

    #[test]
    fn keys_are_contiguous_across_odd_chunk_sizes() {
        let mut a = InbandGenerator::new(InbandConfig::default());
        a.queue_str("19#").unwrap();
        let mut whole = vec![0i16; 4800];
        assert_eq!(a.fill(&mut whole), 4800);
        let mut b = InbandGenerator::new(InbandConfig::default());
        b.queue_str("19#").unwrap();
        let mut pieces = Vec::new();
        for size in [1usize, 7, 160, 333, 1000].iter().cycle() {
            let mut chunk = vec![0i16; *size];
            if b.fill(&mut chunk) == 0 {
                break;
            }
            pieces.extend(chunk);
        }
        assert_eq!(&pieces[..4800], &whole[..]);
        assert!(pieces[4800..].iter().all(|&s| s == 0));
        assert!(b.queue_str("1z").is_err());
    }
}
