//! Media through the real binary with real SIPp: `sip-scenarios/echo.xml` calls DN 2107 of the
//! demo, whose remote destination is an echo number of the built-in PSTN simulator (07xx).
//! SIPp plays its own A-law speech recording and an RFC 4733 digit from its media port; tcpdump
//! on loopback captures that port, and the test checks what came back through Tether: the same
//! audio payloads (relayed both ways, the echo in between), the digit's event packets, Tether's
//! own SSRC and sequence, then the CDR, the media counters of `/metrics` and the digit reported
//! (log and `tether_dtmf_digits_total`) from each party.
//!
//! Skips without SIPp, its pcaps or tcpdump (fails instead when `CI` is set).

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use support::capture::{self, Capture};
use support::cti::CtiClient;
use support::sipp::{self, Run};
use support::{metric, Auth, Backend, Env};

/// SIPp's recordings as Debian installs them.
const PCAPS: &str = "/usr/share/sip-tester";
/// SIPp's media port (and the port captured).
const MEDIA_PORT: u16 = 36_000;

fn pcaps_available() -> bool {
    let ok = Path::new(PCAPS).join("g711a.pcap").exists()
        && Path::new(PCAPS).join("dtmf_2833_1.pcap").exists();
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but SIPp's pcaps are not in {PCAPS}: install sip-tester");
        }
        eprintln!("skipping: SIPp's pcaps are not in {PCAPS}");
    }
    ok
}

#[test]
fn an_echo_call_gets_its_audio_and_digit_back_through_tether() {
    if !sipp::available() || !capture::available() || !pcaps_available() {
        return;
    }
    let env = Env::with_config(Backend::Sqlite, true, true, "[pstn]\nenabled = true\n")
        .expect("SQLite needs no setup");
    let server = env.start_with(&["--sip", "127.0.0.1:0", "--pstn", "127.0.0.1:0"]);
    // SIPp reads its recordings from pcap/ under its working folder.
    let pcap_dir = env.path().join("pcap");
    std::fs::create_dir_all(&pcap_dir).expect("pcap dir");
    for f in ["g711a.pcap", "dtmf_2833_1.pcap"] {
        std::os::unix::fs::symlink(Path::new(PCAPS).join(f), pcap_dir.join(f)).expect("link");
    }

    // A CTI application watches the echo device: the digit is reported from each party.
    let mut cti = CtiClient::connect(&server.base);
    let r = cti.request("Authenticate", json!({"token": support::ADMIN_TOKEN}));
    assert_eq!(r["type"], "AuthenticateResponse", "{r}");
    let r = cti.request("MonitorStart", json!({"dn": "2107"}));
    assert_eq!(r["type"], "MonitorStartResponse", "{r}");

    let capture = Capture::start(env.path(), MEDIA_PORT);
    let port = MEDIA_PORT.to_string();
    let outcome = Run {
        scenario: "echo",
        service: "2107",
        target: server.sip_udp.expect("tether printed its UDP address"),
        local_ip: "127.0.0.1",
        calls: 1,
        extra: &["-mi", "127.0.0.1", "-mp", &port],
        limit: Duration::from_secs(60),
    }
    .run(env.path());
    let seen = capture.stop();
    outcome.assert_clean(1);

    // What SIPp sent from its media port, and what came back to it.
    let sent: Vec<_> = seen
        .iter()
        .filter(|d| d.src_port == MEDIA_PORT && d.dst_port != MEDIA_PORT)
        .filter_map(|d| d.rtp())
        .collect();
    let back: Vec<_> = seen
        .iter()
        .filter(|d| d.dst_port == MEDIA_PORT && d.src_port != MEDIA_PORT)
        .filter_map(|d| d.rtp())
        .collect();
    let sent_audio: Vec<_> = sent.iter().filter(|r| r.pt == 8).collect();
    let back_audio: Vec<_> = back.iter().filter(|r| r.pt == 8).collect();
    assert!(
        sent_audio.len() > 200,
        "SIPp played its recording: {} A-law packets sent ({} datagrams captured)",
        sent_audio.len(),
        seen.len()
    );
    // Loopback loses nothing; allow a little for the echo starting after the first packets.
    assert!(
        back_audio.len() * 100 >= sent_audio.len() * 95,
        "the audio came back: {} of {} packets",
        back_audio.len(),
        sent_audio.len()
    );
    let sent_payloads: HashSet<&[u8]> = sent_audio.iter().map(|r| r.payload.as_slice()).collect();
    let foreign = back_audio
        .iter()
        .filter(|r| !sent_payloads.contains(r.payload.as_slice()))
        .count();
    assert_eq!(foreign, 0, "every payload that came back is one SIPp sent");
    // Tether's own stream: one SSRC, consecutive sequence numbers.
    let ssrcs: HashSet<u32> = back_audio.iter().map(|r| r.ssrc).collect();
    assert_eq!(ssrcs.len(), 1, "one SSRC towards SIPp: {ssrcs:?}");
    let gaps = back_audio
        .windows(2)
        .filter(|w| w[1].seq != w[0].seq.wrapping_add(1))
        .count();
    assert!(gaps <= 2, "{gaps} sequence gaps towards SIPp");
    // The digit: RFC 4733 events for key 1 came back too.
    let sent_events = sent.iter().filter(|r| r.pt == 101).count();
    let back_events: Vec<_> = back.iter().filter(|r| r.pt == 101).collect();
    assert!(sent_events > 0, "SIPp played the digit");
    assert!(
        !back_events.is_empty() && back_events.iter().all(|r| r.payload.first() == Some(&1)),
        "the digit 1 came back as RFC 4733 events: {back_events:?}"
    );

    // DigitsDetected over CTI: key 1 from the caller (the far party of the echo device) and
    // again from the device's own leg when the echo sent it back, both as RFC 4733.
    let ev = cti.events_until("CallCleared", Duration::from_secs(20));
    let digits: Vec<(String, String, String)> = ev
        .iter()
        .filter(|e| e["type"] == "DigitsDetected")
        .map(|e| {
            (
                e["party"].as_str().unwrap_or_default().to_owned(),
                e["digits"].as_str().unwrap_or_default().to_owned(),
                e["method"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let want = |party: &str| (party.to_owned(), "1".to_owned(), "rfc4733".to_owned());
    assert_eq!(digits, [want("far"), want("device")], "{ev:#?}");

    // The call on record, and the media engine's counters.
    let cdr = server.wait_cdrs("called=2107", 1, Duration::from_secs(20));
    assert!(
        cdr[0]["date_time_connect"].as_u64().unwrap_or(0) > 0,
        "{:?}",
        cdr[0]
    );
    server.wait_settled(Duration::from_secs(20));
    let m = server.metrics();
    let received = metric(&m, "tether_media_packets_received_total");
    assert!(
        received >= 2.0 * sent_audio.len() as f64 * 0.95,
        "Tether received the caller's packets and the echo's: {received}"
    );
    assert!(metric(&m, "tether_media_legs_created_total") >= 2.0);
    // The digit was heard as RFC 4733 on the caller's leg, and again on the far end's when
    // the echo sent it back; nothing else was taken for a key.
    assert_eq!(
        metric(&m, "tether_dtmf_digits_total{method=\"rfc4733\"}"),
        2.0
    );
    assert_eq!(
        metric(&m, "tether_dtmf_digits_total{method=\"inband\"}"),
        0.0
    );
    let log = server.log();
    let keys: Vec<&str> = log.lines().filter(|l| l.contains("DTMF")).collect();
    assert!(
        keys.iter()
            .any(|l| l.contains("from=\"caller\"") && l.contains("digit=1"))
            && keys
                .iter()
                .any(|l| l.contains("from=\"far end\"") && l.contains("digit=1")),
        "the digit 1 reported from both parties: {keys:?}"
    );
    let status = server.stop();
    assert!(status.success(), "tether exits 0: {status}");
}

/// A WAV file of `seconds` of a `hz` sine at 16 kHz, 16-bit mono (RIFF written by hand).
fn sine_wav(path: &Path, hz: f64, seconds: u32) {
    let rate = 16_000u32;
    let samples: Vec<i16> = (0..rate * seconds)
        .map(|n| {
            (8000.0 * (2.0 * std::f64::consts::PI * hz * f64::from(n) / f64::from(rate)).sin())
                as i16
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).expect("write WAV");
}

/// `sip-scenarios/hold.xml`: the caller holds (re-INVITE sendonly, which Tether answers itself
/// with recvonly) for three seconds and resumes. SIPp sends no audio, so every RTP packet that
/// reaches the far end (the PSTN simulator's echo number, captured on its RTP port) while the
/// call is held is Tether's music on hold — here `[media] music_on_hold`, a 1 kHz tone recorded
/// at 16 kHz, which must arrive as a 1 kHz tone in µ-law.
#[test]
fn the_party_left_on_hold_hears_music_on_hold() {
    if !sipp::available() || !capture::available() {
        return;
    }
    const FAR_RTP: u16 = 21_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let moh = dir.path().join("moh.wav");
    sine_wav(&moh, 1000.0, 2);
    let env = Env::with_config(
        Backend::Sqlite,
        true,
        true,
        &format!(
            "[pstn]\nenabled = true\nfirst_rtp_port = {FAR_RTP}\n\
             [media]\nport_min = 60000\nport_max = 60199\nmusic_on_hold = \"{}\"\n",
            moh.display()
        ),
    )
    .expect("SQLite needs no setup");
    let server = env.start_with(&["--sip", "127.0.0.1:0", "--pstn", "127.0.0.1:0"]);
    let capture = Capture::start(env.path(), FAR_RTP);
    let target = server.sip_udp.expect("tether printed its UDP address");
    // SIPp runs beside; meanwhile the call list shows the call held by the caller, and the far
    // end's leg sending.
    let (outcome, held) = std::thread::scope(|s| {
        let sipp = s.spawn(|| {
            Run {
                scenario: "hold",
                service: "2107",
                target,
                local_ip: "127.0.0.1",
                calls: 1,
                extra: &["-mi", "127.0.0.1", "-mp", "36100"],
                limit: Duration::from_secs(60),
            }
            .run(env.path())
        });
        let mut held = None;
        support::poll_until(Duration::from_secs(60), || {
            let calls = server.get("/api/v1/calls", &Auth::Admin).json();
            if let Some(c) = calls["items"].as_array().and_then(|a| a.first()) {
                if c["held_by"] == "caller"
                    && c["media"]["far_end"]["packets_sent"].as_u64().unwrap_or(0) > 50
                {
                    held = Some(c.clone());
                }
            }
            sipp.is_finished()
        });
        (sipp.join().expect("SIPp thread"), held)
    });
    let seen = capture.stop();
    outcome.assert_clean(1);
    let held = held.expect("GET /api/v1/calls showed the call held, music going to the far end");
    assert_eq!(held["state"], "answered", "{held}");
    assert_eq!(held["called"], "2107", "{held}");
    assert_eq!(held["device"], "CTRIDecho", "{held}");
    assert!(
        held["media"]["caller"]["rtp_port"].as_u64().is_some(),
        "{held}"
    );

    let music: Vec<_> = seen
        .iter()
        .filter(|d| d.dst_port == FAR_RTP)
        .filter_map(|d| d.rtp())
        .filter(|r| r.pt == 0)
        .collect();
    // Three seconds on hold at 20 ms a packet: about 150.
    assert!(
        (120..=200).contains(&music.len()),
        "the far party got music on hold: {} packets",
        music.len()
    );
    let silent = music
        .iter()
        .filter(|r| r.payload.iter().all(|&b| b == 0xff || b == 0x7f))
        .count();
    assert!(
        silent * 2 < music.len(),
        "the music is not silence: {silent} of {} silent",
        music.len()
    );
    let ssrcs: HashSet<u32> = music.iter().map(|r| r.ssrc).collect();
    assert_eq!(ssrcs.len(), 1, "one SSRC towards the far party: {ssrcs:?}");
    // The configured file, not the built-in tune: 1 kHz is 40 zero crossings in 20 ms.
    let tone_frames = music
        .iter()
        .filter(|r| {
            let pcm: Vec<i16> = r
                .payload
                .iter()
                .map(|&c| tether_rtp::g711::ulaw_decode(c))
                .collect();
            let crossings = pcm.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
            (37..=43).contains(&crossings)
        })
        .count();
    assert!(
        tone_frames * 10 >= music.len() * 9,
        "the music is the configured 1 kHz file: {tone_frames} of {} frames",
        music.len()
    );
    let status = server.stop();
    assert!(status.success(), "tether exits 0: {status}");
}

/// Provisioned announcements reach the media task's library: a WAV file created over REST is
/// loaded (and counted on `/metrics`), one that cannot be played is logged with its path and
/// left out, a deleted one is dropped.
#[test]
fn provisioned_announcements_are_loaded_and_dropped() {
    let env = Env::new(Backend::Sqlite, true, false).expect("SQLite needs no setup");
    let server = env.start();
    let recordings = |n: f64| move |m: &[(String, f64)]| metric(m, "tether_media_recordings") == n;
    let limit = Duration::from_secs(20);
    // Built-in music on hold and zip tone.
    server.wait_metrics("the built-ins", limit, recordings(2.0));
    let good = env.path().join("welcome.wav");
    sine_wav(&good, 440.0, 1);
    let bad = env.path().join("broken.wav");
    std::fs::write(&bad, "not a wav at all").expect("write");
    server.create(
        "announcements",
        serde_json::json!({ "id": "welcome", "name": "Welcome", "file": good.display().to_string() }),
    );
    server.wait_metrics("the welcome announcement loaded", limit, recordings(3.0));
    server.create(
        "announcements",
        serde_json::json!({ "id": "broken", "name": "Broken", "file": bad.display().to_string() }),
    );
    assert!(
        support::poll_until(limit, || server.log().contains("broken.wav")),
        "the bad file is logged: {}",
        server.log()
    );
    assert_eq!(metric(&server.metrics(), "tether_media_recordings"), 3.0);
    let r = server.delete("/api/v1/announcements/welcome", &Auth::Admin);
    assert!(r.status < 300, "{}", r.body);
    server.wait_metrics("the welcome announcement dropped", limit, recordings(2.0));
    let status = server.stop();
    assert!(status.success(), "tether exits 0: {status}");
}
