//! Digit analysis against a large plan: 100,000 directory numbers (literal patterns) plus a few
//! hundred wildcard route and blocking patterns, through one calling search space of four
//! partitions. Measures a DN hit, a long-distance route (closest match among wildcards), a
//! site-code route, a blocked number, and a miss.
//!
//! Run: `cargo bench -p tether-dialplan --bench analyze`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::time::Instant;
use tether_dialplan::{
    DialPlan, DialPlanBuilder, Entry, Pattern, RouteGroup, RouteList, Target, Transform,
};

const DNS: u32 = 100_000;

fn entry(pattern: &str, partition: &str, target: Target, discard: bool) -> Entry {
    Entry {
        pattern: Pattern::parse(pattern).expect("bench patterns are valid"),
        partition: partition.into(),
        target,
        called: Transform {
            discard_predot: discard,
            ..Transform::default()
        },
        calling: Transform::default(),
    }
}

fn route(list: &str) -> Target {
    Target::Route {
        route_list: list.into(),
    }
}

/// Returns the plan and how many wildcard patterns it holds.
fn big_plan() -> (DialPlan, usize) {
    let mut b = DialPlanBuilder::new();
    for p in ["dn", "site", "pstn", "block"] {
        b.partition(p);
    }
    b.css(
        "phones",
        ["dn", "site", "pstn", "block"].map(String::from).to_vec(),
    );
    b.route_group(RouteGroup {
        name: "pri".into(),
        trunks: vec!["pri-1".into(), "pri-2".into()],
    })
    .route_group(RouteGroup {
        name: "sip".into(),
        trunks: vec!["sip-1".into()],
    })
    .route_list(RouteList {
        name: "pstn".into(),
        groups: vec!["sip".into(), "pri".into()],
    })
    .route_list(RouteList {
        name: "wan".into(),
        groups: vec!["sip".into()],
    });
    for i in 0..DNS {
        b.entry(entry(
            &(200_000 + i).to_string(),
            "dn",
            Target::Line {
                device: format!("SEP{i:012}"),
            },
            false,
        ));
    }
    let mut wildcards = 0;
    for site in 100..400 {
        b.entry(entry(&format!("8{site}.XXXX"), "site", route("wan"), true));
        wildcards += 1;
    }
    for area in 200..260 {
        b.entry(entry(
            &format!("9.1{area}[2-9]XXXXXX"),
            "pstn",
            route("pstn"),
            true,
        ));
        wildcards += 1;
    }
    for p in [
        "9.[2-9]XXXXXX",
        "9.1[2-9]XX[2-9]XXXXXX",
        "9.011!",
        "9.011!#",
        r"\+!",
        r"\+1[2-9]XX[2-9]XXXXXX",
        "9.1!",
    ] {
        b.entry(entry(p, "pstn", route("pstn"), true));
        wildcards += 1;
    }
    for p in ["9.1900XXXXXXX", "9.1976XXXXXXX", "9.011[89]!"] {
        b.entry(entry(p, "block", Target::Block, false));
        wildcards += 1;
    }
    b.entry(entry("911", "pstn", route("pstn"), false));
    b.entry(entry("9.911", "pstn", route("pstn"), true));
    (b.build().expect("bench plan is consistent"), wildcards)
}

fn bench(c: &mut Criterion) {
    let started = Instant::now();
    let (plan, wildcards) = big_plan();
    println!(
        "built a plan of {} DNs + {wildcards} wildcard patterns in {:?}",
        DNS,
        started.elapsed()
    );
    let dns: Vec<String> = (0..1024u32)
        .map(|i| (200_000 + (i * 97) % DNS).to_string())
        .collect();
    assert_eq!(
        plan.analyze("phones", "200000", &dns[1])
            .map(|a| a.pattern)
            .ok(),
        Some(dns[1].clone())
    );
    for (digits, pattern) in [
        ("914085551234", Some("9.1[2-9]XX[2-9]XXXXXX")),
        ("912125551234", Some("9.1212[2-9]XXXXXX")),
        ("81231234", Some("8123.XXXX")),
        ("919005551234", None),
        ("7777", None),
    ] {
        let got = plan.analyze("phones", "200000", digits).map(|a| a.pattern);
        assert_eq!(got.as_deref().ok(), pattern, "{digits}: {got:?}");
    }

    let mut g = c.benchmark_group("analyze");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("dn_hit_100k", |b| {
        b.iter(|| {
            i = (i + 1) % dns.len();
            black_box(plan.analyze("phones", "200000", black_box(&dns[i])))
        })
    });
    for (name, digits) in [
        ("long_distance_route", "914085551234"),
        ("area_code_route", "912125551234"),
        ("site_code_route", "81231234"),
        ("blocked", "919005551234"),
        ("no_match", "7777"),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(plan.analyze("phones", "200000", black_box(digits))))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("pattern");
    g.throughput(Throughput::Elements(1));
    let nanp = Pattern::parse("9.1[2-9]XX[2-9]XXXXXX").expect("valid");
    g.bench_function("matches_nanp", |b| {
        b.iter(|| black_box(nanp.matches(black_box("914085551234"))))
    });
    let intl = Pattern::parse("9.011!").expect("valid");
    g.bench_function("matches_intl_bang", |b| {
        b.iter(|| black_box(intl.matches(black_box("9011442071234567"))))
    });
    let a = plan
        .analyze("phones", "200000", "914085551234")
        .expect("routes");
    g.bench_function("clone_route_analysis", |b| b.iter(|| black_box(a.clone())));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
