//! One whole extended call through the engine, in virtual time with no sockets (the flow is in
//! `support/call_flow.rs`). The time per iteration is the engine's CPU cost of one call (the
//! issue's budget: 100 µs).
//!
//! `cargo bench -p tether-b2bua --bench call`

#[path = "support/call_flow.rs"]
mod call_flow;

use std::time::Instant;

use call_flow::{engine, one_call};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let mut now = Instant::now();
    let mut e = engine(now);
    let mut n = 0u64;
    c.bench_function("extended call: INVITE..BYE through the engine", |b| {
        b.iter(|| {
            n += 1;
            one_call(&mut e, &mut now, n);
        })
    });
    assert_eq!(
        (e.active_calls(), e.transactions()),
        (0, 0),
        "the bench leaves nothing behind"
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
