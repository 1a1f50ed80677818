//! tcpdump on loopback for the media tests: captures the UDP traffic of one port to a pcap
//! file while a scenario runs, then reads the RTP of it back (a minimal reader of the classic
//! pcap format with the Ethernet link type tcpdump uses on `lo`).
//!
//! Without `tcpdump` (or the right to capture) the tests skip, unless `CI` is set: then they fail
//! (`scripts/install-test-deps.sh` installs it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running capture.
pub struct Capture {
    child: Child,
    file: PathBuf,
}

/// One UDP datagram seen on the wire.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Vec<u8>,
}

/// The RTP fields the tests look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtp {
    pub pt: u8,
    pub seq: u16,
    pub ssrc: u32,
    pub payload: Vec<u8>,
}

impl Datagram {
    /// The datagram as RTP (version 2, no CSRC/extension/padding handling beyond skipping).
    pub fn rtp(&self) -> Option<Rtp> {
        let b = &self.payload;
        if b.len() < 12 || b[0] >> 6 != 2 {
            return None;
        }
        let cc = usize::from(b[0] & 0x0f);
        let mut start = 12 + 4 * cc;
        if b[0] & 0x10 != 0 {
            let len = usize::from(u16::from_be_bytes([*b.get(start + 2)?, *b.get(start + 3)?]));
            start += 4 + 4 * len;
        }
        let mut end = b.len();
        if b[0] & 0x20 != 0 {
            end = end.checked_sub(usize::from(*b.last()?))?;
        }
        Some(Rtp {
            pt: b[1] & 0x7f,
            seq: u16::from_be_bytes([b[2], b[3]]),
            ssrc: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            payload: b.get(start..end)?.to_vec(),
        })
    }
}

/// Whether tcpdump can capture here; false (with a message) when not, outside CI.
pub fn available() -> bool {
    let ok = Command::new("tcpdump")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but tcpdump cannot run: run scripts/install-test-deps.sh");
        }
        eprintln!("skipping: tcpdump cannot run; install it with scripts/install-test-deps.sh");
    }
    ok
}

impl Capture {
    /// Starts capturing UDP to or from `port` on `lo` into `dir`, and waits until tcpdump says
    /// it is listening.
    pub fn start(dir: &Path, port: u16) -> Capture {
        let file = dir.join(format!("capture-{port}.pcap"));
        let log = dir.join(format!("capture-{port}.log"));
        let err = std::fs::File::create(&log).expect("capture log");
        let child = Command::new("tcpdump")
            .args(["-i", "lo", "-U", "-n", "-s", "2048", "-w"])
            .arg(&file)
            .arg(format!("udp port {port}"))
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start tcpdump");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("listening on") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "tcpdump did not start listening: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Capture { child, file }
    }

    /// Stops tcpdump (SIGINT, so it flushes) and reads every UDP datagram it captured.
    pub fn stop(mut self) -> Vec<Datagram> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        read_pcap(&std::fs::read(&self.file).expect("capture file"))
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The UDP datagrams of a classic pcap file (Ethernet or raw IPv4 link types).
fn read_pcap(data: &[u8]) -> Vec<Datagram> {
    let mut out = Vec::new();
    if data.len() < 24 {
        return out;
    }
    let le = data[0..4] == [0xd4, 0xc3, 0xb2, 0xa1] || data[0..4] == [0x4d, 0x3c, 0xb2, 0xa1];
    let u32_at = |b: &[u8], at: usize| -> u32 {
        let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        }
    };
    let link = u32_at(data, 20);
    let mut at = 24;
    while at + 16 <= data.len() {
        let caplen = u32_at(data, at + 8) as usize;
        let Some(frame) = data.get(at + 16..at + 16 + caplen) else {
            break;
        };
        at += 16 + caplen;
        let ip = match link {
            1 => frame.get(14..),   // Ethernet
            101 => Some(frame),     // raw IP
            113 => frame.get(16..), // Linux cooked
            _ => None,
        };
        let Some(ip) = ip else { continue };
        if ip.len() < 20 || ip[0] >> 4 != 4 || ip[9] != 17 {
            continue;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let Some(udp) = ip.get(ihl..) else { continue };
        if udp.len() < 8 {
            continue;
        }
        let len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
        let Some(payload) = udp.get(8..len.max(8).min(udp.len())) else {
            continue;
        };
        out.push(Datagram {
            src_port: u16::from_be_bytes([udp[0], udp[1]]),
            dst_port: u16::from_be_bytes([udp[2], udp[3]]),
            payload: payload.to_vec(),
        });
    }
    out
}
