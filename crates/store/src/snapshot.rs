//! The read-only view the call path uses. Built from a [`Provisioning`] once per committed write
//! and swapped in atomically, so a call never waits on the database and never sees half a write.
//!
//! Building a snapshot is also where the provisioning invariants are checked (`rules.rs`): a
//! snapshot that exists is a data set that obeys every rule.

use std::collections::HashMap;

use tether_dialplan::{
    AnalysisError, DialPlan, DialPlanBuilder, Entry, NumberKey, NumberingPlan,
    Pattern as DialPattern, RouteGroup as PlanRouteGroup, RouteList as PlanRouteList, Target,
    Transform,
};

use crate::error::{Code, Violation};
use crate::model::{Device, Line, PatternKind, RemoteDestination, Transformation, User};
use crate::provisioning::Provisioning;
use crate::rules::{self, RdKey};

type Pair = (String, String);

/// Provisioning plus the indexes the call path looks things up by.
#[derive(Clone, Debug)]
pub struct Snapshot {
    data: Provisioning,
    numbering: NumberingPlan,
    plan: DialPlan,
    /// Equivalence key of every RD number → (device, RD name).
    rd_by_number: HashMap<RdKey, RemoteDestination>,
    /// Equivalence key of every DN and E.164 alias → (partition, dn).
    line_by_number: HashMap<NumberKey, Line>,
    /// Directory URI (lower case) → (partition, dn).
    line_by_uri: HashMap<String, Line>,
    /// Device → its lines' keys, by position.
    lines_by_device: HashMap<String, Vec<Pair>>,
    /// Device → its RD names.
    rds_by_device: HashMap<String, Vec<String>>,
    /// SIP digest user name → device.
    device_by_sip_user: HashMap<String, String>,
    /// Dial rules by priority (then name).
    dial_rules: Vec<tether_dialplan::DialRule>,
    version: u64,
}

impl Snapshot {
    /// An empty data set.
    pub fn empty(numbering: NumberingPlan) -> Snapshot {
        // No external input reaches this: an empty data set breaks no rule.
        Snapshot::build(Provisioning::default(), numbering, 0)
            .expect("an empty provisioning data set is valid")
    }

    /// Checks every rule and builds the indexes and the dial plan; lists every violation found.
    pub fn build(
        data: Provisioning,
        numbering: NumberingPlan,
        version: u64,
    ) -> Result<Snapshot, Vec<Violation>> {
        let mut v = Vec::new();
        rules::check_objects(&data, &numbering, &mut v);

        let mut lines_by_device: HashMap<String, Vec<Pair>> = HashMap::new();
        let mut line_by_number: HashMap<NumberKey, Pair> = HashMap::new();
        let mut line_by_uri: HashMap<String, Pair> = HashMap::new();
        for (key, line) in data.lines.iter() {
            lines_by_device
                .entry(line.device.clone())
                .or_default()
                .push(key.clone());
            for number in std::iter::once(&line.dn).chain(line.e164.iter()) {
                if let Ok(k) = numbering.equivalence_key(number) {
                    if let Some(other) = line_by_number.get(&k) {
                        if other != key && !(other.1 == line.dn && number == &line.dn) {
                            // The same DN in two partitions is allowed (partitions exist for
                            // that); the same E.164 alias on two lines is not.
                            if line.e164.as_deref() == Some(number.as_str()) {
                                v.push(
                                    Violation::new(
                                        Code::DuplicateDirectoryNumber,
                                        Some("e164"),
                                        format!(
                                            "E.164 alias {number} is already used by line {}/{}",
                                            other.0, other.1
                                        ),
                                    )
                                    .on(format!("line {}/{}", key.0, key.1)),
                                );
                            }
                        }
                    } else {
                        line_by_number.insert(k, key.clone());
                    }
                }
            }
            if let Some(uri) = &line.directory_uri {
                let lower = uri.to_ascii_lowercase();
                if let Some(other) = line_by_uri.insert(lower, key.clone()) {
                    v.push(
                        Violation::new(
                            Code::DuplicateDirectoryNumber,
                            Some("directory_uri"),
                            format!(
                                "directory URI {uri} is already used by line {}/{}",
                                other.0, other.1
                            ),
                        )
                        .on(format!("line {}/{}", key.0, key.1)),
                    );
                }
            }
        }
        for lines in lines_by_device.values_mut() {
            lines.sort_by_key(|k| data.lines.get(k).map(|l| l.position).unwrap_or(0));
        }
        rules::check_lines_per_device(&data, &lines_by_device, &mut v);

        let mut rds_by_device: HashMap<String, Vec<String>> = HashMap::new();
        let mut rd_by_number: HashMap<RdKey, Pair> = HashMap::new();
        for (key, rd) in data.remote_destinations.iter() {
            rds_by_device
                .entry(rd.device.clone())
                .or_default()
                .push(rd.name.clone());
            let what = format!("remote_destination {}/{}", key.0, key.1);
            let number_key = match rules::rd_number_key(&numbering, &rd.number) {
                Ok(k) => k,
                Err(e) => {
                    v.push(e.on(what));
                    continue;
                }
            };
            if let Some(line) = match &number_key {
                RdKey::Number(k) => line_by_number.get(k),
                RdKey::Uri(_) => None,
            } {
                v.push(
                    Violation::new(
                        Code::RdIsDirectoryNumber,
                        Some("number"),
                        format!("{} is directory number {} in partition {}; a DN can never be a remote destination", rd.number, line.1, line.0),
                    )
                    .on(what.clone()),
                );
            }
            if let Some(other) = rd_by_number.get(&number_key) {
                v.push(
                    Violation::new(
                        Code::DuplicateRemoteDestination,
                        Some("number"),
                        format!(
                            "{} is the same number as remote destination {} of device {}",
                            rd.number, other.1, other.0
                        ),
                    )
                    .on(what),
                );
            } else {
                rd_by_number.insert(number_key, key.clone());
            }
        }
        rules::check_rds_per_device(&data, &rds_by_device, &mut v);

        let mut device_by_sip_user = HashMap::new();
        for d in data.devices.values() {
            if let Some(u) = &d.sip_username {
                if let Some(other) = device_by_sip_user.insert(u.clone(), d.name.clone()) {
                    v.push(
                        Violation::new(
                            Code::AlreadyExists,
                            Some("sip_username"),
                            format!("SIP user name {u} is already used by device {other}"),
                        )
                        .on(format!("device {}", d.name)),
                    );
                }
            }
        }

        let plan = build_plan(&data, &mut v);
        let mut dial_rules: Vec<_> = data.dial_rules.values().map(to_plan_rule).collect();
        dial_rules.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then_with(|| a.name.cmp(&b.name))
        });

        if !v.is_empty() {
            return Err(v);
        }
        let Some(plan) = plan else {
            return Err(vec![Violation::new(
                Code::InvalidField,
                None,
                "the dial plan does not build",
            )]);
        };
        // The call path's indexes hold copies of the values: one hash lookup per question.
        let rd_by_number = resolve(rd_by_number, &data.remote_destinations);
        let line_by_number = resolve(line_by_number, &data.lines);
        let line_by_uri = resolve(line_by_uri, &data.lines);
        Ok(Snapshot {
            data,
            numbering,
            plan,
            rd_by_number,
            line_by_number,
            line_by_uri,
            lines_by_device,
            rds_by_device,
            device_by_sip_user,
            dial_rules,
            version,
        })
    }

    pub fn data(&self) -> &Provisioning {
        &self.data
    }
    pub fn plan(&self) -> &DialPlan {
        &self.plan
    }
    pub fn numbering(&self) -> &NumberingPlan {
        &self.numbering
    }
    /// Increases by one with every committed write.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.data.users.get(id)
    }
    pub fn device(&self, name: &str) -> Option<&Device> {
        self.data.devices.get(name)
    }
    pub fn line(&self, partition: &str, dn: &str) -> Option<&Line> {
        self.data.lines.get(&(partition.to_owned(), dn.to_owned()))
    }
    /// The device's lines by button position.
    pub fn lines_of<'a>(&'a self, device: &str) -> impl Iterator<Item = &'a Line> + 'a {
        self.lines_by_device
            .get(device)
            .into_iter()
            .flatten()
            .filter_map(|k| self.data.lines.get(k))
    }
    /// The device's remote destinations.
    pub fn remote_destinations_of<'a>(
        &'a self,
        device: &'a str,
    ) -> impl Iterator<Item = &'a RemoteDestination> + 'a {
        self.rds_by_device
            .get(device)
            .into_iter()
            .flatten()
            .filter_map(move |n| {
                self.data
                    .remote_destinations
                    .get(&(device.to_owned(), n.clone()))
            })
    }
    /// The remote destination whose number is equivalent to `number` (any dialing form).
    pub fn remote_destination_by_number(&self, number: &str) -> Option<&RemoteDestination> {
        let key = rules::rd_number_key(&self.numbering, number).ok()?;
        self.rd_by_number.get(&key)
    }
    /// The line whose DN or E.164 alias is equivalent to `number`.
    pub fn line_by_number(&self, number: &str) -> Option<&Line> {
        let key = self.numbering.equivalence_key(number).ok()?;
        self.line_by_number.get(&key)
    }
    /// The line with directory URI `uri` (case-insensitive).
    pub fn line_by_uri(&self, uri: &str) -> Option<&Line> {
        self.line_by_uri.get(&uri.to_ascii_lowercase())
    }
    /// The SIP phone that authenticates as `user`.
    pub fn device_by_sip_user(&self, user: &str) -> Option<&Device> {
        self.data.devices.get(self.device_by_sip_user.get(user)?)
    }
    /// Applies the application dial rules to an RD number.
    pub fn apply_dial_rules(&self, number: &str) -> String {
        tether_dialplan::apply_dial_rules(&self.dial_rules, number)
    }
    /// Digit analysis through `css`.
    pub fn analyze(
        &self,
        css: &str,
        calling: &str,
        called: &str,
    ) -> Result<tether_dialplan::Analysis, AnalysisError> {
        self.plan.analyze(css, calling, called)
    }
    pub fn password_hash(&self, user: &str) -> Option<&str> {
        self.data.password_hashes.get(user).map(String::as_str)
    }
}

fn resolve<K: std::hash::Hash + Eq, V: Clone>(
    index: HashMap<K, Pair>,
    table: &std::collections::BTreeMap<Pair, V>,
) -> HashMap<K, V> {
    index
        .into_iter()
        .filter_map(|(k, p)| table.get(&p).cloned().map(|v| (k, v)))
        .collect()
}

pub(crate) fn to_plan_rule(r: &crate::model::DialRule) -> tether_dialplan::DialRule {
    tether_dialplan::DialRule {
        name: r.name.clone(),
        begins_with: r.begins_with.clone(),
        num_digits: r.num_digits,
        digits_to_remove: r.digits_to_remove,
        prefix: r.prefix.clone(),
        priority: r.priority,
    }
}

pub(crate) fn to_transform(t: &Transformation) -> Transform {
    Transform {
        discard_predot: t.discard_predot,
        prefix: t.prefix.clone(),
        mask: t.mask.clone(),
    }
}

/// A DN or E.164 alias as a literal pattern (`+` is a pattern operator, so it is escaped).
pub(crate) fn dn_pattern(dn: &str) -> String {
    match dn.strip_prefix('+') {
        Some(rest) => format!("\\+{rest}"),
        None => dn.to_owned(),
    }
}

fn build_plan(data: &Provisioning, v: &mut Vec<Violation>) -> Option<DialPlan> {
    let mut b = DialPlanBuilder::new();
    for p in data.partitions.keys() {
        b.partition(p);
    }
    for css in data.css.values() {
        b.css(&css.name, css.partitions.clone());
    }
    for g in data.route_groups.values() {
        b.route_group(PlanRouteGroup {
            name: g.name.clone(),
            trunks: g.trunks.clone(),
        });
    }
    for l in data.route_lists.values() {
        b.route_list(PlanRouteList {
            name: l.name.clone(),
            groups: l.groups.clone(),
        });
    }
    // Route and translation patterns first, so a DN that collides with one is the one reported.
    let mut taken = std::collections::HashSet::new();
    for p in data.patterns.values() {
        let Ok(pattern) = DialPattern::parse(&p.pattern) else {
            continue; // reported by rules::check_objects
        };
        let target = match p.kind {
            PatternKind::Route => match &p.route_list {
                Some(rl) => Target::Route {
                    route_list: rl.clone(),
                },
                None => continue,
            },
            PatternKind::Translation => match &p.css {
                Some(css) => Target::Translation { css: css.clone() },
                None => continue,
            },
            PatternKind::Block => Target::Block,
        };
        taken.insert((p.partition.clone(), pattern.as_str().to_owned()));
        b.entry(Entry {
            pattern,
            partition: p.partition.clone(),
            target,
            called: to_transform(&p.called),
            calling: to_transform(&p.calling),
        });
    }
    for line in data.lines.values() {
        for number in std::iter::once(&line.dn).chain(line.e164.iter()) {
            let text = dn_pattern(number);
            let Ok(pattern) = DialPattern::parse(&text) else {
                continue; // reported by rules::check_objects
            };
            if !taken.insert((line.partition.clone(), pattern.as_str().to_owned())) {
                v.push(
                    Violation::new(
                        Code::DuplicateDirectoryNumber,
                        Some("dn"),
                        format!(
                            "{number} is already a directory number or pattern in partition {}",
                            line.partition
                        ),
                    )
                    .on(format!("line {}/{}", line.partition, line.dn)),
                );
                continue;
            }
            b.entry(Entry {
                pattern,
                partition: line.partition.clone(),
                target: Target::Line {
                    device: line.device.clone(),
                },
                called: Transform::default(),
                calling: Transform::default(),
            });
        }
    }
    match b.build() {
        Ok(plan) => Some(plan),
        Err(e) => {
            if v.is_empty() {
                v.push(Violation::new(
                    Code::InvalidField,
                    None,
                    format!("dial plan: {e}"),
                ));
            }
            None
        }
    }
}
