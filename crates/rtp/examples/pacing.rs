//! Real-time pacing of N simultaneous playbacks (default 2,000 for 10 s): how late is each frame
//! sent relative to its due time (`start + n × 20 ms`)? Prints p50/p99/p99.9/max lateness.
//!
//! The driver is the one the binary's media task will use, minus tokio: ask the playback set for
//! its next deadline, sleep until then (optionally sleeping short and spinning the last
//! `--spin-us`; with `--min-wake-us`, no sooner than that after the previous wake-up, to bound the
//! wake-up rate), take the current time, `handle_timeout(now)`, and send every frame it queued.
//! Lateness is measured when each frame is handed to the sender. With `--udp`, each frame really
//! is sent (12-byte RTP-like header + 160 bytes) over loopback to a sink thread, so the syscall
//! cost is inside the measurement.
//!
//! Run: `cargo run --release -p tether-rtp --example pacing -- [--playbacks 2000] [--seconds 10]
//! [--spin-us 0] [--min-wake-us 0] [--udp]`

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tether_rtp::announce::music_on_hold;
use tether_rtp::g711::Law;
use tether_rtp::player::Repeat;
use tether_rtp::players::{PlayOutput, Playbacks};

struct Options {
    playbacks: u32,
    seconds: u64,
    spin: Duration,
    min_wake: Duration,
    udp: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        playbacks: 2_000,
        seconds: 10,
        spin: Duration::ZERO,
        min_wake: Duration::ZERO,
        udp: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--playbacks" => o.playbacks = value("--playbacks")? as u32,
            "--seconds" => o.seconds = value("--seconds")?,
            "--spin-us" => o.spin = Duration::from_micros(value("--spin-us")?),
            "--min-wake-us" => o.min_wake = Duration::from_micros(value("--min-wake-us")?),
            "--udp" => o.udp = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// User + system CPU time of this process, from /proc (Linux); `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are the 14th and 15th fields.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux configuration that matters.
    Some(Duration::from_millis((utime + stime) * 10))
}

fn percentile(sorted: &[u32], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    Duration::from_nanos(u64::from(sorted[rank.min(sorted.len() - 1)]))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = options()?;
    let moh = Arc::new(music_on_hold());

    // Optional loopback sink.
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let mut sink_thread = None;
    let sender = if o.udp {
        let sink = UdpSocket::bind("127.0.0.1:0")?;
        sink.set_read_timeout(Some(Duration::from_millis(100)))?;
        let addr = sink.local_addr()?;
        let (stop, received) = (Arc::clone(&stop), Arc::clone(&received));
        sink_thread = Some(std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                if sink.recv(&mut buf).is_ok() {
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
        let s = UdpSocket::bind("127.0.0.1:0")?;
        s.connect(addr)?;
        Some(s)
    } else {
        None
    };

    let t0 = Instant::now() + Duration::from_millis(50);
    let end = t0 + Duration::from_secs(o.seconds);
    let mut p = Playbacks::new(t0);
    for k in 0..o.playbacks {
        // Starts spread evenly over one 20 ms period, as calls arriving at random would be.
        let start = t0 + Duration::from_nanos(u64::from(k) * 20_000_000 / u64::from(o.playbacks));
        let law = if k % 2 == 0 { Law::Ulaw } else { Law::Alaw };
        p.play(start, k, Arc::clone(&moh), law, Repeat::Forever);
    }
    while p.poll_output().is_some() {}

    let expected_frames = u64::from(o.playbacks) * o.seconds * 50;
    let mut lateness: Vec<u32> = Vec::with_capacity(expected_frames as usize + 1024);
    let mut next_seq = vec![0u64; o.playbacks as usize];
    let mut out_of_order = 0u64;
    let mut wakes = 0u64;
    let mut packet = [0u8; 172];
    let cpu_before = cpu_time();
    let wall_before = Instant::now();

    let mut last_wake = Instant::now();
    while let Some(next) = p.poll_timeout() {
        if next >= end {
            break;
        }
        // Coalesce wake-ups: never sooner than `min_wake` after the previous one.
        let deadline = next.max(last_wake + o.min_wake);
        let now = Instant::now();
        if deadline > now {
            let wait = deadline - now;
            if wait > o.spin {
                std::thread::sleep(wait - o.spin);
            }
            while Instant::now() < deadline {
                std::hint::spin_loop();
            }
        }
        wakes += 1;
        last_wake = Instant::now();
        p.handle_timeout(last_wake);
        while let Some(out) = p.poll_output() {
            let PlayOutput::Frame(f) = out else { continue };
            if f.due >= end {
                continue;
            }
            let target = f.target as usize;
            if next_seq[target] != f.seq {
                out_of_order += 1;
            }
            next_seq[target] = f.seq + 1;
            if let Some(s) = &sender {
                packet[0] = 0x80;
                packet[2..4].copy_from_slice(&(f.seq as u16).to_be_bytes());
                packet[8..12].copy_from_slice(&f.target.to_be_bytes());
                packet[12..].copy_from_slice(f.payload());
                s.send(&packet)?;
            }
            let late = Instant::now().saturating_duration_since(f.due);
            lateness.push(late.as_nanos().min(u128::from(u32::MAX)) as u32);
        }
    }
    let wall = wall_before.elapsed();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    stop.store(true, Ordering::Relaxed);
    if let Some(t) = sink_thread {
        let _ = t.join();
    }

    lateness.sort_unstable();
    println!(
        "{} playbacks for {} s (spin {} us, min wake {} us, {}): {} frames sent of {} expected, {} out of order, {} wake-ups",
        o.playbacks,
        o.seconds,
        o.spin.as_micros(),
        o.min_wake.as_micros(),
        if o.udp { "sent over UDP loopback" } else { "no socket" },
        lateness.len(),
        expected_frames,
        out_of_order,
        wakes
    );
    println!(
        "send lateness vs due time: p50 {:?}  p99 {:?}  p99.9 {:?}  max {:?}",
        percentile(&lateness, 50.0),
        percentile(&lateness, 99.0),
        percentile(&lateness, 99.9),
        percentile(&lateness, 100.0)
    );
    if let Some(cpu) = cpu {
        println!(
            "CPU {:?} over {:?} wall ({:.1}% of one core){}",
            cpu,
            wall,
            100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
            if o.udp {
                " — includes the sink thread"
            } else {
                ""
            }
        );
    }
    if o.udp {
        println!("sink received {} packets", received.load(Ordering::Relaxed));
    }
    Ok(())
}
