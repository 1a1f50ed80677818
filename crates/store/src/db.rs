//! The database behind the store: one sqlx `Any` pool that speaks SQLite (the embedded default)
//! or PostgreSQL (clusters), with versioned migrations per backend, a full load at start-up and
//! the statements of one write batch in one transaction.
//!
//! Statements are written once, with `$n` placeholders, which both drivers accept. Booleans are
//! stored as 0/1 and integers as BIGINT so the rows decode the same way on both.

use std::borrow::Cow;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

use crate::error::StoreError;
use crate::model::*;
use crate::provisioning::Provisioning;

/// Which engine a URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

macro_rules! migrations {
    ($($version:literal $dir:literal $file:literal $name:literal),* $(,)?) => {
        vec![$(Migration::new(
            $version,
            Cow::Borrowed($name),
            MigrationType::Simple,
            Cow::Borrowed(include_str!(concat!("../migrations/", $dir, "/", $file, "_", $name, ".sql"))),
            false,
        )),*]
    };
}

fn migrator(backend: Backend) -> Migrator {
    let list = match backend {
        Backend::Sqlite => {
            migrations!(1 "common" "0001" "provisioning", 2 "sqlite" "0002" "cdr", 3 "common" "0003" "version", 4 "common" "0004" "user_devices")
        }
        Backend::Postgres => {
            migrations!(1 "common" "0001" "provisioning", 2 "postgres" "0002" "cdr", 3 "common" "0003" "version", 4 "common" "0004" "user_devices")
        }
    };
    Migrator {
        migrations: Cow::Owned(list),
        ..Migrator::DEFAULT
    }
}

pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Opens (creating a SQLite file if needed) and migrates.
    pub async fn open(url: &str) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url).ok_or_else(|| {
            StoreError::Config(format!(
                "database URL {url:?} is neither sqlite:… nor postgres://…"
            ))
        })?;
        let url = match backend {
            // Create the file on first start.
            Backend::Sqlite if !url.contains("mode=") => {
                if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                }
            }
            _ => url.to_owned(),
        };
        let mut options = AnyPoolOptions::new().max_connections(match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        });
        if backend == Backend::Sqlite {
            // Per-connection settings: wait for the writer instead of failing, and with WAL
            // an fsync per checkpoint rather than per commit is still crash-safe.
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("PRAGMA busy_timeout = 5000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
        if backend == Backend::Sqlite {
            // WAL is a property of the database file: readers never block the writer.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        migrator(backend)
            .run(&pool)
            .await
            .map_err(StoreError::Migration)?;
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The number of provisioning writes committed so far (by any node).
    pub async fn version(&self) -> Result<u64, StoreError> {
        let v: i64 = sqlx::query("SELECT version FROM provisioning_version WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get("version")?;
        u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("provisioning_version = {v}")))
    }

    /// Reads the whole provisioning data set and the version it is at, as one consistent view.
    pub async fn load(&self) -> Result<(Provisioning, u64), StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // Every SELECT below must see the same committed state.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let v: i64 = sqlx::query("SELECT version FROM provisioning_version WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?
            .try_get("version")?;
        let version = u64::try_from(v)
            .map_err(|_| StoreError::Corrupt(format!("provisioning_version = {v}")))?;
        let p = Self::load_tables(&mut tx).await?;
        tx.commit().await?;
        Ok((p, version))
    }

    async fn load_tables(tx: &mut Tx<'_>) -> Result<Provisioning, StoreError> {
        let mut p = Provisioning::default();
        let pool = &mut **tx;

        for r in sqlx::query("SELECT id, name, mobility_enabled, cti_enabled, max_remote_destinations, admin, password_hash FROM users").fetch_all(&mut *pool).await? {
            let user = User {
                id: s(&r, "id")?,
                name: s(&r, "name")?,
                mobility_enabled: b(&r, "mobility_enabled")?,
                cti_enabled: b(&r, "cti_enabled")?,
                max_remote_destinations: u(&r, "max_remote_destinations")?,
                admin: b(&r, "admin")?,
                associated_devices: Vec::new(),
                password: None,
            };
            if let Some(h) = os(&r, "password_hash")? {
                std::sync::Arc::make_mut(&mut p.password_hashes).insert(user.id.clone(), h);
            }
            p.put(Object::User(user));
        }
        for r in sqlx::query("SELECT user_id, device FROM user_devices ORDER BY user_id, position")
            .fetch_all(&mut *pool)
            .await?
        {
            let id = s(&r, "user_id")?;
            match std::sync::Arc::make_mut(&mut p.users).get_mut(&id) {
                Some(u) => u.associated_devices.push(s(&r, "device")?),
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "user_devices names unknown user {id}"
                    )))
                }
            }
        }
        for r in sqlx::query("SELECT name, description FROM partitions")
            .fetch_all(&mut *pool)
            .await?
        {
            p.put(Object::Partition(Partition {
                name: s(&r, "name")?,
                description: s(&r, "description")?,
            }));
        }
        for r in sqlx::query("SELECT name, description FROM css")
            .fetch_all(&mut *pool)
            .await?
        {
            p.put(Object::Css(Css {
                name: s(&r, "name")?,
                description: s(&r, "description")?,
                partitions: Vec::new(),
            }));
        }
        for r in sqlx::query("SELECT css, partition FROM css_members ORDER BY css, position")
            .fetch_all(&mut *pool)
            .await?
        {
            let css = s(&r, "css")?;
            let part = s(&r, "partition")?;
            match std::sync::Arc::make_mut(&mut p.css).get_mut(&css) {
                Some(c) => c.partitions.push(part),
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "css_members names unknown css {css}"
                    )))
                }
            }
        }
        for r in sqlx::query("SELECT name, kind, owner, description, display_name, css, reroute_css, route_to_all_rds_when_none_active, sip_username, sip_password FROM devices").fetch_all(&mut *pool).await? {
            let kind_s = s(&r, "kind")?;
            let kind = DeviceKind::parse(&kind_s).ok_or_else(|| StoreError::Corrupt(format!("devices.kind {kind_s:?}")))?;
            p.put(Object::Device(Device {
                name: s(&r, "name")?,
                kind,
                owner: os(&r, "owner")?,
                description: s(&r, "description")?,
                display_name: s(&r, "display_name")?,
                css: os(&r, "css")?,
                reroute_css: os(&r, "reroute_css")?,
                route_to_all_rds_when_none_active: b(&r, "route_to_all_rds_when_none_active")?,
                sip_username: os(&r, "sip_username")?,
                sip_password: os(&r, "sip_password")?,
            }));
        }
        for r in sqlx::query("SELECT partition, dn, device, position, e164, directory_uri, display_name, call_forward_all, dnd FROM lines").fetch_all(&mut *pool).await? {
            p.put(Object::Line(Line {
                partition: s(&r, "partition")?,
                dn: s(&r, "dn")?,
                device: s(&r, "device")?,
                position: u(&r, "position")?,
                e164: os(&r, "e164")?,
                directory_uri: os(&r, "directory_uri")?,
                display_name: s(&r, "display_name")?,
                call_forward_all: os(&r, "call_forward_all")?,
                dnd: b(&r, "dnd")?,
            }));
        }
        for r in sqlx::query("SELECT device, name, number, active, ring_schedule, answer_too_soon_ms, answer_too_late_ms, delay_before_ringing_ms FROM remote_destinations").fetch_all(&mut *pool).await? {
            p.put(Object::RemoteDestination(RemoteDestination {
                device: s(&r, "device")?,
                name: s(&r, "name")?,
                number: s(&r, "number")?,
                active: b(&r, "active")?,
                ring_schedule: os(&r, "ring_schedule")?,
                answer_too_soon_ms: u(&r, "answer_too_soon_ms")?,
                answer_too_late_ms: u(&r, "answer_too_late_ms")?,
                delay_before_ringing_ms: u(&r, "delay_before_ringing_ms")?,
            }));
        }
        for r in sqlx::query(
            "SELECT name, kind, peer, did, hunting, channels, inbound_css, cause_map FROM trunks",
        )
        .fetch_all(&mut *pool)
        .await?
        {
            let kind_s = s(&r, "kind")?;
            let hunting_s = s(&r, "hunting")?;
            let map_s = s(&r, "cause_map")?;
            p.put(Object::Trunk(Trunk {
                name: s(&r, "name")?,
                kind: TrunkKind::parse(&kind_s)
                    .ok_or_else(|| StoreError::Corrupt(format!("trunks.kind {kind_s:?}")))?,
                peer: s(&r, "peer")?,
                did: os(&r, "did")?,
                hunting: Hunting::parse(&hunting_s)
                    .ok_or_else(|| StoreError::Corrupt(format!("trunks.hunting {hunting_s:?}")))?,
                channels: ou(&r, "channels")?,
                inbound_css: os(&r, "inbound_css")?,
                cause_map: serde_json::from_str(&map_s)
                    .map_err(|e| StoreError::Corrupt(format!("trunks.cause_map: {e}")))?,
            }));
        }
        for r in sqlx::query("SELECT name, distribution FROM route_groups")
            .fetch_all(&mut *pool)
            .await?
        {
            let d = s(&r, "distribution")?;
            p.put(Object::RouteGroup(RouteGroup {
                name: s(&r, "name")?,
                distribution: Distribution::parse(&d).ok_or_else(|| {
                    StoreError::Corrupt(format!("route_groups.distribution {d:?}"))
                })?,
                trunks: Vec::new(),
            }));
        }
        for r in sqlx::query(
            "SELECT route_group, trunk FROM route_group_members ORDER BY route_group, position",
        )
        .fetch_all(&mut *pool)
        .await?
        {
            let g = s(&r, "route_group")?;
            match std::sync::Arc::make_mut(&mut p.route_groups).get_mut(&g) {
                Some(x) => x.trunks.push(s(&r, "trunk")?),
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "route_group_members names unknown group {g}"
                    )))
                }
            }
        }
        for r in sqlx::query("SELECT name, description FROM route_lists")
            .fetch_all(&mut *pool)
            .await?
        {
            p.put(Object::RouteList(RouteList {
                name: s(&r, "name")?,
                description: s(&r, "description")?,
                groups: Vec::new(),
            }));
        }
        for r in sqlx::query(
            "SELECT route_list, route_group FROM route_list_members ORDER BY route_list, position",
        )
        .fetch_all(&mut *pool)
        .await?
        {
            let l = s(&r, "route_list")?;
            match std::sync::Arc::make_mut(&mut p.route_lists).get_mut(&l) {
                Some(x) => x.groups.push(s(&r, "route_group")?),
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "route_list_members names unknown list {l}"
                    )))
                }
            }
        }
        for r in sqlx::query("SELECT partition, pattern, kind, description, route_list, css, called_discard_predot, called_prefix, called_mask, calling_prefix, calling_mask FROM patterns").fetch_all(&mut *pool).await? {
            let k = s(&r, "kind")?;
            p.put(Object::Pattern(Pattern {
                partition: s(&r, "partition")?,
                pattern: s(&r, "pattern")?,
                kind: PatternKind::parse(&k).ok_or_else(|| StoreError::Corrupt(format!("patterns.kind {k:?}")))?,
                description: s(&r, "description")?,
                route_list: os(&r, "route_list")?,
                css: os(&r, "css")?,
                called: Transformation { discard_predot: b(&r, "called_discard_predot")?, prefix: s(&r, "called_prefix")?, mask: os(&r, "called_mask")? },
                calling: Transformation { discard_predot: false, prefix: s(&r, "calling_prefix")?, mask: os(&r, "calling_mask")? },
            }));
        }
        for r in sqlx::query("SELECT name, begins_with, num_digits, digits_to_remove, prefix, priority FROM dial_rules").fetch_all(&mut *pool).await? {
            p.put(Object::DialRule(DialRule {
                name: s(&r, "name")?,
                begins_with: s(&r, "begins_with")?,
                num_digits: ou(&r, "num_digits")?,
                digits_to_remove: u(&r, "digits_to_remove")?,
                prefix: s(&r, "prefix")?,
                priority: u(&r, "priority")?,
            }));
        }
        for r in sqlx::query("SELECT id, name, file FROM announcements")
            .fetch_all(&mut *pool)
            .await?
        {
            p.put(Object::Announcement(Announcement {
                id: s(&r, "id")?,
                name: s(&r, "name")?,
                file: s(&r, "file")?,
            }));
        }
        Ok(p)
    }

    /// Writes a batch in one transaction, on top of version `expected` only: returns
    /// `Ok(false)` and writes nothing if another writer committed since. `rows` gives, for each
    /// change, the object as it must be stored (for deletes: None) and the values the store
    /// computed beside it.
    pub async fn apply(&self, expected: u64, rows: &[Row_]) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // First statement: takes the row lock, so concurrent writers queue here.
        let bumped = sqlx::query(
            "UPDATE provisioning_version SET version = version + 1 WHERE id = 1 AND version = $1",
        )
        .bind(i64::try_from(expected).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if bumped != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for row in rows {
            delete(&mut tx, row.kind, &row.key).await?;
            if let Some(obj) = &row.object {
                insert(&mut tx, obj, &row.extra).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// One stored change: delete whatever has `key`, then insert `object` if any.
#[derive(Clone, Debug)]
pub struct Row_ {
    pub kind: Kind,
    pub key: Key,
    pub object: Option<Object>,
    pub extra: Extra,
}

/// Values stored beside an object that are not part of it.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// Users: the password hash to keep.
    pub password_hash: Option<String>,
    /// RDs: the equivalence key of the number (the cluster-wide unique index).
    pub number_key: Option<String>,
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

async fn exec<'q>(
    tx: &mut Tx<'_>,
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<(), StoreError> {
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn delete(tx: &mut Tx<'_>, kind: Kind, key: &Key) -> Result<(), StoreError> {
    let parts = key.parts();
    let a = parts.first().copied().unwrap_or("").to_owned();
    let b = parts.get(1).copied().unwrap_or("").to_owned();
    let (sql, children): (&str, &[&str]) = match kind {
        Kind::User => (
            "DELETE FROM users WHERE id = $1",
            &["DELETE FROM user_devices WHERE user_id = $1"],
        ),
        Kind::Partition => ("DELETE FROM partitions WHERE name = $1", &[]),
        Kind::Css => (
            "DELETE FROM css WHERE name = $1",
            &["DELETE FROM css_members WHERE css = $1"],
        ),
        Kind::Device => ("DELETE FROM devices WHERE name = $1", &[]),
        Kind::Line => ("DELETE FROM lines WHERE partition = $1 AND dn = $2", &[]),
        Kind::RemoteDestination => (
            "DELETE FROM remote_destinations WHERE device = $1 AND name = $2",
            &[],
        ),
        Kind::Trunk => ("DELETE FROM trunks WHERE name = $1", &[]),
        Kind::RouteGroup => (
            "DELETE FROM route_groups WHERE name = $1",
            &["DELETE FROM route_group_members WHERE route_group = $1"],
        ),
        Kind::RouteList => (
            "DELETE FROM route_lists WHERE name = $1",
            &["DELETE FROM route_list_members WHERE route_list = $1"],
        ),
        Kind::Pattern => (
            "DELETE FROM patterns WHERE partition = $1 AND pattern = $2",
            &[],
        ),
        Kind::DialRule => ("DELETE FROM dial_rules WHERE name = $1", &[]),
        Kind::Announcement => ("DELETE FROM announcements WHERE id = $1", &[]),
    };
    for c in children {
        exec(tx, sqlx::query(c).bind(a.clone())).await?;
    }
    let q = sqlx::query(sql).bind(a);
    let q = if matches!(key, Key::Two(..)) {
        q.bind(b)
    } else {
        q
    };
    exec(tx, q).await
}

fn i(v: u32) -> i64 {
    i64::from(v)
}
fn bo(v: bool) -> i64 {
    i64::from(v)
}

async fn insert(tx: &mut Tx<'_>, obj: &Object, extra: &Extra) -> Result<(), StoreError> {
    match obj {
        Object::User(o) => {
            exec(tx, sqlx::query("INSERT INTO users (id, name, mobility_enabled, cti_enabled, max_remote_destinations, admin, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(o.id.clone()).bind(o.name.clone()).bind(bo(o.mobility_enabled)).bind(bo(o.cti_enabled)).bind(i(o.max_remote_destinations)).bind(bo(o.admin)).bind(extra.password_hash.clone())).await?;
            for (n, d) in o.associated_devices.iter().enumerate() {
                exec(tx, sqlx::query("INSERT INTO user_devices (user_id, position, device) VALUES ($1, $2, $3)").bind(o.id.clone()).bind(n as i64).bind(d.clone())).await?;
            }
            Ok(())
        }
        Object::Partition(o) => exec(tx, sqlx::query("INSERT INTO partitions (name, description) VALUES ($1, $2)").bind(o.name.clone()).bind(o.description.clone())).await,
        Object::Css(o) => {
            exec(tx, sqlx::query("INSERT INTO css (name, description) VALUES ($1, $2)").bind(o.name.clone()).bind(o.description.clone())).await?;
            for (n, p) in o.partitions.iter().enumerate() {
                exec(tx, sqlx::query("INSERT INTO css_members (css, position, partition) VALUES ($1, $2, $3)").bind(o.name.clone()).bind(n as i64).bind(p.clone())).await?;
            }
            Ok(())
        }
        Object::Device(o) => exec(tx, sqlx::query("INSERT INTO devices (name, kind, owner, description, display_name, css, reroute_css, route_to_all_rds_when_none_active, sip_username, sip_password) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(o.name.clone()).bind(o.kind.as_str()).bind(o.owner.clone()).bind(o.description.clone()).bind(o.display_name.clone()).bind(o.css.clone()).bind(o.reroute_css.clone()).bind(bo(o.route_to_all_rds_when_none_active)).bind(o.sip_username.clone()).bind(o.sip_password.clone())).await,
        Object::Line(o) => exec(tx, sqlx::query("INSERT INTO lines (partition, dn, device, position, e164, directory_uri, display_name, call_forward_all, dnd) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(o.partition.clone()).bind(o.dn.clone()).bind(o.device.clone()).bind(i(o.position)).bind(o.e164.clone()).bind(o.directory_uri.clone()).bind(o.display_name.clone()).bind(o.call_forward_all.clone()).bind(bo(o.dnd))).await,
        Object::RemoteDestination(o) => exec(tx, sqlx::query("INSERT INTO remote_destinations (device, name, number, number_key, active, ring_schedule, answer_too_soon_ms, answer_too_late_ms, delay_before_ringing_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(o.device.clone()).bind(o.name.clone()).bind(o.number.clone()).bind(extra.number_key.clone().unwrap_or_else(|| o.number.clone())).bind(bo(o.active)).bind(o.ring_schedule.clone()).bind(i(o.answer_too_soon_ms)).bind(i(o.answer_too_late_ms)).bind(i(o.delay_before_ringing_ms))).await,
        Object::Trunk(o) => {
            let map = serde_json::to_string(&o.cause_map).unwrap_or_else(|_| "[]".into());
            exec(tx, sqlx::query("INSERT INTO trunks (name, kind, peer, did, hunting, channels, inbound_css, cause_map) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(o.name.clone()).bind(o.kind.as_str()).bind(o.peer.clone()).bind(o.did.clone()).bind(o.hunting.as_str()).bind(o.channels.map(i)).bind(o.inbound_css.clone()).bind(map)).await
        }
        Object::RouteGroup(o) => {
            exec(tx, sqlx::query("INSERT INTO route_groups (name, distribution) VALUES ($1, $2)").bind(o.name.clone()).bind(o.distribution.as_str())).await?;
            for (n, t) in o.trunks.iter().enumerate() {
                exec(tx, sqlx::query("INSERT INTO route_group_members (route_group, position, trunk) VALUES ($1, $2, $3)").bind(o.name.clone()).bind(n as i64).bind(t.clone())).await?;
            }
            Ok(())
        }
        Object::RouteList(o) => {
            exec(tx, sqlx::query("INSERT INTO route_lists (name, description) VALUES ($1, $2)").bind(o.name.clone()).bind(o.description.clone())).await?;
            for (n, g) in o.groups.iter().enumerate() {
                exec(tx, sqlx::query("INSERT INTO route_list_members (route_list, position, route_group) VALUES ($1, $2, $3)").bind(o.name.clone()).bind(n as i64).bind(g.clone())).await?;
            }
            Ok(())
        }
        Object::Pattern(o) => exec(tx, sqlx::query("INSERT INTO patterns (partition, pattern, kind, description, route_list, css, called_discard_predot, called_prefix, called_mask, calling_prefix, calling_mask) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(o.partition.clone()).bind(o.pattern.clone()).bind(o.kind.as_str()).bind(o.description.clone()).bind(o.route_list.clone()).bind(o.css.clone()).bind(bo(o.called.discard_predot)).bind(o.called.prefix.clone()).bind(o.called.mask.clone()).bind(o.calling.prefix.clone()).bind(o.calling.mask.clone())).await,
        Object::DialRule(o) => exec(tx, sqlx::query("INSERT INTO dial_rules (name, begins_with, num_digits, digits_to_remove, prefix, priority) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(o.name.clone()).bind(o.begins_with.clone()).bind(o.num_digits.map(i)).bind(i(o.digits_to_remove)).bind(o.prefix.clone()).bind(i(o.priority))).await,
        Object::Announcement(o) => exec(tx, sqlx::query("INSERT INTO announcements (id, name, file) VALUES ($1, $2, $3)").bind(o.id.clone()).bind(o.name.clone()).bind(o.file.clone())).await,
    }
}

fn s(r: &AnyRow, col: &str) -> Result<String, StoreError> {
    r.try_get::<String, _>(col).map_err(StoreError::from)
}
fn os(r: &AnyRow, col: &str) -> Result<Option<String>, StoreError> {
    r.try_get::<Option<String>, _>(col)
        .map_err(StoreError::from)
}
fn b(r: &AnyRow, col: &str) -> Result<bool, StoreError> {
    Ok(r.try_get::<i64, _>(col)? != 0)
}
fn u(r: &AnyRow, col: &str) -> Result<u32, StoreError> {
    let v = r.try_get::<i64, _>(col)?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{col} = {v} is out of range")))
}
fn ou(r: &AnyRow, col: &str) -> Result<Option<u32>, StoreError> {
    match r.try_get::<Option<i64>, _>(col)? {
        None => Ok(None),
        Some(v) => u32::try_from(v)
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("{col} = {v} is out of range"))),
    }
}
