//! Runs N whole extended calls through the engine, deterministically, for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/calls 2000` (or `perf stat -e
//! instructions`). Run it with two values of N and divide the difference of the totals by the
//! difference of N to get the instructions of one call without the set-up.
//!
//! With `linger` after N, the calls all happen at one instant and the timers run only at the
//! end, so every finished transaction lingers meanwhile (`/usr/bin/time -v` shows what that
//! holds in memory).
//!
//! With `hold H` after N, H calls are set up first and stay up while the N calls come and go
//! (then they are hung up): the cost of a call must not grow with the calls up at once.
//!
//! `cargo build --release -p tether-b2bua --example calls`

#[path = "../benches/support/call_flow.rs"]
mod call_flow;

use std::time::Instant;

use call_flow::{call_up, call_without_timers, engine, hang_up, one_call, timers_run_out};
use std::time::Duration;

fn main() {
    let calls: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let linger = std::env::args().nth(2).as_deref() == Some("linger");
    let hold: u64 = match std::env::args().nth(2).as_deref() {
        Some("hold") => std::env::args()
            .nth(3)
            .and_then(|a| a.parse().ok())
            .unwrap_or(10_000),
        _ => 0,
    };
    let mut now = Instant::now();
    let mut e = engine(now);
    // Held calls are numbered past the others.
    let held: Vec<_> = (1..=hold)
        .map(|h| (calls + h, call_up(&mut e, now, calls + h)))
        .collect();
    if hold > 0 {
        println!("{} calls up", e.active_calls());
    }
    for n in 1..=calls {
        if linger {
            call_without_timers(&mut e, now, n);
        } else {
            one_call(&mut e, &mut now, n);
        }
    }
    for (n, up) in held {
        hang_up(&mut e, now, n, up);
    }
    if hold > 0 {
        now += Duration::from_secs(40);
        timers_run_out(&mut e, now);
    }
    if linger {
        println!("{} transactions lingering", e.transactions());
        now += Duration::from_secs(40);
        timers_run_out(&mut e, now);
    }
    assert_eq!(
        (e.active_calls(), e.transactions()),
        (0, 0),
        "every call ended and left nothing behind"
    );
    assert_eq!(e.bookkeeping(), (0, 0, 0), "no table entry left");
    println!("{calls} calls");
}
