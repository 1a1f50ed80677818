//! The whole provisioning data set in memory, one ordered table per kind of object.
//!
//! Tables sit behind `Arc`s so that copying the data set for a write only copies the tables the
//! write touches. This room stores and retrieves; it checks nothing (see `rules.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::{
    Announcement, Css, Device, DialRule, Key, Kind, Line, Object, Partition, Pattern,
    RemoteDestination, RouteGroup, RouteList, Trunk, User,
};

type Pair = (String, String);

#[derive(Clone, Debug, Default)]
pub struct Provisioning {
    pub users: Arc<BTreeMap<String, User>>,
    pub partitions: Arc<BTreeMap<String, Partition>>,
    pub css: Arc<BTreeMap<String, Css>>,
    pub devices: Arc<BTreeMap<String, Device>>,
    pub lines: Arc<BTreeMap<Pair, Line>>,
    pub remote_destinations: Arc<BTreeMap<Pair, RemoteDestination>>,
    pub trunks: Arc<BTreeMap<String, Trunk>>,
    pub route_groups: Arc<BTreeMap<String, RouteGroup>>,
    pub route_lists: Arc<BTreeMap<String, RouteList>>,
    pub patterns: Arc<BTreeMap<Pair, Pattern>>,
    pub dial_rules: Arc<BTreeMap<String, DialRule>>,
    pub announcements: Arc<BTreeMap<String, Announcement>>,
    /// Argon2 PHC strings of user passwords, by user id (never part of `User` values).
    pub password_hashes: Arc<BTreeMap<String, String>>,
}

fn one(key: &Key) -> Option<&str> {
    match key {
        Key::One(a) => Some(a),
        Key::Two(..) => None,
    }
}

fn two(key: &Key) -> Option<Pair> {
    match key {
        Key::Two(a, b) => Some((a.clone(), b.clone())),
        Key::One(_) => None,
    }
}

macro_rules! dispatch {
    ($self:ident, $kind:expr, $key:expr, |$t:ident, $k:ident| one => $one:expr, two => $two:expr) => {
        match $kind {
            Kind::User => {
                let $t = &$self.users;
                one($key).and_then(|$k| $one.map(|o| Object::User(o.clone())))
            }
            Kind::Partition => {
                let $t = &$self.partitions;
                one($key).and_then(|$k| $one.map(|o| Object::Partition(o.clone())))
            }
            Kind::Css => {
                let $t = &$self.css;
                one($key).and_then(|$k| $one.map(|o| Object::Css(o.clone())))
            }
            Kind::Device => {
                let $t = &$self.devices;
                one($key).and_then(|$k| $one.map(|o| Object::Device(o.clone())))
            }
            Kind::Trunk => {
                let $t = &$self.trunks;
                one($key).and_then(|$k| $one.map(|o| Object::Trunk(o.clone())))
            }
            Kind::RouteGroup => {
                let $t = &$self.route_groups;
                one($key).and_then(|$k| $one.map(|o| Object::RouteGroup(o.clone())))
            }
            Kind::RouteList => {
                let $t = &$self.route_lists;
                one($key).and_then(|$k| $one.map(|o| Object::RouteList(o.clone())))
            }
            Kind::DialRule => {
                let $t = &$self.dial_rules;
                one($key).and_then(|$k| $one.map(|o| Object::DialRule(o.clone())))
            }
            Kind::Announcement => {
                let $t = &$self.announcements;
                one($key).and_then(|$k| $one.map(|o| Object::Announcement(o.clone())))
            }
            Kind::Line => {
                let $t = &$self.lines;
                two($key).and_then(|$k| $two.map(|o| Object::Line(o.clone())))
            }
            Kind::RemoteDestination => {
                let $t = &$self.remote_destinations;
                two($key).and_then(|$k| $two.map(|o| Object::RemoteDestination(o.clone())))
            }
            Kind::Pattern => {
                let $t = &$self.patterns;
                two($key).and_then(|$k| $two.map(|o| Object::Pattern(o.clone())))
            }
        }
    };
}

impl Provisioning {
    /// The object of `kind` with `key`, if any.
    pub fn get(&self, kind: Kind, key: &Key) -> Option<Object> {
        dispatch!(self, kind, key, |t, k| one => t.get(k), two => t.get(&k))
    }

    pub fn contains(&self, kind: Kind, key: &Key) -> bool {
        self.get(kind, key).is_some()
    }

    /// Every object of `kind`, in key order.
    pub fn list(&self, kind: Kind) -> Vec<Object> {
        match kind {
            Kind::User => self.users.values().cloned().map(Object::User).collect(),
            Kind::Partition => self
                .partitions
                .values()
                .cloned()
                .map(Object::Partition)
                .collect(),
            Kind::Css => self.css.values().cloned().map(Object::Css).collect(),
            Kind::Device => self.devices.values().cloned().map(Object::Device).collect(),
            Kind::Line => self.lines.values().cloned().map(Object::Line).collect(),
            Kind::RemoteDestination => self
                .remote_destinations
                .values()
                .cloned()
                .map(Object::RemoteDestination)
                .collect(),
            Kind::Trunk => self.trunks.values().cloned().map(Object::Trunk).collect(),
            Kind::RouteGroup => self
                .route_groups
                .values()
                .cloned()
                .map(Object::RouteGroup)
                .collect(),
            Kind::RouteList => self
                .route_lists
                .values()
                .cloned()
                .map(Object::RouteList)
                .collect(),
            Kind::Pattern => self
                .patterns
                .values()
                .cloned()
                .map(Object::Pattern)
                .collect(),
            Kind::DialRule => self
                .dial_rules
                .values()
                .cloned()
                .map(Object::DialRule)
                .collect(),
            Kind::Announcement => self
                .announcements
                .values()
                .cloned()
                .map(Object::Announcement)
                .collect(),
        }
    }

    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::User => self.users.len(),
            Kind::Partition => self.partitions.len(),
            Kind::Css => self.css.len(),
            Kind::Device => self.devices.len(),
            Kind::Line => self.lines.len(),
            Kind::RemoteDestination => self.remote_destinations.len(),
            Kind::Trunk => self.trunks.len(),
            Kind::RouteGroup => self.route_groups.len(),
            Kind::RouteList => self.route_lists.len(),
            Kind::Pattern => self.patterns.len(),
            Kind::DialRule => self.dial_rules.len(),
            Kind::Announcement => self.announcements.len(),
        }
    }

    /// Inserts or replaces; returns the previous object with that key.
    pub fn put(&mut self, object: Object) -> Option<Object> {
        match object {
            Object::User(mut o) => {
                // Passwords never live in `User` values; the caller moved it to `password_hashes`.
                o.password = None;
                Arc::make_mut(&mut self.users)
                    .insert(o.id.clone(), o)
                    .map(Object::User)
            }
            Object::Partition(o) => Arc::make_mut(&mut self.partitions)
                .insert(o.name.clone(), o)
                .map(Object::Partition),
            Object::Css(o) => Arc::make_mut(&mut self.css)
                .insert(o.name.clone(), o)
                .map(Object::Css),
            Object::Device(o) => Arc::make_mut(&mut self.devices)
                .insert(o.name.clone(), o)
                .map(Object::Device),
            Object::Line(o) => Arc::make_mut(&mut self.lines)
                .insert((o.partition.clone(), o.dn.clone()), o)
                .map(Object::Line),
            Object::RemoteDestination(o) => Arc::make_mut(&mut self.remote_destinations)
                .insert((o.device.clone(), o.name.clone()), o)
                .map(Object::RemoteDestination),
            Object::Trunk(o) => Arc::make_mut(&mut self.trunks)
                .insert(o.name.clone(), o)
                .map(Object::Trunk),
            Object::RouteGroup(o) => Arc::make_mut(&mut self.route_groups)
                .insert(o.name.clone(), o)
                .map(Object::RouteGroup),
            Object::RouteList(o) => Arc::make_mut(&mut self.route_lists)
                .insert(o.name.clone(), o)
                .map(Object::RouteList),
            Object::Pattern(o) => Arc::make_mut(&mut self.patterns)
                .insert((o.partition.clone(), o.pattern.clone()), o)
                .map(Object::Pattern),
            Object::DialRule(o) => Arc::make_mut(&mut self.dial_rules)
                .insert(o.name.clone(), o)
                .map(Object::DialRule),
            Object::Announcement(o) => Arc::make_mut(&mut self.announcements)
                .insert(o.id.clone(), o)
                .map(Object::Announcement),
        }
    }

    /// Removes; returns the removed object.
    pub fn remove(&mut self, kind: Kind, key: &Key) -> Option<Object> {
        match kind {
            Kind::User => {
                let id = one(key)?;
                Arc::make_mut(&mut self.password_hashes).remove(id);
                Arc::make_mut(&mut self.users).remove(id).map(Object::User)
            }
            Kind::Partition => Arc::make_mut(&mut self.partitions)
                .remove(one(key)?)
                .map(Object::Partition),
            Kind::Css => Arc::make_mut(&mut self.css)
                .remove(one(key)?)
                .map(Object::Css),
            Kind::Device => Arc::make_mut(&mut self.devices)
                .remove(one(key)?)
                .map(Object::Device),
            Kind::Line => Arc::make_mut(&mut self.lines)
                .remove(&two(key)?)
                .map(Object::Line),
            Kind::RemoteDestination => Arc::make_mut(&mut self.remote_destinations)
                .remove(&two(key)?)
                .map(Object::RemoteDestination),
            Kind::Trunk => Arc::make_mut(&mut self.trunks)
                .remove(one(key)?)
                .map(Object::Trunk),
            Kind::RouteGroup => Arc::make_mut(&mut self.route_groups)
                .remove(one(key)?)
                .map(Object::RouteGroup),
            Kind::RouteList => Arc::make_mut(&mut self.route_lists)
                .remove(one(key)?)
                .map(Object::RouteList),
            Kind::Pattern => Arc::make_mut(&mut self.patterns)
                .remove(&two(key)?)
                .map(Object::Pattern),
            Kind::DialRule => Arc::make_mut(&mut self.dial_rules)
                .remove(one(key)?)
                .map(Object::DialRule),
            Kind::Announcement => Arc::make_mut(&mut self.announcements)
                .remove(one(key)?)
                .map(Object::Announcement),
        }
    }

    /// Lines of `device`, by button position.
    pub fn lines_of<'a>(&'a self, device: &'a str) -> impl Iterator<Item = &'a Line> + 'a {
        self.lines.values().filter(move |l| l.device == device)
    }
}
