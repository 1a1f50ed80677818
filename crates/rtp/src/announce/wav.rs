//! WAV decoding and conversion to 8 kHz mono linear samples — the one place that touches a file.
//!
//! hound decodes the container and every PCM sample format (8/16/24/32-bit integer, 32-bit float);
//! channels are averaged to mono; rubato converts the rate.
//!
//! The resampler is rubato's synchronous FFT resampler (`rubato::Fft`), run over the whole file
//! with `process_all`. A file has one fixed ratio (44.1 kHz → 8 kHz is exactly 80/441), which is
//! what the synchronous resampler is for; rubato's documentation names it for "convert an audio
//! file from one fixed rate to another … as an offline batch job". It low-pass filters in the
//! frequency domain (Blackman–Harris² window) so content above 4 kHz does not fold back into the
//! voice band, it matches the quality of rubato's sinc resampler at a fraction of the CPU, and
//! `process_all` trims the filter delay, so the output starts at the input's first sample and has
//! `ceil(len × 8000 / rate)` samples: durations are preserved. The asynchronous resamplers exist for
//! drifting clocks, and the polynomial one does no anti-aliasing: neither fits.
//!
//! Loading happens once, at provisioning time, never per call; nothing here is on the media path.

use std::path::Path;
use std::time::Duration;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

use super::AnnounceError;
use crate::tone::SAMPLE_RATE;

/// The longest file we load: five minutes. A whisper announcement lasts seconds and music on hold
/// loops; five minutes of 8 kHz audio is 2.4 MB per law in memory, and the transient decode of
/// a 48 kHz file of that length about 60 MB.
pub const MAX_DURATION: Duration = Duration::from_secs(300);

/// The lowest sample rate accepted (below it, a file is not speech-grade audio).
pub const MIN_SAMPLE_RATE: u32 = 4_000;

/// The highest sample rate accepted.
pub const MAX_SAMPLE_RATE: u32 = 192_000;

/// Input chunk size handed to the FFT resampler, in frames, as one FFT block (`sub_chunks` = 1).
/// Larger blocks give a sharper anti-aliasing filter (a cutoff closer to 4 kHz); rubato rounds
/// it up to a multiple of the rate pair's smallest block (441 frames for 44.1 kHz).
const RESAMPLER_CHUNK: usize = 2048;

/// Reads a WAV file and returns its audio as 8 kHz mono 16-bit samples.
///
/// Accepts integer PCM of 1 to 32 bits and 32-bit float, any number of channels (averaged), at
/// [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`], no longer than [`MAX_DURATION`]. The length is
/// checked from the header before any sample is decoded.
pub fn read_wav_8k_mono(path: &Path) -> Result<Vec<i16>, AnnounceError> {
    let reader = hound::WavReader::open(path).map_err(|e| open_error(path, e))?;
    let spec = reader.spec();
    let unsupported = |detail: String| AnnounceError::UnsupportedFormat {
        path: path.to_path_buf(),
        detail,
    };
    if spec.channels == 0 {
        return Err(unsupported("no channels".into()));
    }
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&spec.sample_rate) {
        return Err(unsupported(format!(
            "sample rate {} Hz outside {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE} Hz",
            spec.sample_rate
        )));
    }
    let frames = u64::from(reader.duration());
    if frames == 0 {
        return Err(AnnounceError::Empty {
            path: path.to_path_buf(),
        });
    }
    let seconds = frames as f64 / f64::from(spec.sample_rate);
    if seconds > MAX_DURATION.as_secs_f64() {
        return Err(AnnounceError::TooLong {
            path: path.to_path_buf(),
            seconds,
            max_seconds: MAX_DURATION.as_secs(),
        });
    }

    let mono = decode_mono(reader, path)?;
    if mono.is_empty() {
        return Err(AnnounceError::Empty {
            path: path.to_path_buf(),
        });
    }
    let narrow = if spec.sample_rate == SAMPLE_RATE {
        mono
    } else {
        resample(&mono, spec.sample_rate, path)?
    };
    Ok(narrow.iter().map(|&x| to_i16(x)).collect())
}

/// Decodes every sample as a float in [-1, 1) and averages the channels of each frame.
fn decode_mono<R: std::io::Read>(
    mut reader: hound::WavReader<R>,
    path: &Path,
) -> Result<Vec<f32>, AnnounceError> {
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    let mut mono = Vec::new();
    let mut acc = 0.0f32;
    let mut in_frame = 0usize;
    let mut push = |x: f32| {
        acc += x;
        in_frame += 1;
        if in_frame == channels {
            mono.push(acc / channels as f32);
            acc = 0.0;
            in_frame = 0;
        }
    };
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f64;
            for sample in reader.samples::<i32>() {
                let value = sample.map_err(|e| read_error(path, e))?;
                push((f64::from(value) * scale) as f32);
            }
        }
        (hound::SampleFormat::Float, 32) => {
            for sample in reader.samples::<f32>() {
                let value = sample.map_err(|e| read_error(path, e))?;
                // NaN and infinities in a float file are noise, not audio.
                push(if value.is_finite() { value } else { 0.0 });
            }
        }
        (format, bits) => {
            return Err(AnnounceError::UnsupportedFormat {
                path: path.to_path_buf(),
                detail: format!("{bits}-bit {format:?} samples"),
            })
        }
    }
    Ok(mono)
}

/// Converts the whole signal from `rate` to 8 kHz with rubato's FFT resampler.
fn resample(input: &[f32], rate: u32, path: &Path) -> Result<Vec<f32>, AnnounceError> {
    let failed = |detail: String| AnnounceError::Resample {
        path: path.to_path_buf(),
        detail,
    };
    let mut resampler = Fft::<f32>::new_custom(
        rate as usize,
        SAMPLE_RATE as usize,
        RESAMPLER_CHUNK,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .map_err(|e| failed(e.to_string()))?;
    let adapter =
        InterleavedSlice::new(input, 1, input.len()).map_err(|e| failed(e.to_string()))?;
    let output = resampler
        .process_all(&adapter, input.len(), None)
        .map_err(|e| failed(e.to_string()))?;
    Ok(output.take_data())
}

/// A float sample in [-1, 1) to 16-bit, rounded and clipped.
fn to_i16(x: f32) -> i16 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

fn open_error(path: &Path, e: hound::Error) -> AnnounceError {
    let path = path.to_path_buf();
    match e {
        hound::Error::IoError(io) if io.kind() == std::io::ErrorKind::NotFound => {
            AnnounceError::NotFound { path }
        }
        // A file shorter than a RIFF header reads as an early end of file.
        hound::Error::IoError(io) if ends_early(&io) => AnnounceError::NotWav {
            path,
            detail: "file ends inside the header".into(),
        },
        hound::Error::IoError(source) => AnnounceError::Io { path, source },
        hound::Error::FormatError(detail) => AnnounceError::NotWav {
            path,
            detail: detail.into(),
        },
        hound::Error::Unsupported => AnnounceError::UnsupportedFormat {
            path,
            detail: "a WAVE encoding other than integer PCM or 32-bit float".into(),
        },
        other => AnnounceError::NotWav {
            path,
            detail: other.to_string(),
        },
    }
}

/// Whether an I/O error from hound means the file ended before its structure did: either an
/// `UnexpectedEof`, or hound's own "Failed to read enough bytes" (a custom error, not the OS's).
fn ends_early(io: &std::io::Error) -> bool {
    io.kind() == std::io::ErrorKind::UnexpectedEof
        || (io.raw_os_error().is_none() && io.get_ref().is_some())
}

fn read_error(path: &Path, e: hound::Error) -> AnnounceError {
    match e {
        hound::Error::IoError(io) if ends_early(&io) => AnnounceError::NotWav {
            path: path.to_path_buf(),
            detail: "the data chunk is shorter than its header says".into(),
        },
        hound::Error::IoError(source) => AnnounceError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => AnnounceError::NotWav {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
