//! Provisioning at scale (issue 3): load 100,000 users, each with a CTI remote device, a line and
//! two remote destinations, then report the load time, the memory the snapshot holds and the
//! lookup times the call path pays. Targets: lookup under 1 µs, load under 5 s.
//!
//! `cargo bench -p tether-store --bench snapshot` (SQLite). With `TETHER_TEST_POSTGRES_URL` set,
//! the PostgreSQL backend is measured too. `TETHER_BENCH_USERS` overrides the 100,000.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tether_store::model::*;
use tether_store::{Change, NumberingPlan, Origin, Store};

fn rss_bytes() -> u64 {
    // Resident set size from /proc (Linux); 0 elsewhere.
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn data_set(users: usize) -> Vec<Change> {
    let mut c = vec![
        Change::Create(Object::Partition(Partition {
            name: "Internal".into(),
            description: String::new(),
        })),
        Change::Create(Object::Partition(Partition {
            name: "PSTN".into(),
            description: String::new(),
        })),
        Change::Create(Object::Css(Css {
            name: "Internal-CSS".into(),
            description: String::new(),
            partitions: vec!["Internal".into(), "PSTN".into()],
        })),
        Change::Create(Object::Css(Css {
            name: "Reroute-CSS".into(),
            description: String::new(),
            partitions: vec!["PSTN".into()],
        })),
        Change::Create(Object::Trunk(Trunk {
            name: "pstn".into(),
            kind: TrunkKind::Sip,
            peer: "127.0.0.1:5070".into(),
            did: None,
            hunting: Hunting::Ascending,
            channels: None,
            inbound_css: None,
            cause_map: vec![],
        })),
        Change::Create(Object::RouteGroup(RouteGroup {
            name: "rg".into(),
            distribution: Distribution::TopDown,
            trunks: vec!["pstn".into()],
        })),
        Change::Create(Object::RouteList(RouteList {
            name: "rl".into(),
            description: String::new(),
            groups: vec!["rg".into()],
        })),
    ];
    for p in ["9.!", "\\+1!", "9.XXXX", "9.1[2-9]XX[2-9]XXXXXX"] {
        c.push(Change::Create(Object::Pattern(Pattern {
            partition: "PSTN".into(),
            pattern: p.into(),
            kind: PatternKind::Route,
            description: String::new(),
            route_list: Some("rl".into()),
            css: None,
            called: Transformation {
                discard_predot: true,
                prefix: String::new(),
                mask: None,
            },
            calling: Transformation::default(),
        })));
    }
    for i in 0..users {
        let id = format!("user{i:06}");
        let dev = format!("CTRID{id}");
        c.push(Change::Create(Object::User(User {
            id: id.clone(),
            name: format!("User {i}"),
            mobility_enabled: true,
            cti_enabled: true,
            max_remote_destinations: 4,
            admin: false,
            associated_devices: Vec::new(),
            password: None,
        })));
        c.push(Change::Create(Object::Device(Device {
            name: dev.clone(),
            kind: DeviceKind::CtiRemoteDevice,
            owner: Some(id),
            description: String::new(),
            display_name: String::new(),
            css: Some("Internal-CSS".into()),
            reroute_css: Some("Reroute-CSS".into()),
            route_to_all_rds_when_none_active: false,
            sip_username: None,
            sip_password: None,
        })));
        c.push(Change::Create(Object::Line(Line {
            partition: "Internal".into(),
            dn: format!("{}", 1_000_000 + i),
            device: dev.clone(),
            position: 1,
            e164: Some(format!("+1408{:07}", i)),
            directory_uri: None,
            display_name: String::new(),
            call_forward_all: None,
            dnd: false,
        })));
        for (n, area) in [("Mobile", 415), ("Home", 650)] {
            c.push(Change::Create(Object::RemoteDestination(
                RemoteDestination {
                    device: dev.clone(),
                    name: n.into(),
                    number: format!("+1{area}{:07}", i),
                    active: n == "Mobile",
                    ring_schedule: None,
                    answer_too_soon_ms: 1500,
                    answer_too_late_ms: 19000,
                    delay_before_ringing_ms: 4000,
                },
            )));
        }
    }
    c
}

fn per_op(d: Duration, n: usize) -> String {
    format!("{:.0} ns", d.as_nanos() as f64 / n as f64)
}

async fn measure(label: &str, url: &str, users: usize) {
    let store = Store::open(url, NumberingPlan::north_american())
        .await
        .expect("open");
    let changes = data_set(users);
    let rows = changes.len();
    let t = Instant::now();
    store
        .write(&Origin::Admin, changes)
        .await
        .expect("bulk write");
    let write = t.elapsed();
    drop(store);

    // Where load time goes: reading the rows, then checking rules and building the snapshot.
    let db = tether_store::db::Db::open(url).await.expect("db");
    let t = Instant::now();
    let (data, version) = db.load().await.expect("load");
    let read = t.elapsed();
    let t = Instant::now();
    let built = tether_store::Snapshot::build(data, NumberingPlan::north_american(), version)
        .expect("build");
    let build = t.elapsed();
    drop((built, db));

    let rss0 = rss_bytes();
    let t = Instant::now();
    let store = Store::open(url, NumberingPlan::north_american())
        .await
        .expect("reopen");
    let load = t.elapsed();
    let snap = store.snapshot();
    let rss1 = rss_bytes();

    // Lookups the call path makes, over keys spread across the whole data set.
    let n = 200_000usize;
    let stride = 7919; // prime: visits users in a scattered order
    let rd_numbers: Vec<String> = (0..n)
        .map(|k| format!("+1415{:07}", (k * stride) % users))
        .collect();
    let rd_dialed: Vec<String> = (0..n)
        .map(|k| format!("91-650-{:07}", (k * stride) % users))
        .collect();
    let dns: Vec<String> = (0..n)
        .map(|k| format!("{}", 1_000_000 + (k * stride) % users))
        .collect();

    let t = Instant::now();
    for x in &rd_numbers {
        black_box(snap.remote_destination_by_number(black_box(x)).expect("rd"));
    }
    let rd_e164 = t.elapsed();
    let t = Instant::now();
    for x in &rd_dialed {
        black_box(snap.remote_destination_by_number(black_box(x)).expect("rd"));
    }
    let rd_any = t.elapsed();
    let t = Instant::now();
    for x in &dns {
        black_box(snap.analyze("Internal-CSS", "", black_box(x)).expect("dn"));
    }
    let dn = t.elapsed();
    let t = Instant::now();
    for x in &dns {
        black_box(
            snap.analyze("Internal-CSS", "", black_box(&format!("9{}", &x[1..])))
                .ok(),
        );
    }
    let route = t.elapsed();
    let t = Instant::now();
    for x in &dns {
        black_box(snap.device(black_box(&format!(
            "CTRIDuser{:06}",
            x[1..].parse::<usize>().unwrap_or(0)
        ))));
    }
    let dev = t.elapsed();

    println!("== {label}: {users} users, {rows} objects");
    println!(
        "bulk write (one checked transaction): {:.2} s",
        write.as_secs_f64()
    );
    println!(
        "load (database read + rule check + snapshot build): {:.2} s",
        load.as_secs_f64()
    );
    println!(
        "  of which reading {:.2} s, rule check + snapshot build {:.2} s",
        read.as_secs_f64(),
        build.as_secs_f64()
    );
    println!(
        "resident memory added by the loaded store: {:.0} MiB",
        mib(rss1.saturating_sub(rss0))
    );
    println!("lookup RD by number, E.164 form: {}", per_op(rd_e164, n));
    println!(
        "lookup RD by number, 91-NPA-NXX-XXXX form: {}",
        per_op(rd_any, n)
    );
    println!(
        "digit analysis of a DN (closest match over {} DNs): {}",
        users,
        per_op(dn, n)
    );
    println!(
        "digit analysis of 9+7 digits to a route (incl. building the string): {}",
        per_op(route, n)
    );
    println!(
        "device by name (incl. building the name): {}",
        per_op(dev, n)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this with a tiny data set.
    let quick = !std::env::args().any(|a| a == "--bench");
    let users = std::env::var("TETHER_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 200 } else { 100_000 });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        measure("SQLite", &url, users).await;
        if let Ok(admin) = std::env::var("TETHER_TEST_POSTGRES_URL") {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("postgres");
            sqlx::query("DROP DATABASE IF EXISTS tether_bench")
                .execute(&mut conn)
                .await
                .expect("drop");
            sqlx::query("CREATE DATABASE tether_bench")
                .execute(&mut conn)
                .await
                .expect("create");
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin)
                .to_owned();
            measure("PostgreSQL", &format!("{base}/tether_bench"), users).await;
        }
    });
}
