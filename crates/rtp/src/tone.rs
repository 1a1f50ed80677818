//! Tone synthesis at 8 kHz: one or two sine components at a level in dBm0, with an on/off cadence.
//!
//! Shared by in-band DTMF generation, the zip tone and call-progress tones. Pure arithmetic on a
//! sample counter, so a generator resumed at any sample index produces the same samples.

/// Samples per second of every narrowband signal in Tether.
pub const SAMPLE_RATE: u32 = 8_000;

/// Peak amplitude, in 16-bit linear units, of a 0 dBm0 sine: G.711's full-load sine is +3.17 dBm0
/// (µ-law; A-law's +3.14 is within a hundredth of a dB of it).
pub const DBM0_PEAK: f64 = 22_767.0;

/// The linear peak amplitude of a sine at `dbm0` (e.g. −7.0 for a DTMF high-group tone).
pub fn amplitude(dbm0: f64) -> f64 {
    DBM0_PEAK * 10f64.powf(dbm0 / 20.0)
}

/// One sine component of a tone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Component {
    pub hz: f64,
    pub dbm0: f64,
}

/// A tone of up to two components played with a cadence: `on_ms` of tone then `off_ms` of silence,
/// repeated `repeat` times (or forever when `repeat` is `None`). `off_ms == 0` is a steady tone.
#[derive(Debug, Clone, PartialEq)]
pub struct Tone {
    pub components: Vec<Component>,
    pub on_ms: u32,
    pub off_ms: u32,
    pub repeat: Option<u32>,
}

impl Tone {
    /// A steady two-frequency tone lasting `ms`.
    pub fn dual(f1: Component, f2: Component, ms: u32) -> Tone {
        Tone {
            components: vec![f1, f2],
            on_ms: ms,
            off_ms: 0,
            repeat: Some(1),
        }
    }

    /// Total length in samples, `None` for a tone that repeats forever.
    pub fn len_samples(&self) -> Option<u64> {
        let period = u64::from(self.on_ms + self.off_ms) * u64::from(SAMPLE_RATE) / 1000;
        self.repeat.map(|n| period * u64::from(n))
    }

    /// Writes samples `start..start + out.len()` of the tone into `out`; samples past the end of a
    /// finite tone are silence. Returns how many of them were still inside the tone.
    pub fn render(&self, start: u64, out: &mut [i16]) -> usize {
        let on = u64::from(self.on_ms) * u64::from(SAMPLE_RATE) / 1000;
        let period = (u64::from(self.on_ms + self.off_ms) * u64::from(SAMPLE_RATE) / 1000).max(1);
        let end = self.len_samples();
        let mut inside = 0;
        for (i, slot) in out.iter_mut().enumerate() {
            let n = start + i as u64;
            if end.is_some_and(|end| n >= end) {
                *slot = 0;
                continue;
            }
            inside += 1;
            if n % period >= on {
                *slot = 0;
                continue;
            }
            let t = n as f64 / f64::from(SAMPLE_RATE);
            let value: f64 = self
                .components
                .iter()
                .map(|c| amplitude(c.dbm0) * (2.0 * std::f64::consts::PI * c.hz * t).sin())
                .sum();
            *slot = value
                .round()
                .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_0_dbm0_sine_peaks_at_the_reference_amplitude() {
        let tone = Tone {
            components: vec![Component {
                hz: 1000.0,
                dbm0: 0.0,
            }],
            on_ms: 10,
            off_ms: 0,
            repeat: Some(1),
        };
        let mut out = [0i16; 80];
        assert_eq!(tone.render(0, &mut out), 80);
        // 1 kHz at 8 kHz: sample 2 is the crest.
        assert_eq!(out[2], DBM0_PEAK as i16);
        assert_eq!(out[0], 0);
    }

    #[test]
    fn cadence_and_end_are_silent() {
        let tone = Tone {
            components: vec![Component {
                hz: 440.0,
                dbm0: -10.0,
            }],
            on_ms: 10,
            off_ms: 10,
            repeat: Some(2),
        };
        let mut out = [0i16; 400];
        assert_eq!(tone.render(0, &mut out), 320);
        assert!(out[..80].iter().any(|&s| s != 0));
        assert!(out[80..160].iter().all(|&s| s == 0));
        assert!(out[160..240].iter().any(|&s| s != 0));
        assert!(out[240..].iter().all(|&s| s == 0));
        // Resuming mid-tone gives the same samples as rendering in one go.
        let mut part = [0i16; 50];
        tone.render(30, &mut part);
        assert_eq!(&part[..], &out[30..80]);
    }
}
