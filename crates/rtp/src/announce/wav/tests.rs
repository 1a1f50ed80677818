//! WAV loading against files written with hound: every common rate and sample format keeps its
//! duration, pitch and level through the conversion to 8 kHz; bad files fail with the file named.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use hound::{SampleFormat, WavSpec, WavWriter};

use super::*;
use crate::announce::{Announcement, AnnouncementLibrary};

/// Writes `seconds` of `signal(t)` (full scale ±1.0) on every channel (or, with `right`, a different
/// right channel) in the given format.
/// Rate, channels, sample format and bits of a file to write.
#[derive(Clone, Copy)]
struct Fmt(u32, u16, SampleFormat, u16);

fn write_wav(
    dir: &Path,
    name: &str,
    Fmt(rate, channels, format, bits): Fmt,
    seconds: f64,
    left: &dyn Fn(f64) -> f64,
    right: Option<&dyn Fn(f64) -> f64>,
) -> PathBuf {
    let path = dir.join(name);
    let spec = WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut w = WavWriter::create(&path, spec).unwrap();
    let frames = (seconds * f64::from(rate)).round() as u64;
    for n in 0..frames {
        let t = n as f64 / f64::from(rate);
        for ch in 0..channels {
            let x = match (ch, right) {
                (1, Some(r)) => r(t),
                _ => left(t),
            };
            match format {
                SampleFormat::Float => w.write_sample(x as f32).unwrap(),
                SampleFormat::Int => {
                    let max = ((1i64 << (bits - 1)) - 1) as f64;
                    let v = (x * max).round() as i32;
                    if bits <= 8 {
                        w.write_sample(v as i8).unwrap()
                    } else if bits <= 16 {
                        w.write_sample(v as i16).unwrap()
                    } else {
                        w.write_sample(v).unwrap()
                    }
                }
            }
        }
    }
    w.finalize().unwrap();
    path
}

fn sine(hz: f64, amplitude: f64) -> impl Fn(f64) -> f64 {
    move |t| amplitude * (2.0 * PI * hz * t).sin()
}

/// Goertzel power of `hz` in `x` (8 kHz), normalized so a sine of amplitude A gives A²/4.
fn goertzel(x: &[i16], hz: f64) -> f64 {
    let w = 2.0 * PI * hz / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s = f64::from(v) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let n = x.len() as f64;
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n)
}

fn rms_db(x: &[i16]) -> f64 {
    let ms = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * ms.log10()
}

fn zero_crossings(x: &[i16]) -> usize {
    x.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
}

/// The checks every format must pass: 1 s of a 1 kHz sine at `amplitude` comes out as 8,000
/// samples (within one frame), 1 kHz, at the same level within 0.5 dB.
fn check_sine(path: &Path, amplitude: f64) {
    let pcm = read_wav_8k_mono(path).unwrap();
    assert!(
        (pcm.len() as i64 - 8000).abs() <= 160,
        "{}: {} samples",
        path.display(),
        pcm.len()
    );
    // Skip the edges, where the filter rings against the file's hard start and stop.
    let mid = &pcm[800..7200];
    // 1 kHz over 800 ms: 800 periods, 1,600 zero crossings.
    let zc = zero_crossings(mid);
    assert!(
        (1598..=1602).contains(&zc),
        "{}: {zc} crossings",
        path.display()
    );
    let at = goertzel(mid, 1000.0);
    for off in [500.0, 800.0, 1200.0, 2000.0, 3000.0] {
        assert!(
            goertzel(mid, off) < at * 1e-4,
            "{}: energy at {off} Hz",
            path.display()
        );
    }
    let expect = 20.0 * (amplitude * 32768.0 / 2f64.sqrt()).log10();
    let got = rms_db(mid);
    assert!(
        (got - expect).abs() < 0.5,
        "{}: level {got:.2} dB, expected {expect:.2} dB",
        path.display()
    );
}

#[test]
fn every_common_rate_and_format_becomes_the_same_8_khz_sine() {
    let dir = tempfile::tempdir().unwrap();
    let s = sine(1000.0, 0.5);
    let cases: &[(&str, u32, u16, SampleFormat, u16)] = &[
        ("44k1-stereo-16.wav", 44_100, 2, SampleFormat::Int, 16),
        ("48k-float.wav", 48_000, 1, SampleFormat::Float, 32),
        ("8k-8bit.wav", 8_000, 1, SampleFormat::Int, 8),
        ("16k-24bit.wav", 16_000, 1, SampleFormat::Int, 24),
        ("11k025-16.wav", 11_025, 1, SampleFormat::Int, 16),
        ("22k05-stereo-32.wav", 22_050, 2, SampleFormat::Int, 32),
        ("48k-stereo-float.wav", 48_000, 2, SampleFormat::Float, 32),
    ];
    for &(name, rate, channels, format, bits) in cases {
        let path = write_wav(
            dir.path(),
            name,
            Fmt(rate, channels, format, bits),
            1.0,
            &s,
            None,
        );
        check_sine(&path, 0.5);
    }
}

#[test]
fn stereo_is_averaged_to_mono() {
    let dir = tempfile::tempdir().unwrap();
    let s = sine(1000.0, 0.5);
    let silent = |_t: f64| 0.0;
    // One channel silent: the mono mix is the sine at half amplitude (−6 dB).
    let path = write_wav(
        dir.path(),
        "left-only.wav",
        Fmt(44_100, 2, SampleFormat::Int, 16),
        1.0,
        &s,
        Some(&silent),
    );
    check_sine(&path, 0.25);
    // Opposite phases cancel.
    let inverted = sine(1000.0, -0.5);
    let path = write_wav(
        dir.path(),
        "cancel.wav",
        Fmt(16_000, 2, SampleFormat::Int, 16),
        1.0,
        &s,
        Some(&inverted),
    );
    let pcm = read_wav_8k_mono(&path).unwrap();
    assert!(pcm.iter().all(|v| v.abs() <= 2));
}

#[test]
fn content_above_4_khz_is_filtered_not_folded_back() {
    // 6 kHz at 48 kHz would alias to 2 kHz at 8 kHz if decimated without a low-pass filter.
    let dir = tempfile::tempdir().unwrap();
    let mixed = |t: f64| 0.4 * (2.0 * PI * 1000.0 * t).sin() + 0.4 * (2.0 * PI * 6000.0 * t).sin();
    let path = write_wav(
        dir.path(),
        "alias.wav",
        Fmt(48_000, 1, SampleFormat::Float, 32),
        1.0,
        &mixed,
        None,
    );
    let pcm = read_wav_8k_mono(&path).unwrap();
    let mid = &pcm[800..7200];
    let wanted = goertzel(mid, 1000.0);
    let alias = goertzel(mid, 2000.0);
    assert!(
        alias < wanted * 1e-5,
        "alias at {:.1} dB",
        10.0 * (alias / wanted).log10()
    );
}

#[test]
fn odd_durations_keep_their_length_within_a_frame() {
    let dir = tempfile::tempdir().unwrap();
    let s = sine(400.0, 0.3);
    for (rate, seconds) in [
        (44_100, 2.345),
        (22_050, 0.051),
        (48_000, 0.013),
        (8_000, 1.999),
    ] {
        let path = write_wav(
            dir.path(),
            &format!("{rate}-{seconds}.wav"),
            Fmt(rate, 1, SampleFormat::Int, 16),
            seconds,
            &s,
            None,
        );
        let a = Announcement::from_wav("odd", &path).unwrap();
        let expect = seconds * 8000.0;
        assert!(
            (a.sample_count() as f64 - expect).abs() <= 1.0,
            "{rate} Hz {seconds} s: {} samples",
            a.sample_count()
        );
        let played = a.duration().as_secs_f64();
        assert!(
            played >= seconds - 1e-9 && played < seconds + 0.020,
            "{played}"
        );
    }
}

#[test]
fn a_missing_file_is_not_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.wav");
    let err = read_wav_8k_mono(&path).unwrap_err();
    assert!(matches!(err, AnnounceError::NotFound { .. }), "{err:?}");
    assert_eq!(err.path(), path);
    assert!(err.to_string().contains("nope.wav"), "{err}");
}

#[test]
fn garbage_is_not_a_wav() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        (
            "text.wav",
            b"this is not audio, just some text long enough".to_vec(),
        ),
        ("short.wav", b"RIFF".to_vec()),
        ("empty-file.wav", Vec::new()),
        (
            "riff-not-wave.wav",
            b"RIFF\x24\x00\x00\x00AVI LIST\x00\x00\x00\x00".to_vec(),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = read_wav_8k_mono(&path).unwrap_err();
        assert!(
            matches!(err, AnnounceError::NotWav { .. }),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn a_truncated_data_chunk_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let s = sine(1000.0, 0.5);
    let path = write_wav(
        dir.path(),
        "cut.wav",
        Fmt(16_000, 1, SampleFormat::Int, 16),
        0.5,
        &s,
        None,
    );
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1001]).unwrap();
    let err = read_wav_8k_mono(&path).unwrap_err();
    assert!(matches!(err, AnnounceError::NotWav { .. }), "{err:?}");
}

/// A minimal RIFF/WAVE header with the given fmt fields and `data` bytes.
fn raw_wav(format_tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block_align = channels * bits.div_ceil(8);
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&format_tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    v.extend_from_slice(&block_align.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn compressed_and_odd_formats_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        // A-law (tag 6) and µ-law (tag 7) WAVs, ADPCM (tag 2).
        ("alaw.wav", raw_wav(6, 1, 8000, 8, &[0xD5; 320])),
        ("ulaw.wav", raw_wav(7, 1, 8000, 8, &[0xFF; 320])),
        ("adpcm.wav", raw_wav(2, 1, 8000, 4, &[0; 320])),
        // 64-bit float.
        ("f64.wav", raw_wav(3, 1, 8000, 64, &[0; 640])),
        // PCM at 1 kHz: not speech-grade.
        ("1khz.wav", raw_wav(1, 1, 1000, 16, &[0; 640])),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = read_wav_8k_mono(&path).unwrap_err();
        assert!(
            matches!(
                err,
                AnnounceError::UnsupportedFormat { .. } | AnnounceError::NotWav { .. }
            ),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
    // The rate check is ours, so its error is precise.
    let err = read_wav_8k_mono(&dir.path().join("1khz.wav")).unwrap_err();
    assert!(
        matches!(err, AnnounceError::UnsupportedFormat { .. }),
        "{err:?}"
    );
}

#[test]
fn an_empty_wav_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silent.wav");
    std::fs::write(&path, raw_wav(1, 1, 8000, 16, &[])).unwrap();
    let err = Announcement::from_wav("x", &path).unwrap_err();
    assert!(matches!(err, AnnounceError::Empty { .. }), "{err:?}");
}

#[test]
fn a_file_longer_than_the_limit_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    // The header claims 301 s at 4 kHz, 8-bit; the data is there too (1.2 MB).
    let seconds = MAX_DURATION.as_secs() + 1;
    let data = vec![0x80u8; (seconds * 4000) as usize];
    std::fs::write(&path, raw_wav(1, 1, 4000, 8, &data)).unwrap();
    let err = read_wav_8k_mono(&path).unwrap_err();
    match &err {
        AnnounceError::TooLong {
            seconds: s,
            max_seconds,
            ..
        } => {
            assert_eq!(*max_seconds, MAX_DURATION.as_secs());
            assert!((*s - seconds as f64).abs() < 1e-9);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("long.wav"));
}

#[test]
fn the_library_loads_a_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = sine(1000.0, 0.5);
    let a = write_wav(
        dir.path(),
        "a.wav",
        Fmt(16_000, 1, SampleFormat::Int, 16),
        0.2,
        &s,
        None,
    );
    let b = write_wav(
        dir.path(),
        "b.wav",
        Fmt(16_000, 1, SampleFormat::Int, 16),
        0.4,
        &s,
        None,
    );
    let mut lib = AnnouncementLibrary::new();
    assert!(lib.zip_tone().is_some() && lib.music_on_hold().is_some());
    let first = lib.load_wav("sales-en", &a).unwrap();
    assert_eq!(first.frame_count(), 10);
    // Loading the same name from the same file again does not read it: it is gone and still works.
    std::fs::remove_file(&a).unwrap();
    let again = lib.load_wav("sales-en", &a).unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again));
    assert!(std::sync::Arc::ptr_eq(
        &first,
        &lib.get("sales-en").unwrap()
    ));
    // Reloading a missing file fails and keeps the old audio.
    assert!(matches!(
        lib.reload_wav("sales-en", &a),
        Err(AnnounceError::NotFound { .. })
    ));
    assert!(std::sync::Arc::ptr_eq(
        &first,
        &lib.get("sales-en").unwrap()
    ));
    // Another file under the same name replaces it; the old Arc still plays for its holders.
    let replaced = lib.load_wav("sales-en", &b).unwrap();
    assert_eq!(replaced.frame_count(), 20);
    assert_eq!(first.frame_count(), 10);
    // Music on hold can come from a WAV.
    let moh = lib.set_music_on_hold_wav(&b).unwrap();
    assert!(std::sync::Arc::ptr_eq(&moh, &lib.music_on_hold().unwrap()));
    assert_eq!(moh.frame_count(), 20);
    assert_eq!(lib.len(), 3);
    assert!(lib.remove("sales-en") && !lib.remove("sales-en"));
}

#[test]
fn the_telephone_band_passes_flat() {
    // The anti-aliasing filter must not dull speech: 300–3400 Hz within 0.1 dB.
    let dir = tempfile::tempdir().unwrap();
    for rate in [11_025u32, 44_100, 48_000] {
        for hz in [300.0, 3400.0] {
            let s = sine(hz, 0.5);
            let path = write_wav(
                dir.path(),
                "p.wav",
                Fmt(rate, 1, SampleFormat::Int, 16),
                1.0,
                &s,
                None,
            );
            let pcm = read_wav_8k_mono(&path).unwrap();
            let expect = 20.0 * (0.5 * 32768.0 / 2f64.sqrt()).log10();
            let diff = rms_db(&pcm[800..7200]) - expect;
            assert!(
                diff.abs() < 0.1,
                "{rate} Hz file, {hz} Hz tone: {diff:.2} dB"
            );
        }
    }
}
