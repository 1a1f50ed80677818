//! Runs N whole extended calls through the engine, deterministically, for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/calls 2000` (or `perf stat -e
//! instructions`). Run it with two values of N and divide the difference of the totals by the
//! difference of N to get the instructions of one call without the set-up.
//!
//! With `linger` after N, the calls all happen at one instant and the timers run only at the
//! end, so every finished transaction lingers meanwhile (`/usr/bin/time -v` shows what that
//! holds in memory).
//!
//! `cargo build --release -p tether-b2bua --example calls`

#[path = "../benches/support/call_flow.rs"]
mod call_flow;

use std::time::Instant;

use call_flow::{call_without_timers, engine, one_call, timers_run_out};
use std::time::Duration;

fn main() {
    let calls: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let linger = std::env::args().nth(2).as_deref() == Some("linger");
    let mut now = Instant::now();
    let mut e = engine(now);
    for n in 1..=calls {
        if linger {
            call_without_timers(&mut e, now, n);
        } else {
            one_call(&mut e, &mut now, n);
        }
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
    println!("{calls} calls");
}
