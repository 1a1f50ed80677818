//! The wheel against a `BTreeMap` model: same timers out, in the same order, at the same polls.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn fires_in_deadline_order_never_early() {
    let t0 = Instant::now();
    let mut w = TimerWheel::new(t0);
    w.insert(t0 + ms(30), "c");
    w.insert(t0 + Duration::from_micros(10_100), "a");
    w.insert(t0 + Duration::from_micros(10_200), "b");
    assert_eq!(w.next_deadline(), Some(t0 + Duration::from_micros(10_100)));
    // Same tick, before the deadline: nothing.
    assert_eq!(
        w.poll_expired(t0 + Duration::from_micros(10_050)).count(),
        0
    );
    let out: Vec<_> = w.poll_expired(t0 + Duration::from_micros(10_150)).collect();
    assert_eq!(out, vec![(t0 + Duration::from_micros(10_100), "a")]);
    let out: Vec<_> = w.poll_expired(t0 + ms(100)).map(|(_, k)| k).collect();
    assert_eq!(out, vec!["b", "c"]);
    assert!(w.is_empty() && w.next_deadline().is_none());
}

#[test]
fn cancel_is_exact_and_stale_handles_are_ignored() {
    let t0 = Instant::now();
    let mut w = TimerWheel::new(t0);
    let a = w.insert(t0 + ms(5), 1);
    let b = w.insert(t0 + ms(5), 2);
    let c = w.insert(t0 + ms(5), 3);
    assert_eq!(w.cancel(b), Some(2));
    assert_eq!(w.cancel(b), None);
    assert_eq!(w.deadline(a), Some(t0 + ms(5)));
    assert_eq!(w.deadline(b), None);
    // The freed node is reused with a new generation: the old handle still misses.
    let d = w.insert(t0 + ms(6), 4);
    assert_eq!(w.cancel(b), None);
    assert_eq!(w.len(), 3);
    let out: Vec<_> = w.poll_expired(t0 + ms(6)).map(|(_, k)| k).collect();
    assert_eq!(out, vec![1, 3, 4]);
    assert_eq!(w.cancel(a), None);
    assert_eq!(w.cancel(c), None);
    assert_eq!(w.cancel(d), None);
}

#[test]
fn far_deadlines_wait_for_their_turn_and_past_ones_fire_at_once() {
    let t0 = Instant::now();
    let turn = TICK * SLOTS as u32;
    let mut w = TimerWheel::new(t0);
    // Same slot, three turns apart.
    w.insert(t0 + turn * 3 + ms(1), "far");
    w.insert(t0 + ms(1), "near");
    assert_eq!(w.next_deadline(), Some(t0 + ms(1)));
    assert_eq!(
        w.poll_expired(t0 + ms(2))
            .map(|(_, k)| k)
            .collect::<Vec<_>>(),
        ["near"]
    );
    // Only the far one is left, more than a turn away: still found exactly.
    assert_eq!(w.next_deadline(), Some(t0 + turn * 3 + ms(1)));
    assert_eq!(w.poll_expired(t0 + turn + ms(2)).count(), 0);
    // A deadline in the past (and one before the origin) fires at the next poll.
    w.insert(t0 + ms(1), "late");
    w.insert(t0 - ms(1), "before-origin");
    assert_eq!(
        w.poll_expired(t0 + turn + ms(2))
            .map(|(_, k)| k)
            .collect::<Vec<_>>(),
        ["before-origin", "late"]
    );
    assert_eq!(
        w.poll_expired(t0 + turn * 4)
            .map(|(_, k)| k)
            .collect::<Vec<_>>(),
        ["far"]
    );
}

#[derive(Debug, Clone)]
enum Op {
    /// Insert at `now + offset` (µs; negative is in the past).
    Insert(i64),
    /// Cancel the n-th live timer (modulo the count), or a stale one when none is live.
    Cancel(usize),
    /// Advance `now` by this many µs and poll.
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (-2_000i64..600_000).prop_map(Op::Insert),
        // Clustered deadlines, many in the same tick.
        2 => (0i64..2_000).prop_map(Op::Insert),
        2 => any::<usize>().prop_map(Op::Cancel),
        3 => prop_oneof![0u64..500, 0u64..40_000, 0u64..700_000].prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matches_a_sorted_map(ops in proptest::collection::vec(op(), 1..200)) {
        // Start away from the origin so negative offsets land before and after it.
        let t0 = Instant::now();
        let mut now = t0 + ms(1);
        let mut wheel = TimerWheel::new(t0);
        // (deadline, insertion number) -> (handle, key)
        let mut model: BTreeMap<(Instant, u64), (TimerId, u64)> = BTreeMap::new();
        let mut stale: Vec<TimerId> = Vec::new();
        let mut n = 0u64;
        for op in ops {
            match op {
                Op::Insert(offset) => {
                    let at = if offset >= 0 {
                        now + Duration::from_micros(offset as u64)
                    } else {
                        now - Duration::from_micros(offset.unsigned_abs())
                    };
                    let id = wheel.insert(at, n);
                    model.insert((at, n), (id, n));
                    n += 1;
                }
                Op::Cancel(i) => {
                    if model.is_empty() {
                        if let Some(&id) = stale.last() {
                            prop_assert_eq!(wheel.cancel(id), None);
                        }
                    } else {
                        let key = *model.keys().nth(i % model.len()).unwrap();
                        let (id, k) = model.remove(&key).unwrap();
                        prop_assert_eq!(wheel.cancel(id), Some(k));
                        prop_assert_eq!(wheel.cancel(id), None);
                        stale.push(id);
                    }
                }
                Op::Advance(us) => {
                    now += Duration::from_micros(us);
                    let got: Vec<(Instant, u64)> = wheel.poll_expired(now).collect();
                    let mut want = Vec::new();
                    while let Some(entry) = model.first_entry() {
                        if entry.key().0 > now {
                            break;
                        }
                        let ((at, _), (id, k)) = entry.remove_entry();
                        stale.push(id);
                        want.push((at, k));
                    }
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert_eq!(wheel.len(), model.len());
            prop_assert_eq!(wheel.next_deadline(), model.keys().next().map(|k| k.0));
        }
    }
}
