//! Runs N whole extended calls through the engine, deterministically, for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/calls 2000` (or `perf stat -e
//! instructions`). Run it with two values of N and divide the difference of the totals by the
//! difference of N to get the instructions of one call without the set-up.
//!
//! `cargo build --release -p tether-b2bua --example calls`

#[path = "../benches/support/call_flow.rs"]
mod call_flow;

use std::time::Instant;

use call_flow::{engine, one_call};

fn main() {
    let calls: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let mut now = Instant::now();
    let mut e = engine(now);
    for n in 1..=calls {
        one_call(&mut e, &mut now, n);
    }
    assert_eq!(
        (e.active_calls(), e.transactions()),
        (0, 0),
        "every call ended and left nothing behind"
    );
    println!("{calls} calls");
}
