//! The built-in audio: the zip tone and a generated music-on-hold melody, synthesized with
//! `crate::tone` so Tether ships no recording (and no one's copyright).
//!
//! **Zip tone.** The short tone an agent hears in the headset when a customer call is connected
//! to a persistent connection, so they know to start talking (SPEC §3.10; Cisco's TAPI names it
//! `CTONE_ZIP`, Avaya describes "one burst of zip tone" on auto-answer). Cisco does not publish its
//! waveform, so this is our choice, documented: **two bursts of 440 Hz, 100 ms on, 100 ms off, at
//! −13 dBm0** (400 ms, the last 100 ms silent). 440 Hz is the classic single-frequency alerting tone
//! (call waiting, ACD zip tones); the double burst tells it apart from a call-waiting beep.
//!
//! **Music on hold.** Eight seconds that loop seamlessly: a I–vi–IV–V progression in C major
//! (C, Am, F, G), one 2 s bar per chord at 120 beats per minute, each beat a plucked arpeggio note
//! (root, third, fifth, third, in the fifth octave) over the chord's root held for the bar in the
//! fourth octave. Every note has a 10 ms attack, an exponential decay and a 20 ms fade to zero, so
//! nothing clicks, not even at the loop point. All of it sits in the 300–3400 Hz telephone band.

use crate::frame::FRAME_SAMPLES;
use crate::tone::{Component, Tone, SAMPLE_RATE};

use super::Announcement;

/// Library name of the built-in zip tone.
pub const ZIP_TONE: &str = "zip-tone";

/// Library name of music on hold (the built-in melody until a WAV replaces it).
pub const MUSIC_ON_HOLD: &str = "music-on-hold";

/// The zip tone's frequency, level and cadence.
const ZIP_HZ: f64 = 440.0;
const ZIP_DBM0: f64 = -13.0;
const ZIP_ON_MS: u32 = 100;
const ZIP_OFF_MS: u32 = 100;
const ZIP_BURSTS: u32 = 2;

/// The built-in zip tone.
pub fn zip_tone() -> Announcement {
    let tone = Tone {
        components: vec![Component {
            hz: ZIP_HZ,
            dbm0: ZIP_DBM0,
        }],
        on_ms: ZIP_ON_MS,
        off_ms: ZIP_OFF_MS,
        repeat: Some(ZIP_BURSTS),
    };
    let len = tone.len_samples().unwrap_or(0) as usize;
    let mut pcm = vec![0i16; len];
    tone.render(0, &mut pcm);
    pcm_announcement(ZIP_TONE, &pcm)
}

/// Samples per beat at 120 beats per minute.
const BEAT: usize = SAMPLE_RATE as usize / 2;
/// Beats per bar (one chord per bar).
const BEATS_PER_BAR: usize = 4;
/// Levels of the arpeggio and the held root.
const MELODY_DBM0: f64 = -16.0;
const BASS_DBM0: f64 = -21.0;

/// The progression: per bar, the held root (fourth octave) and the four arpeggio notes (fifth).
const BARS: [(f64, [f64; BEATS_PER_BAR]); 4] = [
    // C major: C4 | C5 E5 G5 E5
    (261.63, [523.25, 659.26, 783.99, 659.26]),
    // A minor: A3 | A4 C5 E5 C5
    (220.00, [440.00, 523.25, 659.26, 523.25]),
    // F major: F4 | F5 A5 C6 A5
    (349.23, [698.46, 880.00, 1046.50, 880.00]),
    // G major: G3 | G4 B4 D5 B4
    (196.00, [392.00, 493.88, 587.33, 493.88]),
];

/// The built-in music on hold: 8 s, looping seamlessly (a whole number of frames).
pub fn music_on_hold() -> Announcement {
    let bar = BEAT * BEATS_PER_BAR;
    let mut mix = vec![0f64; bar * BARS.len()];
    for (b, (root, arpeggio)) in BARS.iter().enumerate() {
        let bar_start = b * bar;
        add_note(&mut mix[bar_start..bar_start + bar], *root, BASS_DBM0, 0.9);
        for (n, hz) in arpeggio.iter().enumerate() {
            let at = bar_start + n * BEAT;
            add_note(&mut mix[at..at + BEAT], *hz, MELODY_DBM0, 0.18);
        }
    }
    let pcm: Vec<i16> = mix
        .iter()
        .map(|&x| x.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16)
        .collect();
    debug_assert_eq!(pcm.len() % FRAME_SAMPLES, 0);
    pcm_announcement(MUSIC_ON_HOLD, &pcm)
}

/// Adds one plucked note filling `out`: a sine from `crate::tone` shaped by a 10 ms attack, an
/// exponential decay with time constant `decay_s` and a 20 ms fade to zero at the end.
fn add_note(out: &mut [f64], hz: f64, dbm0: f64, decay_s: f64) {
    let tone = Tone {
        components: vec![Component { hz, dbm0 }],
        on_ms: (out.len() as u64 * 1000 / u64::from(SAMPLE_RATE)) as u32,
        off_ms: 0,
        repeat: Some(1),
    };
    let mut sine = vec![0i16; out.len()];
    tone.render(0, &mut sine);
    let rate = f64::from(SAMPLE_RATE);
    let attack = 0.010 * rate;
    let fade = 0.020 * rate;
    let len = out.len() as f64;
    for (i, (slot, &s)) in out.iter_mut().zip(&sine).enumerate() {
        let t = i as f64;
        let rise = (t / attack).min(1.0);
        let fall = ((len - t) / fade).min(1.0);
        let decay = (-t / rate / decay_s).exp();
        *slot += f64::from(s) * rise * fall * decay;
    }
}

fn pcm_announcement(name: &str, pcm: &[i16]) -> Announcement {
    match Announcement::from_pcm(name, pcm) {
        Some(a) => a,
        // The built-ins are generated with fixed, non-zero lengths.
        None => unreachable!("built-in audio {name} is never empty"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Law;

    fn linear(a: &Announcement) -> Vec<i16> {
        a.frames(Law::Ulaw)
            .iter()
            .flatten()
            .map(|&c| Law::Ulaw.decode(c))
            .collect()
    }

    #[test]
    fn zip_tone_is_two_440_hz_bursts() {
        let zip = zip_tone();
        assert_eq!(zip.name(), ZIP_TONE);
        assert_eq!(zip.frame_count(), 20); // 400 ms
        let pcm = linear(&zip);
        let burst = |range: std::ops::Range<usize>| pcm[range].iter().any(|&s| s.abs() > 1000);
        assert!(burst(0..800));
        assert!(!burst(800..1600));
        assert!(burst(1600..2400));
        assert!(!burst(2400..3200));
        // 440 Hz: 88 zero crossings (44 periods, two per period) in the first 100 ms.
        let crossings = pcm[1..800]
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        assert!((86..=90).contains(&crossings), "{crossings}");
    }

    #[test]
    fn music_on_hold_loops_without_a_click() {
        let moh = music_on_hold();
        assert_eq!(moh.name(), MUSIC_ON_HOLD);
        assert_eq!(moh.frame_count(), 400); // 8 s
        let pcm = linear(&moh);
        // Audible, not clipped.
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((3000..20000).contains(&peak), "{peak}");
        // The end fades to silence and the loop restarts from silence: no step at the seam.
        assert!(pcm[pcm.len() - 2..].iter().all(|s| s.abs() < 200));
        assert!(pcm[..2].iter().all(|s| s.abs() < 200));
    }
}
