//! Announcements: audio loaded once, stored as ready 20 ms G.711 frames of both laws, shared by
//! every playback through an `Arc`.
//!
//! Sources are WAV files (`wav`: any common rate and sample format, converted to 8 kHz mono at
//! load), the built-in zip tone and music on hold (`builtin`), kept by name in a
//! [`AnnouncementLibrary`]. Playing them is the player's job (`crate::player`), not this room's:
//! nothing here knows about time.

mod builtin;
mod error;
mod library;
mod wav;

pub use builtin::{music_on_hold, zip_tone, MUSIC_ON_HOLD, ZIP_TONE};
pub use error::AnnounceError;
pub use library::AnnouncementLibrary;
pub use wav::{read_wav_8k_mono, MAX_DURATION, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};

use std::path::Path;
use std::time::Duration;

use crate::frame::{G711Frame, FRAME_DURATION, FRAME_SAMPLES};
use crate::g711::Law;

/// A piece of audio ready to be sent: 8 kHz, cut into 20 ms frames, encoded in both G.711 laws.
/// Never empty: it holds at least one frame. The last frame is padded with silence.
#[derive(Debug)]
pub struct Announcement {
    name: String,
    samples: usize,
    ulaw: Box<[G711Frame]>,
    alaw: Box<[G711Frame]>,
}

impl Announcement {
    /// Builds an announcement from 8 kHz linear samples; `None` when there are none.
    pub fn from_pcm(name: impl Into<String>, pcm: &[i16]) -> Option<Announcement> {
        if pcm.is_empty() {
            return None;
        }
        let encode = |law: Law| -> Box<[G711Frame]> {
            pcm.chunks(FRAME_SAMPLES)
                .map(|chunk| {
                    let mut frame = [law.silence(); FRAME_SAMPLES];
                    for (code, &sample) in frame.iter_mut().zip(chunk) {
                        *code = law.encode(sample);
                    }
                    frame
                })
                .collect()
        };
        Some(Announcement {
            name: name.into(),
            samples: pcm.len(),
            ulaw: encode(Law::Ulaw),
            alaw: encode(Law::Alaw),
        })
    }

    /// Loads a WAV file (see [`read_wav_8k_mono`] for what is accepted) under `name`.
    pub fn from_wav(name: impl Into<String>, path: &Path) -> Result<Announcement, AnnounceError> {
        let pcm = read_wav_8k_mono(path)?;
        Announcement::from_pcm(name, &pcm).ok_or_else(|| AnnounceError::Empty {
            path: path.to_path_buf(),
        })
    }

    /// The name it was loaded under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of 20 ms frames, at least 1.
    pub fn frame_count(&self) -> usize {
        self.ulaw.len()
    }

    /// Number of 8 kHz samples before padding to whole frames.
    pub fn sample_count(&self) -> usize {
        self.samples
    }

    /// Play-out time of all frames (whole frames, so up to 20 ms longer than the samples).
    pub fn duration(&self) -> Duration {
        FRAME_DURATION * self.frame_count() as u32
    }

    /// All frames in one law.
    pub fn frames(&self, law: Law) -> &[G711Frame] {
        match law {
            Law::Ulaw => &self.ulaw,
            Law::Alaw => &self.alaw,
        }
    }

    /// Frame `index` in one law; `None` past the end.
    pub fn frame(&self, law: Law, index: usize) -> Option<&G711Frame> {
        self.frames(law).get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_is_cut_into_padded_frames_of_both_laws() {
        let pcm: Vec<i16> = (0..400).map(|i| (i * 50) as i16).collect();
        let a = Announcement::from_pcm("ramp", &pcm).unwrap();
        assert_eq!(a.name(), "ramp");
        assert_eq!(a.frame_count(), 3);
        assert_eq!(a.sample_count(), 400);
        assert_eq!(a.duration(), Duration::from_millis(60));
        for law in [Law::Ulaw, Law::Alaw] {
            let frames = a.frames(law);
            assert_eq!(frames[1][0], law.encode(pcm[160]));
            assert_eq!(frames[2][79], law.encode(pcm[399]));
            // Padding after the last sample is that law's silence.
            assert!(frames[2][80..].iter().all(|&c| c == law.silence()));
        }
        assert!(a.frame(Law::Ulaw, 3).is_none());
        assert!(Announcement::from_pcm("empty", &[]).is_none());
    }
}
