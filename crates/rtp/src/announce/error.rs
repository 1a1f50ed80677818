//! Why an announcement could not be loaded. Every variant names the file; they are the
//! administrator's fault (a wrong path, a file that is not usable audio) except `Io`, which is the
//! machine's, and `Resample`, which would be ours.

use std::fmt;
use std::path::PathBuf;

/// An announcement that could not be loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnnounceError {
    /// No file at that path.
    NotFound { path: PathBuf },
    /// The file exists but could not be read (permissions, I/O error).
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not a RIFF/WAVE file, or its WAVE structure is broken (a truncated data chunk).
    NotWav { path: PathBuf, detail: String },
    /// A WAVE file in a format we do not decode (compressed formats such as ADPCM or G.729, A-law
    /// or µ-law WAVs, more than 32 bits per sample, a rate outside 4–192 kHz, no channels).
    UnsupportedFormat { path: PathBuf, detail: String },
    /// The file holds no audio.
    Empty { path: PathBuf },
    /// The file plays for longer than the limit ([`super::MAX_DURATION`]).
    TooLong {
        path: PathBuf,
        seconds: f64,
        max_seconds: u64,
    },
    /// The sample-rate converter failed (a bug in our use of it, not in the file).
    Resample { path: PathBuf, detail: String },
}

impl AnnounceError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            AnnounceError::NotFound { path }
            | AnnounceError::Io { path, .. }
            | AnnounceError::NotWav { path, .. }
            | AnnounceError::UnsupportedFormat { path, .. }
            | AnnounceError::Empty { path }
            | AnnounceError::TooLong { path, .. }
            | AnnounceError::Resample { path, .. } => path,
        }
    }
}

impl fmt::Display for AnnounceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnnounceError::NotFound { path } => {
                write!(f, "announcement file {} not found", path.display())
            }
            AnnounceError::Io { path, source } => {
                write!(f, "announcement file {}: {source}", path.display())
            }
            AnnounceError::NotWav { path, detail } => {
                write!(
                    f,
                    "announcement file {} is not a WAV file: {detail}",
                    path.display()
                )
            }
            AnnounceError::UnsupportedFormat { path, detail } => write!(
                f,
                "announcement file {} has an unsupported format: {detail}",
                path.display()
            ),
            AnnounceError::Empty { path } => {
                write!(f, "announcement file {} holds no audio", path.display())
            }
            AnnounceError::TooLong {
                path,
                seconds,
                max_seconds,
            } => write!(
                f,
                "announcement file {} plays {seconds:.1} s, longer than the {max_seconds} s limit",
                path.display()
            ),
            AnnounceError::Resample { path, detail } => write!(
                f,
                "announcement file {} could not be converted to 8 kHz: {detail}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for AnnounceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AnnounceError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
