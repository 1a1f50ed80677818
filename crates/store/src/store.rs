//! The store façade: snapshot reads, checked transactional writes, password checks.

use std::sync::Arc;

use arc_swap::ArcSwap;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use tether_dialplan::NumberingPlan;

use crate::db::{Db, Extra, Row_};
use crate::error::{Code, StoreError, Violation};
use crate::model::{Change, DeviceKind, Kind, Object, Origin, User};
use crate::rules;
use crate::snapshot::Snapshot;

/// What a write did (or, for a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WriteOutcome {
    /// The snapshot version after the write.
    pub version: u64,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

pub struct Store {
    db: Db,
    current: ArcSwap<Snapshot>,
    numbering: NumberingPlan,
    writer: tokio::sync::Mutex<()>,
    /// The version of the snapshot last swapped in, for [`Store::subscribe`].
    changed: tokio::sync::watch::Sender<u64>,
}

impl Store {
    /// Opens the database at `url` (`sqlite:tether.db`, `postgres://…`), runs the migrations and
    /// loads the snapshot.
    pub async fn open(url: &str, numbering: NumberingPlan) -> Result<Store, StoreError> {
        let db = Db::open(url).await?;
        let (data, version) = db.load().await?;
        let snapshot =
            Snapshot::build(data, numbering.clone(), version).map_err(StoreError::Rejected)?;
        let (changed, _) = tokio::sync::watch::channel(version);
        Ok(Store {
            db,
            current: ArcSwap::from_pointee(snapshot),
            numbering,
            writer: tokio::sync::Mutex::new(()),
            changed,
        })
    }

    /// Tells when the snapshot changes: the receiver sees the new snapshot's version after
    /// every committed write and every [`Store::refresh`] that loaded another node's writes.
    /// Cheap; the call path re-reads [`Store::snapshot`] when it fires.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Swaps in a new snapshot and tells the subscribers.
    fn publish(&self, snapshot: Snapshot) {
        let version = snapshot.version();
        self.current.store(Arc::new(snapshot));
        self.changed.send_replace(version);
    }

    /// Stores call detail records, all in one transaction.
    pub async fn insert_cdrs(&self, rows: &[crate::cdr::CdrRow]) -> Result<(), StoreError> {
        crate::cdr::insert(self.db.pool(), self.db.backend(), rows).await
    }

    /// One page of the call detail records `filter` selects.
    pub async fn list_cdrs(
        &self,
        filter: &crate::cdr::CdrFilter,
    ) -> Result<crate::cdr::CdrPage, StoreError> {
        crate::cdr::list(self.db.pool(), filter).await
    }

    /// The highest global call id among the stored CDRs.
    pub async fn last_global_call_id(&self) -> Result<Option<u64>, StoreError> {
        crate::cdr::last_global_call_id(self.db.pool()).await
    }

    /// The current read-only view. Cheap; hold it for as long as one decision needs it.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub fn backend(&self) -> crate::db::Backend {
        self.db.backend()
    }

    /// Re-reads the data set if another node sharing the database committed a write since this
    /// snapshot was built; returns whether it did. Cheap when nothing changed (one row read):
    /// `tether serve` polls it on PostgreSQL.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let _w = self.writer.lock().await;
        self.refresh_locked().await
    }

    async fn refresh_locked(&self) -> Result<bool, StoreError> {
        if self.db.version().await? == self.current.load().version() {
            return Ok(false);
        }
        let (data, version) = self.db.load().await?;
        let snapshot =
            Snapshot::build(data, self.numbering.clone(), version).map_err(StoreError::Rejected)?;
        self.publish(snapshot);
        Ok(true)
    }

    /// Checks and commits `changes` all or nothing.
    pub async fn write(
        &self,
        origin: &Origin,
        changes: Vec<Change>,
    ) -> Result<WriteOutcome, StoreError> {
        self.run(origin, changes, false).await
    }

    /// Checks `changes` exactly as [`Store::write`] would, and changes nothing.
    pub async fn dry_run(
        &self,
        origin: &Origin,
        changes: Vec<Change>,
    ) -> Result<WriteOutcome, StoreError> {
        self.run(origin, changes, true).await
    }

    /// The user, if `password` is theirs.
    pub fn authenticate(&self, user: &str, password: &str) -> Option<User> {
        let snap = self.snapshot();
        let hash = snap.password_hash(user)?;
        let parsed = PasswordHash::new(hash).ok()?;
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .ok()?;
        snap.user(user).cloned()
    }

    async fn run(
        &self,
        origin: &Origin,
        changes: Vec<Change>,
        dry_run: bool,
    ) -> Result<WriteOutcome, StoreError> {
        // Hash new passwords before taking the writer lock: Argon2 is slow on purpose.
        let mut hashes = Vec::new();
        for c in &changes {
            if let Change::Create(Object::User(u))
            | Change::Update(Object::User(u))
            | Change::Upsert(Object::User(u)) = c
            {
                if let Some(pw) = &u.password {
                    hashes.push((u.id.clone(), hash_password(pw)?));
                }
            }
        }

        let _w = self.writer.lock().await;
        // Optimistic concurrency with other nodes: check the rules against the newest data,
        // commit only on top of the version checked, and start over if someone got there first.
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.refresh_locked().await?;
            match self.attempt(origin, &changes, &hashes, dry_run).await? {
                Some(outcome) => return Ok(outcome),
                None if attempts < 5 => continue,
                None => {
                    return Err(StoreError::one(Violation::new(
                        Code::Database,
                        None,
                        "other writers kept committing first; try again",
                    )))
                }
            }
        }
    }

    /// One try of a write: `Ok(None)` when another writer committed first.
    async fn attempt(
        &self,
        origin: &Origin,
        changes: &[Change],
        hashes: &[(String, String)],
        dry_run: bool,
    ) -> Result<Option<WriteOutcome>, StoreError> {
        let before = self.current.load_full();
        let mut data = before.data().clone();
        let mut violations = Vec::new();
        let mut outcome = WriteOutcome::default();
        let mut rows = Vec::with_capacity(changes.len());

        for change in changes {
            let kind = change.kind();
            let key = change.key();
            let what = format!("{} {key}", kind_name(kind));
            if let Origin::EndUser(uid) = origin {
                if let Err(v) = end_user_may(&data, uid, change) {
                    violations.push(v.on(what));
                    continue;
                }
            }
            let exists = data.contains(kind, &key);
            match change {
                Change::Create(_) if exists => {
                    violations.push(
                        Violation::new(Code::AlreadyExists, None, format!("{what} already exists"))
                            .on(what),
                    );
                    continue;
                }
                Change::Update(_) | Change::Delete(..) if !exists => {
                    violations.push(
                        Violation::new(Code::NotFound, None, format!("{what} does not exist"))
                            .on(what),
                    );
                    continue;
                }
                _ => {}
            }
            match change {
                Change::Create(o) | Change::Update(o) | Change::Upsert(o) => {
                    if exists {
                        outcome.updated += 1;
                    } else {
                        outcome.created += 1;
                    }
                    data.put(o.clone());
                    rows.push(Row_ {
                        kind,
                        key,
                        object: Some(o.clone()),
                        extra: Extra::default(),
                    });
                }
                Change::Delete(k, key) => {
                    if let Some(v) = in_use(&data, *k, key) {
                        violations.push(v.on(what));
                        continue;
                    }
                    outcome.deleted += 1;
                    data.remove(*k, key);
                    rows.push(Row_ {
                        kind,
                        key: key.clone(),
                        object: None,
                        extra: Extra::default(),
                    });
                }
            }
        }
        for (id, hash) in hashes {
            Arc::make_mut(&mut data.password_hashes).insert(id.clone(), hash.clone());
        }
        if !violations.is_empty() {
            return Err(StoreError::Rejected(violations));
        }

        let version = before.version() + 1;
        let after =
            Snapshot::build(data, self.numbering.clone(), version).map_err(StoreError::Rejected)?;

        if matches!(origin, Origin::EndUser(_)) {
            for c in changes {
                if let Change::Create(Object::RemoteDestination(rd))
                | Change::Update(Object::RemoteDestination(rd))
                | Change::Upsert(Object::RemoteDestination(rd)) = c
                {
                    // Verification is for numbers being added: an RD whose number did not
                    // change (only its active flag or timers did) is not verified again, so a
                    // user can always deactivate an RD a later dial-plan change made unreachable.
                    let unchanged = before
                        .data()
                        .remote_destinations
                        .get(&(rd.device.clone(), rd.name.clone()))
                        .is_some_and(|old| old.number == rd.number);
                    if unchanged {
                        continue;
                    }
                    if let Err(v) = rules::check_reachable(&after, rd) {
                        violations.push(v);
                    }
                }
            }
            if !violations.is_empty() {
                return Err(StoreError::Rejected(violations));
            }
        }

        outcome.version = if dry_run { before.version() } else { version };
        if dry_run {
            return Ok(Some(outcome));
        }
        for row in &mut rows {
            match &row.object {
                Some(Object::User(u)) => {
                    row.extra.password_hash = after.password_hash(&u.id).map(str::to_owned);
                }
                Some(Object::RemoteDestination(rd)) => {
                    row.extra.number_key = rules::rd_number_key(after.numbering(), &rd.number)
                        .ok()
                        .map(|k| match k {
                            rules::RdKey::Number(n) => n.as_str().to_owned(),
                            rules::RdKey::Uri(u) => format!("uri:{u}"),
                        });
                }
                _ => {}
            }
        }
        let committed = self
            .db
            .apply(before.version(), &rows)
            .await
            .map_err(|e| match e {
                StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    StoreError::one(Violation::new(
                        Code::AlreadyExists,
                        None,
                        format!(
                            "another writer stored a conflicting object first: {}",
                            db.message()
                        ),
                    ))
                }
                other => other,
            })?;
        if !committed {
            return Ok(None);
        }
        self.publish(after);
        Ok(Some(outcome))
    }
}

fn kind_name(kind: Kind) -> &'static str {
    kind.name()
}

fn hash_password(pw: &str) -> Result<String, StoreError> {
    if pw.is_empty() {
        return Err(StoreError::one(Violation::new(
            Code::InvalidField,
            Some("password"),
            "password is empty",
        )));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            StoreError::one(Violation::new(
                Code::InvalidField,
                Some("password"),
                e.to_string(),
            ))
        })
}

/// End users may only manage the remote destinations of CTI remote devices they own or are
/// associated with.
fn end_user_may(
    data: &crate::provisioning::Provisioning,
    uid: &str,
    change: &Change,
) -> Result<(), Violation> {
    let device = match change {
        Change::Create(Object::RemoteDestination(rd))
        | Change::Update(Object::RemoteDestination(rd))
        | Change::Upsert(Object::RemoteDestination(rd)) => rd.device.clone(),
        Change::Delete(Kind::RemoteDestination, crate::model::Key::Two(device, _)) => {
            device.clone()
        }
        _ => {
            return Err(Violation::new(
                Code::Forbidden,
                None,
                "end users may only manage the remote destinations of their own devices",
            ))
        }
    };
    let associated = |d: &crate::model::Device| {
        data.users
            .get(uid)
            .is_some_and(|u| u.associated_devices.contains(&d.name))
    };
    match data.devices.get(&device) {
        Some(d)
            if (d.owner.as_deref() == Some(uid) || associated(d))
                && d.kind == DeviceKind::CtiRemoteDevice =>
        {
            Ok(())
        }
        Some(_) => Err(Violation::new(
            Code::Forbidden,
            Some("device"),
            format!("device {device} is not yours"),
        )),
        None => Err(Violation::new(
            Code::UnknownReference,
            Some("device"),
            format!("device {device} does not exist"),
        )),
    }
}

/// Why `kind key` cannot be deleted: another object still refers to it.
fn in_use(
    data: &crate::provisioning::Provisioning,
    kind: Kind,
    key: &crate::model::Key,
) -> Option<Violation> {
    use crate::model::Key;
    let used = |by: String| {
        Some(Violation::new(
            Code::InUse,
            None,
            format!("{} {key} is used by {by}", kind_name(kind)),
        ))
    };
    let Key::One(name) = key else {
        return None; // lines, RDs and patterns are referred to by nothing
    };
    let name = name.as_str();
    match kind {
        Kind::User => {
            if let Some(d) = data
                .devices
                .values()
                .find(|d| d.owner.as_deref() == Some(name))
            {
                return used(format!("device {}", d.name));
            }
        }
        Kind::Partition => {
            if let Some(l) = data.lines.values().find(|l| l.partition == name) {
                return used(format!("line {}/{}", l.partition, l.dn));
            }
            if let Some(p) = data.patterns.values().find(|p| p.partition == name) {
                return used(format!("pattern {}/{}", p.partition, p.pattern));
            }
            if let Some(c) = data
                .css
                .values()
                .find(|c| c.partitions.iter().any(|p| p == name))
            {
                return used(format!("css {}", c.name));
            }
        }
        Kind::Css => {
            let n = Some(name);
            if let Some(d) = data
                .devices
                .values()
                .find(|d| d.css.as_deref() == n || d.reroute_css.as_deref() == n)
            {
                return used(format!("device {}", d.name));
            }
            if let Some(t) = data.trunks.values().find(|t| t.inbound_css.as_deref() == n) {
                return used(format!("trunk {}", t.name));
            }
            if let Some(p) = data.patterns.values().find(|p| p.css.as_deref() == n) {
                return used(format!("pattern {}/{}", p.partition, p.pattern));
            }
        }
        Kind::Device => {
            if let Some(u) = data
                .users
                .values()
                .find(|u| u.associated_devices.iter().any(|d| d == name))
            {
                return used(format!("user {} (associated_devices)", u.id));
            }
            if let Some(l) = data.lines.values().find(|l| l.device == name) {
                return used(format!("line {}/{}", l.partition, l.dn));
            }
            if let Some(r) = data.remote_destinations.values().find(|r| r.device == name) {
                return used(format!("remote_destination {}/{}", r.device, r.name));
            }
        }
        Kind::Trunk => {
            if let Some(g) = data
                .route_groups
                .values()
                .find(|g| g.trunks.iter().any(|t| t == name))
            {
                return used(format!("route_group {}", g.name));
            }
        }
        Kind::RouteGroup => {
            if let Some(l) = data
                .route_lists
                .values()
                .find(|l| l.groups.iter().any(|g| g == name))
            {
                return used(format!("route_list {}", l.name));
            }
        }
        Kind::RouteList => {
            if let Some(p) = data
                .patterns
                .values()
                .find(|p| p.route_list.as_deref() == Some(name))
            {
                return used(format!("pattern {}/{}", p.partition, p.pattern));
            }
        }
        _ => {}
    }
    None
}
