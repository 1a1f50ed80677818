//! Goertzel DTMF detector for 8 kHz linear audio, built to ITU-T Q.24 (North American values, as
//! in Bellcore TR-NWT-000506), fed in chunks of any size. Pure arithmetic on the samples: the
//! same input gives the same keys at the same sample positions, however it is chunked.
//!
//! # How it listens
//!
//! Rectangular windows of [`WINDOW`] = 102 samples (12.75 ms, bins 78 Hz wide) advance by
//! [`HOP`] = 51 samples. In each window a Goertzel filter measures the complex amplitude at the
//! eight Q.23 frequencies. The strongest row and column bins are then examined as a pair, and the
//! window is a *candidate* for their key when all of these hold:
//!
//! * **frequency**: each tone's frequency, measured from how far its phase advances over one hop,
//!   is within ±[`DetectorConfig::max_deviation`] (2.5 %) of nominal. Q.24 asks receivers to
//!   accept ±1.5 % and reject ±3.5 %; at this window length a bin's energy alone cannot separate
//!   the two (−1.4 dB against −4.3 dB at 1633 Hz), its phase can. The measure is refined once on
//!   the leakage-free amplitudes below;
//! * **leakage-free levels**: the pair's two bins are solved together (a 2×2 complex system built
//!   from the window's response at the measured frequencies) for the two tones' amplitudes. This
//!   removes each tone's sidelobe leakage into the other's bin (−21 dB between 941 and 1209 Hz,
//!   enough to swing a measured level by ±1.5 dB under twist) and the window's loss at the
//!   frequency error;
//! * **level**: each tone at least [`DetectorConfig::min_tone_dbm0`] (−35 dBm0; Q.24 requires
//!   operation from −25 dBm0 per tone and non-operation below −55 dBm0);
//! * **twist**: the low-group tone at most [`DetectorConfig::normal_twist_db`] (9 dB) above the
//!   high-group tone and at most [`DetectorConfig::reverse_twist_db`] (5 dB) below it. Q.24 /
//!   TR-506 require accepting 8 dB with the low group louder ("normal" twist in the naming of
//!   TR-506 and spandsp; some texts swap the names) and 4 dB with the high group louder; the limits
//!   sit 1 dB outside those so signals at the limits survive measurement error;
//! * **purity**: the two tones hold at least [`DetectorConfig::min_purity`] (75 %) of the
//!   window's power. This is the main talk-off guard: speech and music spread their power over
//!   many harmonics and noise, a DTMF pair concentrates it in two;
//! * **one tone per group**: what the pair leaves in the other six bins, once its own leakage is
//!   subtracted, is [`DetectorConfig::relative_peak_db`] (8 dB) below the tone of that group;
//! * **no harmonic**: the high tone is not twice the low one within 0.75 % (a voice or a buzz);
//!   genuine pairs stay 1.2 % away from 2:1 even at ±1.5 % (1477/770 = 1.918).
//!
//! A key is **recognised** after [`RECOGNISE_WINDOWS`] = 4 candidate windows in a row for it
//! (255 samples) whose tone levels agree within 2 dB. A 40 ms tone (320 samples) holds at least
//! four whole windows, so it is always recognised; a 20 ms tone (160 samples) would leave the
//! outer windows of any four about half empty, and a half-empty window has its purity and level
//! halved, so it never is. Measured over every alignment: tones up to 26 ms are never keys, from
//! 34 ms always. Recognition comes about 35 ms after the tone starts. The key then stays down
//! while each window holds both of its tones at no less than a quarter of the recognised power
//! (the window at least half full) and is released after [`RELEASE_WINDOWS`] = 5 windows that
//! fail: a 40 ms pause makes at least six such windows, an interruption of 20 ms at most four,
//! which is bridged as Q.24 wants (measured: breaks up to 24 ms always bridged, from 31 ms always
//! two keys).
//!
//! Start and end are estimated from the first and last windows at least half full of the tone,
//! to within ±26 samples (3.2 ms).

use std::collections::VecDeque;
use std::f64::consts::PI;

use super::digit::{Digit, COL_HZ, ROW_HZ};
use crate::tone::{amplitude, SAMPLE_RATE};

/// Goertzel window length in samples.
pub const WINDOW: usize = 102;
/// Step between windows in samples.
pub const HOP: usize = 51;
/// Failing windows that release a key.
pub const RELEASE_WINDOWS: u32 = 5;
/// Candidate windows in a row that recognise a key.
pub const RECOGNISE_WINDOWS: usize = 4;
/// How far the tone powers of the recognising windows may differ, dB.
const STEADY_DB: f64 = 2.0;
/// A high tone within this relative distance of twice the low tone is a harmonic, not a key.
const HARMONIC: f32 = 0.0075;
/// Windows kept to find where a tone began.
const HISTORY: usize = 8;

/// Thresholds of the detector; the defaults meet Q.24 as the module comment explains.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// Largest relative frequency error accepted per tone (0.025 = ±2.5 %).
    pub max_deviation: f64,
    /// Lowest level accepted per tone, dBm0.
    pub min_tone_dbm0: f64,
    /// How much louder the low-group tone may be than the high-group one, dB.
    pub normal_twist_db: f64,
    /// How much louder the high-group tone may be than the low-group one, dB.
    pub reverse_twist_db: f64,
    /// How far each tone's bin must stand above the other bins of its group, dB.
    pub relative_peak_db: f64,
    /// Smallest share of the window's power the two tones must hold.
    pub min_purity: f64,
}

impl Default for DetectorConfig {
    fn default() -> DetectorConfig {
        DetectorConfig {
            max_deviation: 0.025,
            min_tone_dbm0: -35.0,
            normal_twist_db: 9.0,
            reverse_twist_db: 5.0,
            relative_peak_db: 8.0,
            min_purity: 0.75,
        }
    }
}

/// What the detector reports. Positions are sample indices counted from the first sample fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorEvent {
    /// A key was recognised (about 35 ms into its tone); `start` is where the tone began.
    DigitOn { digit: Digit, start: u64 },
    /// The key's tone ended: it began at `start` and lasted `duration` samples.
    DigitDetected {
        digit: Digit,
        start: u64,
        duration: u64,
    },
}

impl DetectorEvent {
    pub fn digit(&self) -> Digit {
        match self {
            DetectorEvent::DigitOn { digit, .. } | DetectorEvent::DigitDetected { digit, .. } => {
                *digit
            }
        }
    }
}

/// Frequencies in bin order: the four rows, then the four columns.
fn bin_hz(bin: usize) -> f64 {
    if bin < 4 {
        ROW_HZ[bin]
    } else {
        COL_HZ[bin - 4]
    }
}

/// Just enough complex arithmetic for the Goertzel outputs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct C {
    re: f32,
    im: f32,
}

impl C {
    fn new(re: f32, im: f32) -> C {
        C { re, im }
    }
    fn polar(r: f32, theta: f32) -> C {
        C::new(r * theta.cos(), r * theta.sin())
    }
    fn mul(self, o: C) -> C {
        C::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
    fn add(self, o: C) -> C {
        C::new(self.re + o.re, self.im + o.im)
    }
    fn sub(self, o: C) -> C {
        C::new(self.re - o.re, self.im - o.im)
    }
    fn norm2(self) -> f32 {
        self.re * self.re + self.im * self.im
    }
    fn div(self, o: C) -> C {
        let d = o.norm2();
        C::new(
            (self.re * o.re + self.im * o.im) / d,
            (self.im * o.re - self.re * o.im) / d,
        )
    }
    /// Angle of `self · conj(o)`.
    fn angle_from(self, o: C) -> f32 {
        (self.im * o.re - self.re * o.im).atan2(self.re * o.re + self.im * o.im)
    }
}

/// Response of an N-sample rectangular DFT to a complex tone `delta` rad/sample off the bin:
/// `Σ e^{jδn} = e^{jδ(N−1)/2} · sin(Nδ/2) / sin(δ/2)`.
fn kernel(delta: f32) -> C {
    let n = WINDOW as f32;
    let half = delta / 2.0;
    let magnitude = if half.sin().abs() < 1e-7 {
        n
    } else {
        (n * half).sin() / half.sin()
    };
    C::polar(magnitude, half * (n - 1.0))
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    digit: Digit,
    /// Tone powers (mean-square amplitude) after removing cross-leakage.
    row: f32,
    col: f32,
    /// Measured relative frequency errors.
    row_dev: f32,
    col_dev: f32,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: u64,
    /// DFT of the window at the eight frequencies (phase referenced to the window start).
    x: [C; 8],
    candidate: Option<Candidate>,
}

#[derive(Debug, Clone, Copy)]
struct Down {
    digit: Digit,
    row_dev: f32,
    col_dev: f32,
    /// Tone powers when recognised.
    ref_row: f32,
    ref_col: f32,
    start: u64,
    last_full: u64,
    misses: u32,
}

/// Streaming DTMF detector for one channel.
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    config: DetectorConfig,
    /// ω of each bin, rad/sample.
    omega: [f32; 8],
    /// Goertzel coefficient 2·cos ω.
    coef: [f32; 8],
    /// e^{−jω}: turns the Goertzel state into its output.
    twiddle: [C; 8],
    /// e^{−jω(N−1)}: re-references the Goertzel output to the window start.
    rotate: [C; 8],
    /// Nominal phase advance ω·HOP of each bin over one hop.
    hop_phase: [f32; 8],
    min_power: f32,
    normal_twist: f32,
    reverse_twist: f32,
    relative_peak: f32,
    steady: f32,
    buf: [f32; WINDOW],
    filled: usize,
    seen: u64,
    history: VecDeque<Window>,
    down: Option<Down>,
    /// Earliest window start a new key may claim (after the last key's tone).
    floor: u64,
    events: VecDeque<DetectorEvent>,
}

fn db_ratio(db: f64) -> f32 {
    10f64.powf(db / 10.0) as f32
}

fn wrap(phase: f64) -> f64 {
    let p = phase.rem_euclid(2.0 * PI);
    if p > PI {
        p - 2.0 * PI
    } else {
        p
    }
}

impl Default for DtmfDetector {
    fn default() -> DtmfDetector {
        DtmfDetector::new(DetectorConfig::default())
    }
}

impl DtmfDetector {
    pub fn new(config: DetectorConfig) -> DtmfDetector {
        let mut omega = [0f32; 8];
        let mut coef = [0f32; 8];
        let mut twiddle = [C::default(); 8];
        let mut rotate = [C::default(); 8];
        let mut hop_phase = [0f32; 8];
        for bin in 0..8 {
            let w = 2.0 * PI * bin_hz(bin) / f64::from(SAMPLE_RATE);
            omega[bin] = w as f32;
            coef[bin] = (2.0 * w.cos()) as f32;
            twiddle[bin] = C::new(w.cos() as f32, -w.sin() as f32);
            let back = wrap(-w * (WINDOW - 1) as f64);
            rotate[bin] = C::new(back.cos() as f32, back.sin() as f32);
            hop_phase[bin] = wrap(w * HOP as f64) as f32;
        }
        let tone = amplitude(config.min_tone_dbm0);
        DtmfDetector {
            omega,
            coef,
            twiddle,
            rotate,
            hop_phase,
            min_power: (tone * tone / 2.0) as f32,
            normal_twist: db_ratio(config.normal_twist_db),
            reverse_twist: db_ratio(config.reverse_twist_db),
            relative_peak: db_ratio(config.relative_peak_db),
            steady: db_ratio(STEADY_DB),
            config,
            buf: [0.0; WINDOW],
            filled: 0,
            seen: 0,
            history: VecDeque::with_capacity(HISTORY),
            down: None,
            floor: 0,
            events: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Samples fed so far.
    pub fn samples_seen(&self) -> u64 {
        self.seen
    }

    /// The key recognised and not yet released.
    pub fn key_down(&self) -> Option<Digit> {
        self.down.map(|d| d.digit)
    }

    /// Feeds samples, any number at a time.
    pub fn process(&mut self, samples: &[i16]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (WINDOW - self.filled).min(rest.len());
            for (slot, &s) in self.buf[self.filled..self.filled + take]
                .iter_mut()
                .zip(rest)
            {
                *slot = f32::from(s);
            }
            self.filled += take;
            self.seen += take as u64;
            rest = &rest[take..];
            if self.filled == WINDOW {
                self.window();
                self.buf.copy_within(HOP.., 0);
                self.filled = WINDOW - HOP;
            }
        }
    }

    /// Releases a key still down, as if silence followed (the sample count moves on).
    pub fn flush(&mut self) {
        let silence = [0i16; HOP];
        for _ in 0..(RELEASE_WINDOWS as usize + 2) {
            if self.down.is_none() {
                break;
            }
            self.process(&silence);
        }
    }

    /// The next report, oldest first.
    pub fn poll_event(&mut self) -> Option<DetectorEvent> {
        self.events.pop_front()
    }

    /// Measures the window in `buf` and moves the key state on.
    fn window(&mut self) {
        let mut s1 = [0f32; 8];
        let mut s2 = [0f32; 8];
        let mut energy = 0f32;
        for &v in &self.buf {
            energy += v * v;
            for bin in 0..8 {
                let s0 = v + self.coef[bin] * s1[bin] - s2[bin];
                s2[bin] = s1[bin];
                s1[bin] = s0;
            }
        }
        let mut x = [C::default(); 8];
        for bin in 0..8 {
            let y = C::new(s1[bin], 0.0).sub(self.twiddle[bin].mul(C::new(s2[bin], 0.0)));
            x[bin] = y.mul(self.rotate[bin]);
        }
        let total = energy / WINDOW as f32;
        let candidate = self
            .history
            .back()
            .and_then(|prev| self.classify(&x, &prev.x, total));
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(Window {
            start: self.seen - WINDOW as u64,
            x,
            candidate,
        });
        self.track();
    }

    /// Whether a window holds a key, by the checks of the module comment.
    fn classify(&self, x: &[C; 8], prev: &[C; 8], total: f32) -> Option<Candidate> {
        let raw = x.map(C::norm2);
        let row = strongest(&raw[..4]);
        let col = 4 + strongest(&raw[4..]);
        // First estimate of each tone's frequency error from its bin's phase advance over the
        // hop, then a second from the advance of the leakage-free tone amplitudes.
        let first = (
            self.deviation(row, x[row].angle_from(prev[row]))?,
            self.deviation(col, x[col].angle_from(prev[col]))?,
        );
        let [now_row, now_col] = self.tone_amplitudes(x, row, col, first);
        let [was_row, was_col] = self.tone_amplitudes(prev, row, col, first);
        let row_dev = self.deviation(row, now_row.angle_from(was_row))?;
        let col_dev = self.deviation(col, now_col.angle_from(was_col))?;
        // The high tone at twice the low one is a harmonic (voice, buzz), not a key. Genuine
        // pairs stay 1.2 % away from 2:1 even at ±1.5 % deviation (1477/770 = 1.918).
        let ratio = bin_hz(col) as f32 * (1.0 + col_dev) / (bin_hz(row) as f32 * (1.0 + row_dev));
        if (ratio / 2.0 - 1.0).abs() < HARMONIC {
            return None;
        }
        let [a_row, a_col] = self.tone_amplitudes(x, row, col, (row_dev, col_dev));
        let (row_power, col_power) = (2.0 * a_row.norm2(), 2.0 * a_col.norm2());
        if !(row_power.is_finite() && col_power.is_finite()) {
            return None;
        }
        if row_power < self.min_power || col_power < self.min_power {
            return None;
        }
        if row_power > col_power * self.normal_twist || col_power > row_power * self.reverse_twist {
            return None;
        }
        if row_power + col_power < self.config.min_purity as f32 * total {
            return None;
        }
        // One tone per group: what the pair leaves in the other bins is far below it.
        let wr = self.omega[row] * (1.0 + row_dev);
        let wc = self.omega[col] * (1.0 + col_dev);
        let n2 = (WINDOW * WINDOW) as f32;
        for bin in (0..8).filter(|&b| b != row && b != col) {
            let model = a_row
                .mul(kernel(wr - self.omega[bin]))
                .add(a_col.mul(kernel(wc - self.omega[bin])));
            let tone = if bin < 4 { a_row } else { a_col };
            if x[bin].sub(model).norm2() * self.relative_peak > tone.norm2() * n2 {
                return None;
            }
        }
        Some(Candidate {
            digit: Digit::at(row, col - 4)?,
            row: row_power,
            col: col_power,
            row_dev,
            col_dev,
        })
    }

    /// Relative frequency error of the tone in `bin` from its phase advance over one hop; `None`
    /// when beyond the accepted deviation.
    fn deviation(&self, bin: usize, advance: f32) -> Option<f32> {
        let error = wrap(f64::from(advance - self.hop_phase[bin])) as f32;
        let deviation = error / (self.omega[bin] * HOP as f32);
        (f64::from(deviation.abs()) <= self.config.max_deviation).then_some(deviation)
    }

    /// Powers (mean-square amplitudes) of a row and a column tone at the given frequency errors.
    /// Each bin also picks up the other tone through the window's sidelobes (−21 dB between 941
    /// and 1209 Hz), enough to swing a measured level by ±1.5 dB under twist; the two bins are
    /// solved together for the two tones' complex amplitudes, which removes that leakage and the
    /// window's loss at the frequency error in one step.
    fn tone_powers(
        &self,
        x: &[C; 8],
        row: usize,
        col: usize,
        row_dev: f32,
        col_dev: f32,
    ) -> (f32, f32) {
        let [a_row, a_col] = self.tone_amplitudes(x, row, col, (row_dev, col_dev));
        (2.0 * a_row.norm2(), 2.0 * a_col.norm2())
    }

    /// Complex amplitudes (at the window start) of a row and a column tone at the given
    /// frequency errors, solved from their two bins.
    fn tone_amplitudes(&self, x: &[C; 8], row: usize, col: usize, dev: (f32, f32)) -> [C; 2] {
        let (row_dev, col_dev) = dev;
        let wr = self.omega[row] * (1.0 + row_dev);
        let wc = self.omega[col] * (1.0 + col_dev);
        let k11 = kernel(wr - self.omega[row]);
        let k12 = kernel(wc - self.omega[row]);
        let k21 = kernel(wr - self.omega[col]);
        let k22 = kernel(wc - self.omega[col]);
        let det = k11.mul(k22).sub(k12.mul(k21));
        let a_row = x[row].mul(k22).sub(x[col].mul(k12)).div(det);
        let a_col = x[col].mul(k11).sub(x[row].mul(k21)).div(det);
        [a_row, a_col]
    }

    /// Moves the key state on after a new window.
    fn track(&mut self) {
        let Some(last) = self.history.back().copied() else {
            return;
        };
        if let Some(mut down) = self.down {
            if self.holds(&last, &down) {
                down.last_full = last.start;
                down.misses = 0;
                self.down = Some(down);
                return;
            }
            down.misses += 1;
            if down.misses < RELEASE_WINDOWS {
                self.down = Some(down);
                return;
            }
            let end = down.last_full + (WINDOW - HOP / 2) as u64;
            self.events.push_back(DetectorEvent::DigitDetected {
                digit: down.digit,
                start: down.start,
                duration: end.saturating_sub(down.start),
            });
            self.floor = down.last_full + HOP as u64;
            self.down = None;
        }
        self.recognise();
    }

    /// Whether a window is at least half full of the key's tones (a quarter of their power) and
    /// holds no stronger tone in either group.
    fn holds(&self, w: &Window, down: &Down) -> bool {
        let (r, c) = (down.digit.row(), 4 + down.digit.col());
        let raw = w.x.map(C::norm2);
        if strongest(&raw[..4]) != r || 4 + strongest(&raw[4..]) != c {
            return false;
        }
        let (pr, pc) = self.tone_powers(&w.x, r, c, down.row_dev, down.col_dev);
        pr * 4.0 >= down.ref_row && pc * 4.0 >= down.ref_col
    }

    /// Recognises a key from the last windows, if they hold one.
    fn recognise(&mut self) {
        let len = self.history.len();
        if len < RECOGNISE_WINDOWS {
            return;
        }
        let first_index = len - RECOGNISE_WINDOWS;
        let mut digit = None;
        let (mut row_min, mut row_max, mut col_min, mut col_max) = (f32::MAX, 0f32, f32::MAX, 0f32);
        let (mut row_dev, mut col_dev) = (0f32, 0f32);
        for w in self.history.range(first_index..) {
            let c = match w.candidate {
                Some(c) if w.start >= self.floor => c,
                _ => return,
            };
            if digit.is_some_and(|d| d != c.digit) {
                return;
            }
            digit = Some(c.digit);
            row_min = row_min.min(c.row);
            row_max = row_max.max(c.row);
            col_min = col_min.min(c.col);
            col_max = col_max.max(c.col);
            row_dev += c.row_dev / RECOGNISE_WINDOWS as f32;
            col_dev += c.col_dev / RECOGNISE_WINDOWS as f32;
        }
        let Some(digit) = digit else {
            return;
        };
        if row_max > row_min * self.steady || col_max > col_min * self.steady {
            return;
        }
        let mut down = Down {
            digit,
            row_dev,
            col_dev,
            ref_row: row_max,
            ref_col: col_max,
            start: 0,
            last_full: self.history[len - 1].start,
            misses: 0,
        };
        // Walk back to the first window at least half full of the tone.
        let mut first = self.history[first_index].start;
        for w in self.history.range(..first_index).rev() {
            if w.start < self.floor || !self.holds(w, &down) {
                break;
            }
            first = w.start;
        }
        down.start = first + (HOP / 2 + 1) as u64;
        self.down = Some(down);
        self.events.push_back(DetectorEvent::DigitOn {
            digit,
            start: down.start,
        });
    }
}

/// Index of the largest of four powers.
fn strongest(p: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests;
