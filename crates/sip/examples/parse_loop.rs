//! Parses the message benchmark's 1 KB INVITE a given number of times, so that an instruction
//! counter gives a per-parse figure that does not depend on what else the machine is running
//! (timings on the shared development VM move by a quarter with the other core's load).
//!
//! Run each case twice under callgrind, with 0 and with N iterations; the difference of the two
//! "Collected" totals divided by N is the count per iteration:
//!
//! ```sh
//! cargo build --release -p tether-sip --example parse_loop
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/parse_loop tether 2000
//! ```
//!
//! Cases: `tether` (parse), `tether-typed` (parse and the benchmark's typed reads), `rsip`
//! (rsip 0.4 parsing the same bytes).

use std::hint::black_box;
use tether_sip::Message;

#[path = "../benches/common/mod.rs"]
mod common;
use common::{typed_access, INVITE};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(case), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: parse_loop tether|tether-typed|rsip ITERATIONS");
        std::process::exit(2);
    };
    let bytes = bytes::Bytes::from_static(INVITE.as_bytes());
    let mut sum = 0usize;
    for _ in 0..n {
        sum += match case.as_str() {
            "tether" => Message::parse(black_box(bytes.clone())).map_or(0, |m| m.headers().len()),
            "tether-typed" => {
                Message::parse(black_box(bytes.clone())).map_or(0, |m| typed_access(&m))
            }
            "rsip" => usize::from(rsip::SipMessage::try_from(black_box(INVITE.as_bytes())).is_ok()),
            _ => {
                eprintln!("unknown case {case}");
                std::process::exit(2);
            }
        };
    }
    println!("{sum}");
}
