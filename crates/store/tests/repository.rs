//! The repository suite. Every test runs twice: on SQLite (a real file in a temporary directory)
//! and on PostgreSQL (a real server; `TETHER_TEST_POSTGRES_URL` names an account that may create
//! databases, and each test gets a database of its own). With `CI` set, a missing PostgreSQL URL
//! fails the PostgreSQL half instead of skipping it. `scripts/test.sh` starts the server.

use std::sync::atomic::{AtomicU32, Ordering};

use tether_store::model::*;
use tether_store::{CdrFilter, CdrRow, Change, Code, NumberingPlan, Origin, Store, StoreError};

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A fresh database URL for one test, or None when PostgreSQL is not configured (and not CI).
async fn postgres_url() -> Option<String> {
    let admin = match std::env::var("TETHER_TEST_POSTGRES_URL") {
        Ok(u) => u,
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("CI is set but TETHER_TEST_POSTGRES_URL is not: run scripts/postgres-test-server.sh")
        }
        Err(_) => {
            eprintln!("skipping the PostgreSQL half: TETHER_TEST_POSTGRES_URL is not set");
            return None;
        }
    };
    let name = format!(
        "tether_t{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to the test server");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    Some(format!("{base}/{name}"))
}

struct Db {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite_db() -> Db {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("tether.db").display());
    Db {
        url,
        _dir: Some(dir),
    }
}

async fn open(db: &Db) -> Store {
    Store::open(&db.url, NumberingPlan::north_american())
        .await
        .expect("open store")
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "current_thread")]
            async fn $name() {
                let db = super::sqlite_db().await;
                super::$name(&db).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "current_thread")]
            async fn $name() {
                let Some(url) = super::postgres_url().await else { return };
                let db = super::Db { url, _dir: None };
                super::$name(&db).await;
            })*
        }
    };
}

both!(
    seed_vectors_end_user_path,
    admin_path_does_not_verify_reachability,
    remote_destination_limit,
    duplicate_under_number_equivalence,
    directory_number_is_never_an_rd,
    owner_needs_mobility,
    five_lines_per_device,
    failed_batch_changes_nothing,
    data_survives_reopen,
    delete_in_use_and_missing,
    end_user_only_touches_own_rds,
    associated_devices,
    unchanged_numbers_are_not_verified_again,
    passwords,
    analysis_through_snapshot,
    csv_round_trip_of_10000_users_is_exact,
    csv_errors_are_reported_per_row_and_nothing_commits,
    two_nodes_never_commit_conflicting_rds,
    cdrs_batch_insert_filters_and_paging,
    subscribers_see_writes_and_refreshes,
);

fn admin() -> Origin {
    Origin::Admin
}

fn alice() -> Origin {
    Origin::EndUser("alice".into())
}

fn user(id: &str, mobility: bool) -> Object {
    Object::User(User {
        id: id.into(),
        name: id.into(),
        mobility_enabled: mobility,
        cti_enabled: true,
        max_remote_destinations: 4,
        admin: false,
        associated_devices: Vec::new(),
        password: None,
    })
}

fn device(name: &str, owner: &str) -> Object {
    Object::Device(Device {
        name: name.into(),
        kind: DeviceKind::CtiRemoteDevice,
        owner: Some(owner.into()),
        description: String::new(),
        display_name: String::new(),
        css: Some("Internal-CSS".into()),
        reroute_css: Some("Reroute-CSS".into()),
        route_to_all_rds_when_none_active: false,
        sip_username: None,
        sip_password: None,
    })
}

fn line(dn: &str, device: &str, position: u32, e164: Option<&str>) -> Object {
    Object::Line(Line {
        partition: "Internal".into(),
        dn: dn.into(),
        device: device.into(),
        position,
        e164: e164.map(Into::into),
        directory_uri: None,
        display_name: String::new(),
        call_forward_all: None,
        dnd: false,
    })
}

fn rd(device: &str, name: &str, number: &str) -> Object {
    Object::RemoteDestination(RemoteDestination {
        device: device.into(),
        name: name.into(),
        number: number.into(),
        active: false,
        ring_schedule: None,
        answer_too_soon_ms: 1500,
        answer_too_late_ms: 19000,
        delay_before_ringing_ms: 4000,
    })
}

fn pattern(p: &str) -> Object {
    Object::Pattern(Pattern {
        partition: "PSTN".into(),
        pattern: p.into(),
        kind: PatternKind::Route,
        description: String::new(),
        route_list: Some("PSTN-RL".into()),
        css: None,
        called: Transformation {
            discard_predot: true,
            prefix: String::new(),
            mask: None,
        },
        calling: Transformation::default(),
    })
}

/// Partitions, CSSs, a PSTN trunk behind a route list, and the given route patterns; user alice
/// with mobility and device CTRIDalice on line 2000.
fn base(patterns: &[&str]) -> Vec<Change> {
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
            name: "pstn-out".into(),
            kind: TrunkKind::PriT1,
            peer: "127.0.0.1:5070".into(),
            did: None,
            hunting: Hunting::Ascending,
            channels: None,
            inbound_css: None,
            cause_map: vec![],
        })),
        Change::Create(Object::RouteGroup(RouteGroup {
            name: "PSTN-RG".into(),
            distribution: Distribution::TopDown,
            trunks: vec!["pstn-out".into()],
        })),
        Change::Create(Object::RouteList(RouteList {
            name: "PSTN-RL".into(),
            description: String::new(),
            groups: vec!["PSTN-RG".into()],
        })),
        Change::Create(user("alice", true)),
        Change::Create(device("CTRIDalice", "alice")),
        Change::Create(line("2000", "CTRIDalice", 1, Some("+14082002000"))),
    ];
    c.extend(patterns.iter().map(|p| Change::Create(pattern(p))));
    c
}

fn codes(e: StoreError) -> Vec<Code> {
    e.violations().into_iter().map(|v| v.code).collect()
}

async fn seed_vectors_end_user_path(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&["9.XXXX"])).await.expect("base");
    // With route pattern 9.XXXX, adding 91000 succeeds.
    s.write(
        &alice(),
        vec![Change::Create(rd("CTRIDalice", "Home", "91000"))],
    )
    .await
    .expect("91000 reachable");
    // A typo 91100 is accepted: verification is by pattern, not by number.
    s.write(
        &alice(),
        vec![Change::Create(rd("CTRIDalice", "Typo", "91100"))],
    )
    .await
    .expect("91100 accepted");
    // Updating 92000 -> 91000 succeeds (after the first 91000 is gone).
    s.write(
        &alice(),
        vec![Change::Delete(
            Kind::RemoteDestination,
            Key::Two("CTRIDalice".into(), "Home".into()),
        )],
    )
    .await
    .expect("delete");
    s.write(
        &alice(),
        vec![Change::Create(rd("CTRIDalice", "Office", "92000"))],
    )
    .await
    .expect("92000");
    s.write(
        &alice(),
        vec![Change::Update(rd("CTRIDalice", "Office", "91000"))],
    )
    .await
    .expect("92000 -> 91000");
    let snap = s.snapshot();
    assert_eq!(
        snap.remote_destination_by_number("91000")
            .map(|r| r.name.as_str()),
        Some("Office")
    );

    // With only 8.XXXX, adding 91000 fails RD_NOT_REACHABLE.
    let db2 = fresh_like(db).await;
    let s2 = open(&db2).await;
    s2.write(&admin(), base(&["8.XXXX"])).await.expect("base");
    let e = s2
        .write(
            &alice(),
            vec![Change::Create(rd("CTRIDalice", "Home", "91000"))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::RdNotReachable]);
    assert_eq!(
        s2.snapshot().remote_destinations_of("CTRIDalice").count(),
        0
    );
}

/// Another empty database of the same backend.
async fn fresh_like(db: &Db) -> Db {
    if db.url.starts_with("sqlite:") {
        sqlite_db().await
    } else {
        Db {
            url: postgres_url().await.expect("postgres configured"),
            _dir: None,
        }
    }
}

async fn admin_path_does_not_verify_reachability(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&["8.XXXX"])).await.expect("base");
    s.write(
        &admin(),
        vec![Change::Create(rd("CTRIDalice", "Home", "91000"))],
    )
    .await
    .expect("admin adds unverified RD");
    // Dial rules are applied before verification on the end-user path: 1000 -> 91000 is not
    // reachable through 8.XXXX, but with a rule that prefixes 8 it is.
    let e = s
        .write(
            &alice(),
            vec![Change::Create(rd("CTRIDalice", "Desk", "1001"))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::RdNotReachable]);
    s.write(
        &admin(),
        vec![Change::Create(Object::DialRule(DialRule {
            name: "four-digit".into(),
            begins_with: "1".into(),
            num_digits: Some(4),
            digits_to_remove: 0,
            prefix: "8".into(),
            priority: 1,
        }))],
    )
    .await
    .expect("rule");
    s.write(
        &alice(),
        vec![Change::Create(rd("CTRIDalice", "Desk", "1001"))],
    )
    .await
    .expect("reachable after dial rule");
}

async fn remote_destination_limit(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&["9.!"])).await.expect("base");
    let mut u = match user("alice", true) {
        Object::User(u) => u,
        _ => unreachable!(),
    };
    u.max_remote_destinations = 2;
    s.write(&admin(), vec![Change::Update(Object::User(u.clone()))])
        .await
        .expect("limit 2");
    s.write(
        &admin(),
        vec![
            Change::Create(rd("CTRIDalice", "a", "914085550001")),
            Change::Create(rd("CTRIDalice", "b", "914085550002")),
        ],
    )
    .await
    .expect("two");
    let e = s
        .write(
            &admin(),
            vec![Change::Create(rd("CTRIDalice", "c", "914085550003"))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::RemoteDestinationLimitExceeded]);
    u.max_remote_destinations = 11;
    let e = s
        .write(&admin(), vec![Change::Update(Object::User(u.clone()))])
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::InvalidField]);
    // Lowering the limit below the RDs a device has is refused too.
    u.max_remote_destinations = 1;
    let e = s
        .write(&admin(), vec![Change::Update(Object::User(u))])
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::RemoteDestinationLimitExceeded]);
}

async fn duplicate_under_number_equivalence(db: &Db) {
    let s = open(db).await;
    let mut b = base(&["9.!"]);
    b.push(Change::Create(user("bob", true)));
    b.push(Change::Create(device("CTRIDbob", "bob")));
    s.write(&admin(), b).await.expect("base");
    s.write(
        &admin(),
        vec![Change::Create(rd(
            "CTRIDalice",
            "Mobile",
            "+1-408-555-5555",
        ))],
    )
    .await
    .expect("first");
    for same in [
        "91-4085555555",
        "914085555555",
        "+14085555555",
        "4085555555",
    ] {
        let e = s
            .write(
                &admin(),
                vec![Change::Create(rd("CTRIDbob", "Mobile", same))],
            )
            .await
            .unwrap_err();
        assert_eq!(codes(e), vec![Code::DuplicateRemoteDestination], "{same}");
    }
    s.write(
        &admin(),
        vec![Change::Create(rd("CTRIDbob", "Mobile", "+14085555556"))],
    )
    .await
    .expect("different number");
}

async fn directory_number_is_never_an_rd(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&["9.!"])).await.expect("base");
    for n in ["2000", "+14082002000", "914082002000"] {
        let e = s
            .write(&admin(), vec![Change::Create(rd("CTRIDalice", "x", n))])
            .await
            .unwrap_err();
        assert_eq!(codes(e), vec![Code::RdIsDirectoryNumber], "{n}");
    }
}

async fn owner_needs_mobility(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&[])).await.expect("base");
    s.write(&admin(), vec![Change::Create(user("carol", false))])
        .await
        .expect("carol");
    let e = s
        .write(
            &admin(),
            vec![Change::Create(device("CTRIDcarol", "carol"))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::MobilityNotEnabled]);
    // Turning mobility off while the user owns a CTI remote device is refused as well.
    let e = s
        .write(&admin(), vec![Change::Update(user("alice", false))])
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::MobilityNotEnabled]);
}

async fn five_lines_per_device(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&[])).await.expect("base");
    let four: Vec<_> = (2..=5)
        .map(|p| Change::Create(line(&format!("200{p}"), "CTRIDalice", p, None)))
        .collect();
    s.write(&admin(), four).await.expect("five lines");
    assert_eq!(s.snapshot().lines_of("CTRIDalice").count(), 5);
    let e = s
        .write(
            &admin(),
            vec![Change::Create(line("2009", "CTRIDalice", 5, None))],
        )
        .await
        .unwrap_err();
    assert!(codes(e).contains(&Code::LineLimitExceeded));
}

async fn failed_batch_changes_nothing(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&["9.!"])).await.expect("base");
    let v = s.snapshot().version();
    let e = s
        .write(
            &admin(),
            vec![
                Change::Create(rd("CTRIDalice", "ok", "914085550001")),
                Change::Create(user("dave", true)),
                Change::Create(rd("CTRIDalice", "bad", "2000")),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::RdIsDirectoryNumber]);
    assert_eq!(s.snapshot().version(), v);
    assert!(s.snapshot().user("dave").is_none());
    drop(s);
    let again = open(db).await;
    assert!(
        again.snapshot().user("dave").is_none(),
        "nothing reached the database"
    );
    assert_eq!(
        again
            .snapshot()
            .remote_destinations_of("CTRIDalice")
            .count(),
        0
    );
}

async fn data_survives_reopen(db: &Db) {
    let s = open(db).await;
    let mut b = base(&["9.!", "\\+1!"]);
    b.push(Change::Create(rd("CTRIDalice", "JabberRD", "+14157777777")));
    b.push(Change::Create(Object::Announcement(Announcement {
        id: "whisper1".into(),
        name: "Sales".into(),
        file: "sales.wav".into(),
    })));
    b.push(Change::Create(Object::DialRule(DialRule {
        name: "r".into(),
        begins_with: "1".into(),
        num_digits: None,
        digits_to_remove: 1,
        prefix: "91".into(),
        priority: 3,
    })));
    s.write(&admin(), b).await.expect("write");
    let before: Vec<_> = Kind::ALL
        .iter()
        .map(|k| s.snapshot().data().list(*k))
        .collect();
    drop(s);
    let s = open(db).await;
    let after: Vec<_> = Kind::ALL
        .iter()
        .map(|k| s.snapshot().data().list(*k))
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        after[Kind::ALL.iter().position(|k| *k == Kind::Css).unwrap_or(0)].len(),
        2
    );
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.expect("pool");
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await
            .expect("pragma");
        assert_eq!(mode.to_ascii_lowercase(), "wal");
    }
}

async fn delete_in_use_and_missing(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&["9.!"])).await.expect("base");
    let e = s
        .write(
            &admin(),
            vec![Change::Delete(Kind::Partition, Key::One("Internal".into()))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::InUse]);
    let e = s
        .write(
            &admin(),
            vec![Change::Delete(Kind::User, Key::One("nobody".into()))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::NotFound]);
    let e = s
        .write(&admin(), vec![Change::Create(user("alice", true))])
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::AlreadyExists]);
    let e = s
        .write(&admin(), vec![Change::Create(pattern("9.@"))])
        .await
        .unwrap_err();
    let v = e.violations();
    assert_eq!(v[0].code, Code::InvalidField);
    assert!(v[0].message.contains('@'), "{}", v[0].message);
    // In the right order, a whole chain can go in one batch.
    s.write(
        &admin(),
        vec![
            Change::Delete(Kind::Line, Key::Two("Internal".into(), "2000".into())),
            Change::Delete(Kind::Device, Key::One("CTRIDalice".into())),
            Change::Delete(Kind::User, Key::One("alice".into())),
        ],
    )
    .await
    .expect("delete chain");
}

async fn end_user_only_touches_own_rds(db: &Db) {
    let s = open(db).await;
    let mut b = base(&["9.!"]);
    b.push(Change::Create(user("bob", true)));
    b.push(Change::Create(device("CTRIDbob", "bob")));
    s.write(&admin(), b).await.expect("base");
    let e = s
        .write(
            &alice(),
            vec![Change::Create(rd("CTRIDbob", "x", "914085550009"))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::Forbidden]);
    let e = s
        .write(&alice(), vec![Change::Create(user("eve", true))])
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::Forbidden]);
}

/// A user's associated devices: stored and reloaded in order, checked to exist, they keep the
/// device from being deleted, they let the user manage its RDs (verified), and they travel in CSV
/// as one `;`-separated cell.
async fn associated_devices(db: &Db) {
    use tether_store::bulk;
    let s = open(db).await;
    let mut b = base(&["9.!"]);
    b.push(Change::Create(user("bob", true)));
    b.push(Change::Create(device("CTRIDbob", "bob")));
    s.write(&admin(), b).await.expect("base");
    let with = |devices: &[&str]| {
        let Object::User(mut u) = user("carol", false) else {
            unreachable!()
        };
        u.associated_devices = devices.iter().map(|d| d.to_string()).collect();
        Object::User(u)
    };
    let e = s
        .write(&admin(), vec![Change::Create(with(&["CTRIDnobody"]))])
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::UnknownReference]);
    let e = s
        .write(
            &admin(),
            vec![Change::Create(with(&["CTRIDbob", "CTRIDbob"]))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::InvalidField]);
    s.write(
        &admin(),
        vec![Change::Create(with(&["CTRIDbob", "CTRIDalice"]))],
    )
    .await
    .expect("carol associated with two devices");

    // Carol manages the RDs of an associated device, verified like her own.
    let carol = Origin::EndUser("carol".into());
    s.write(
        &carol,
        vec![Change::Create(rd("CTRIDbob", "Desk", "914085550123"))],
    )
    .await
    .expect("associated device");
    let e = s
        .write(&carol, vec![Change::Create(rd("CTRIDbob", "Bad", "*55"))])
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::RdNotReachable]);

    let e = s
        .write(
            &admin(),
            vec![Change::Delete(Kind::Device, Key::One("CTRIDbob".into()))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::InUse]);

    let csv = bulk::export(&s, Kind::User).expect("export");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("carol,") && l.ends_with(",CTRIDbob;CTRIDalice")),
        "{csv}"
    );
    drop(s);
    let s = open(db).await;
    assert_eq!(
        s.snapshot()
            .user("carol")
            .map(|u| u.associated_devices.clone()),
        Some(vec!["CTRIDbob".to_string(), "CTRIDalice".to_string()])
    );
    // A CSV re-import keeps the list; an empty cell clears it.
    let r = bulk::import(&s, Kind::User, &csv, false)
        .await
        .expect("import");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(
        s.snapshot()
            .user("carol")
            .map(|u| u.associated_devices.len()),
        Some(2)
    );
    let cleared = csv.replace(",CTRIDbob;CTRIDalice", ",");
    bulk::import(&s, Kind::User, &cleared, false)
        .await
        .expect("import");
    assert_eq!(
        s.snapshot()
            .user("carol")
            .map(|u| u.associated_devices.len()),
        Some(0)
    );
    // Deleting a user removes their associations with them.
    s.write(&admin(), vec![Change::Update(with(&["CTRIDbob"]))])
        .await
        .expect("re-associate");
    s.write(
        &admin(),
        vec![Change::Delete(Kind::User, Key::One("carol".into()))],
    )
    .await
    .expect("delete carol");
    s.write(
        &admin(),
        vec![
            Change::Delete(
                Kind::RemoteDestination,
                Key::Two("CTRIDbob".into(), "Desk".into()),
            ),
            Change::Delete(Kind::Device, Key::One("CTRIDbob".into())),
        ],
    )
    .await
    .expect("device free to go");
}

/// Only numbers being added are verified: an RD whose number a later dial-plan change made
/// unreachable can still be deactivated (or activated) by its user.
async fn unchanged_numbers_are_not_verified_again(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&["8.XXXX"])).await.expect("base");
    s.write(
        &admin(),
        vec![Change::Create(rd("CTRIDalice", "Home", "91000"))],
    )
    .await
    .expect("admin adds unverified RD");
    let Object::RemoteDestination(mut home) = rd("CTRIDalice", "Home", "91000") else {
        unreachable!()
    };
    home.active = true;
    s.write(
        &alice(),
        vec![Change::Update(Object::RemoteDestination(home.clone()))],
    )
    .await
    .expect("activating an unchanged number");
    home.number = "91001".into();
    let e = s
        .write(
            &alice(),
            vec![Change::Update(Object::RemoteDestination(home))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::RdNotReachable]);
}

async fn passwords(db: &Db) {
    let s = open(db).await;
    let mut u = match user("admin1", false) {
        Object::User(u) => u,
        _ => unreachable!(),
    };
    u.admin = true;
    u.password = Some("s3cret".into());
    s.write(&admin(), vec![Change::Create(Object::User(u.clone()))])
        .await
        .expect("user");
    assert!(s.authenticate("admin1", "s3cret").is_some());
    assert!(s.authenticate("admin1", "wrong").is_none());
    assert!(s
        .snapshot()
        .data()
        .list(Kind::User)
        .iter()
        .all(|o| matches!(o, Object::User(u) if u.password.is_none())));
    // An update without a password keeps the old one, and it survives a reopen.
    u.password = None;
    u.name = "Admin One".into();
    s.write(&admin(), vec![Change::Update(Object::User(u))])
        .await
        .expect("rename");
    drop(s);
    let s = open(db).await;
    assert_eq!(
        s.authenticate("admin1", "s3cret").map(|u| u.name),
        Some("Admin One".into())
    );
}

async fn analysis_through_snapshot(db: &Db) {
    let s = open(db).await;
    s.write(&admin(), base(&["9.!", "9.XXXX"]))
        .await
        .expect("base");
    let snap = s.snapshot();
    let a = snap.analyze("Internal-CSS", "2000", "2000").expect("DN");
    assert_eq!(a.partition, "Internal");
    let a = snap
        .analyze("Internal-CSS", "2000", "91234")
        .expect("closest");
    assert_eq!(a.pattern, "9.XXXX");
    assert_eq!(a.called, "1234");
    assert_eq!(
        a.route.as_ref().map(|r| r.trunks().collect::<Vec<_>>()),
        Some(vec!["pstn-out"])
    );
    assert!(
        snap.analyze("Reroute-CSS", "", "2000").is_err(),
        "Internal is not in the reroute CSS"
    );
    assert_eq!(
        snap.line_by_number("+1 408 200 2000")
            .map(|l| l.dn.as_str()),
        Some("2000")
    );
}

async fn csv_round_trip_of_10000_users_is_exact(db: &Db) {
    use tether_store::bulk;
    let s = open(db).await;
    let mut csv = String::from(
        "id,name,mobility_enabled,cti_enabled,max_remote_destinations,admin,password,associated_devices\n",
    );
    for i in 0..10_000 {
        // Names exercise quoting: commas, quotes and non-ASCII text.
        let name = match i % 4 {
            0 => format!("User {i}"),
            1 => format!("\"Doe, Jane {i}\""),
            2 => format!("\"O\"\"Brien {i}\""),
            _ => format!("Zoë Ångström {i}"),
        };
        csv.push_str(&format!(
            "u{i:05},{name},{},{},{},{},,\n",
            i % 2 == 0,
            i % 3 == 0,
            i % 11,
            i % 97 == 0
        ));
    }
    let dry = bulk::import(&s, Kind::User, &csv, true)
        .await
        .expect("dry run");
    assert!(dry.errors.is_empty(), "{:?}", dry.errors.first());
    assert_eq!(
        (dry.rows, dry.created, dry.committed),
        (10_000, 10_000, false)
    );
    assert_eq!(
        s.snapshot().data().count(Kind::User),
        0,
        "a dry run commits nothing"
    );

    let report = bulk::import(&s, Kind::User, &csv, false)
        .await
        .expect("import");
    assert!(report.committed && report.errors.is_empty());
    assert_eq!(bulk::export(&s, Kind::User).expect("export"), csv);
    drop(s);
    let s = open(db).await;
    assert_eq!(
        bulk::export(&s, Kind::User).expect("export after reopen"),
        csv
    );
    // Importing the same file again updates every row and changes nothing.
    let again = bulk::import(&s, Kind::User, &csv, false)
        .await
        .expect("re-import");
    assert_eq!((again.created, again.updated), (0, 10_000));
    assert_eq!(bulk::export(&s, Kind::User).expect("export"), csv);
}

async fn csv_errors_are_reported_per_row_and_nothing_commits(db: &Db) {
    use tether_store::bulk;
    let s = open(db).await;
    s.write(&admin(), base(&["9.!"])).await.expect("base");
    // Row 3 does not decode; every other row does.
    let bad = "device,name,number,active\nCTRIDalice,a,914085550001,true\nCTRIDalice,b,914085550002,maybe\n";
    let r = bulk::import(&s, Kind::RemoteDestination, bad, false)
        .await
        .expect("report");
    assert!(!r.committed);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(
        (r.errors[0].row, r.errors[0].field.as_deref()),
        (Some(3), Some("active"))
    );
    // Rows decode, but row 3 is a DN and row 4 names a device that does not exist.
    let bad = "device,name,number\nCTRIDalice,a,914085550001\nCTRIDalice,b,2000\nCTRIDnobody,c,914085550003\n";
    let r = bulk::import(&s, Kind::RemoteDestination, bad, false)
        .await
        .expect("report");
    assert!(!r.committed);
    let rows: Vec<_> = r.errors.iter().map(|e| (e.row, e.code)).collect();
    assert!(
        rows.contains(&(Some(3), Code::RdIsDirectoryNumber)),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(Some(4), Code::UnknownReference)),
        "{rows:?}"
    );
    assert_eq!(
        s.snapshot().remote_destinations_of("CTRIDalice").count(),
        0,
        "all or nothing"
    );
    // Unknown columns and missing key columns are refused before any row is read.
    let r = bulk::import(&s, Kind::RemoteDestination, "device,nombre,number\n", false)
        .await
        .expect("report");
    assert!(r
        .errors
        .iter()
        .any(|e| e.field.as_deref() == Some("nombre")));
    assert!(r.errors.iter().any(|e| e.field.as_deref() == Some("name")));
}

/// Two stores on one database stand for two cluster nodes. Each checks its rules against the
/// newest committed data, so racing writers of equivalent numbers cannot both win, and a node
/// sees the other's writes after `refresh`.
async fn two_nodes_never_commit_conflicting_rds(db: &Db) {
    let a = open(db).await;
    let mut b0 = base(&["9.!"]);
    b0.push(Change::Create(user("bob", true)));
    b0.push(Change::Create(device("CTRIDbob", "bob")));
    a.write(&admin(), b0).await.expect("base");
    let b = open(db).await;
    assert!(b.snapshot().device("CTRIDbob").is_some());

    // Node A commits; node B has not looked since, yet its write is checked against A's.
    a.write(
        &admin(),
        vec![Change::Create(rd("CTRIDalice", "Mobile", "+14085550100"))],
    )
    .await
    .expect("a");
    let e = b
        .write(
            &admin(),
            vec![Change::Create(rd("CTRIDbob", "Mobile", "914085550100"))],
        )
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![Code::DuplicateRemoteDestination]);
    assert!(b
        .snapshot()
        .remote_destination_by_number("+14085550100")
        .is_some());

    // Racing writes of the same number from both nodes: exactly one commits.
    let origin = admin();
    let (ra, rb) = tokio::join!(
        a.write(
            &origin,
            vec![Change::Create(rd("CTRIDalice", "Home", "+14085550200"))]
        ),
        b.write(
            &origin,
            vec![Change::Create(rd("CTRIDbob", "Home", "91-408-555-0200"))]
        ),
    );
    assert_eq!(ra.is_ok() as u8 + rb.is_ok() as u8, 1, "{ra:?} {rb:?}");
    let loser = if ra.is_ok() { rb } else { ra };
    assert_eq!(
        codes(loser.unwrap_err()),
        vec![Code::DuplicateRemoteDestination]
    );
    assert!(
        !a.refresh().await.expect("refresh") || a.snapshot().version() == b.snapshot().version()
    );
    assert_eq!(a.snapshot().version(), b.snapshot().version());
}

fn cdr(id: u64, calling: &str, called: &str, at_ms: u64) -> CdrRow {
    CdrRow {
        cdr_record_type: 1,
        global_call_id: id.to_string(),
        orig_leg_call_identifier: format!("leg{id}@test"),
        date_time_origination: at_ms,
        date_time_disconnect: at_ms + 5_000,
        calling_party_number: calling.into(),
        original_called_party_number: called.into(),
        final_called_party_number: if called == "2000" {
            "2000".into()
        } else {
            format!("9{called}")
        },
        dest_cause_value: 16,
        orig_span: "pstn-sim-in".into(),
        final_mobile_called_party_number: "+14157777777".into(),
        ..CdrRow::default()
    }
}

async fn cdrs_batch_insert_filters_and_paging(db: &Db) {
    let store = open(db).await;
    assert_eq!(store.last_global_call_id().await.expect("empty max"), None);
    let t0 = 1_700_000_000_000u64;
    // 1201 rows in one call: more than one INSERT statement's worth, one transaction.
    let rows: Vec<CdrRow> = (1..=1201u64)
        .map(|i| {
            let calling = if i % 3 == 0 {
                "4085551234"
            } else {
                "4085550000"
            };
            let called = if i % 2 == 0 { "2000" } else { "5551212" };
            cdr(i, calling, called, t0 + i * 1000)
        })
        .collect();
    store.insert_cdrs(&rows).await.expect("insert");
    store.insert_cdrs(&[]).await.expect("nothing to insert");
    assert_eq!(
        store.last_global_call_id().await.expect("max"),
        Some(1201),
        "numeric, not text, order"
    );

    let all = |offset, limit| CdrFilter {
        offset,
        limit,
        ..CdrFilter::default()
    };
    let page = store.list_cdrs(&all(0, 10)).await.expect("page");
    assert_eq!(page.total, 1201);
    assert_eq!(page.items.len(), 10);
    let first = &page.items[0];
    assert!(first.id > 0, "the database assigns ids");
    assert_eq!(
        CdrRow {
            id: 0,
            ..first.clone()
        },
        rows[0],
        "every column round-trips"
    );
    let last = store.list_cdrs(&all(1200, 10)).await.expect("last page");
    assert_eq!(last.items.len(), 1);
    assert_eq!(last.items[0].global_call_id, "1201");

    let by_id = store
        .list_cdrs(&CdrFilter {
            global_call_id: Some("77".into()),
            limit: 10,
            ..CdrFilter::default()
        })
        .await
        .expect("by id");
    assert_eq!(
        (
            by_id.total,
            by_id.items[0].orig_leg_call_identifier.as_str()
        ),
        (1, "leg77@test")
    );

    let calling = store
        .list_cdrs(&CdrFilter {
            calling: Some("4085551234".into()),
            limit: 1000,
            ..CdrFilter::default()
        })
        .await
        .expect("calling");
    assert_eq!(calling.total, 400);
    // `called` matches the original or the final called number.
    let called = store
        .list_cdrs(&CdrFilter {
            called: Some("95551212".into()),
            limit: 1,
            ..CdrFilter::default()
        })
        .await
        .expect("final called");
    assert_eq!(called.total, 601);
    let called = store
        .list_cdrs(&CdrFilter {
            called: Some("2000".into()),
            calling: Some("4085551234".into()),
            limit: 1,
            ..CdrFilter::default()
        })
        .await
        .expect("both");
    assert_eq!(called.total, 200);
    // Time range: from inclusive, to exclusive.
    let range = store
        .list_cdrs(&CdrFilter {
            from_ms: Some(t0 + 10_000),
            to_ms: Some(t0 + 20_000),
            limit: 100,
            ..CdrFilter::default()
        })
        .await
        .expect("range");
    let ids: Vec<&str> = range
        .items
        .iter()
        .map(|r| r.global_call_id.as_str())
        .collect();
    assert_eq!(ids, (10..20).map(|i| i.to_string()).collect::<Vec<_>>());

    let csv = tether_store::cdr::to_csv(&range.items).expect("csv");
    assert_eq!(csv.lines().count(), 11);
    assert!(csv
        .lines()
        .nth(1)
        .expect("row")
        .starts_with("1,10,leg10@test,1700000010,pstn-sim-in,"));

    // Another handle on the same database (a restarted node) sees them.
    let again = open(db).await;
    assert_eq!(again.last_global_call_id().await.expect("max"), Some(1201));
}

async fn subscribers_see_writes_and_refreshes(db: &Db) {
    let a = open(db).await;
    let mut rx = a.subscribe();
    let v0 = *rx.borrow_and_update();
    assert_eq!(v0, a.snapshot().version());
    a.write(&admin(), base(&["9.!"])).await.expect("write");
    assert!(
        rx.has_changed().expect("sender alive"),
        "a committed write notifies"
    );
    assert_eq!(*rx.borrow_and_update(), a.snapshot().version());
    a.dry_run(&admin(), vec![Change::Create(user("zed", false))])
        .await
        .expect("dry run");
    assert!(
        !rx.has_changed().expect("alive"),
        "a dry run changes nothing"
    );
    assert!(a
        .write(&admin(), vec![Change::Create(user("alice", true))])
        .await
        .is_err());
    assert!(
        !rx.has_changed().expect("alive"),
        "a refused write changes nothing"
    );

    // Another node's write reaches this one's subscribers through refresh().
    let b = open(db).await;
    b.write(&admin(), vec![Change::Create(user("zed", false))])
        .await
        .expect("b");
    assert!(!rx.has_changed().expect("alive"));
    assert!(a.refresh().await.expect("refresh"));
    assert!(rx.has_changed().expect("alive"));
    assert_eq!(*rx.borrow_and_update(), b.snapshot().version());
    assert!(!a.refresh().await.expect("nothing new"));
    assert!(!rx.has_changed().expect("alive"));
}
